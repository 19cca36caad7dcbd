import { describe, expect, it } from 'vitest';
import { runtimesStoppedAfterEach } from '../specHelpers/runtimes.js';
import { defineActor } from '../actor/index.js';
import { InvalidDecisionError } from '../errors/index.js';
import { ManualClock } from '../ids/index.js';
import { ReplicationLink, Replicator } from '../replication/index.js';
import { MemoryStore } from '../store/index.js';
import { Ledger, type LedgerState } from '../testkit/ledger.js';

/**
 * The entity: one live actor's cached state, how it decides a command against the store's head,
 * what it writes, and how it answers a command id it has seen. Regression ids (R1...) name the
 * review findings each test failed on before its fix.
 */

const ref = Ledger.ref('acc');

const start = runtimesStoppedAfterEach();

describe('deciding on the current head', () => {
  // R1: a fast-forward by replication (one head, nothing to resolve) left the cached state in place.
  it('decides on the store head, not on a cached state that replication has moved past', async () => {
    const clock = new ManualClock();
    const r0 = start({ actors: [Ledger], replicaId: 'r0', machineId: 0, clock, store: new MemoryStore() });
    const r1 = start({ actors: [Ledger], replicaId: 'r1', machineId: 1, clock, store: new MemoryStore() });
    await r1.inspect(ref); // r1's entity is live with the empty state cached
    await r0.send(ref, { type: 'deposit', payload: { n: 100 } });
    await new Replicator(r0, r1).sync(); // fast-forward at r1: one head, no resolution
    const reply = await r1.send(ref, { type: 'withdraw', payload: { n: 50 } });
    expect(reply.status).toBe('accepted');
    expect((await r1.inspect<LedgerState>(ref)).state.balance).toBe(50);
  });

  // R5: an event type inherited from Object.prototype ('constructor') was taken for a declared one.
  it('refuses an emitted event type named like an Object.prototype member with InvalidDecisionError, and writes nothing', async () => {
    const Bad = defineActor({
      type: 'bad',
      initial: () => ({ n: 1 }),
      commands: { go: () => [{ type: 'constructor', data: {} } as never], ok: () => [] as never[] },
      events: { fine: (s: { n: number }) => s },
    });
    const store = new MemoryStore();
    const rt = start({ actors: [Bad], store });
    const error = await rt.send(Bad.ref('x'), { type: 'go', payload: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidDecisionError);
    expect(error).toMatchObject({ code: 'INVALID_DECISION', actorType: 'bad', command: 'go' });
    expect((error as Error).message).toContain("'constructor'");
    expect(store.packCount).toBe(0);
  });
});

describe('answering a command id seen before', () => {
  // R6: a retried command accepted on both sides of a partition; the merge keeps one copy.
  it('after a merge, answers a command id applied on two branches with the copy the merge kept, on every replica', async () => {
    const clock = new ManualClock();
    const r0 = start({ actors: [Ledger], replicaId: 'r0', machineId: 0, clock, store: new MemoryStore() });
    const r1 = start({ actors: [Ledger], replicaId: 'r1', machineId: 1, clock, store: new MemoryStore() });
    const link = new ReplicationLink(r0, r1);
    await r0.send(ref, { type: 'deposit', payload: { n: 1 } });
    await link.settle();
    link.partition();
    await r0.send(ref, { type: 'deposit', payload: { n: 7 }, commandId: 'X' });
    clock.advance(1);
    await r1.send(ref, { type: 'deposit', payload: { n: 7 }, commandId: 'X' });
    link.heal();
    await link.settle();
    const a = await r0.send(ref, { type: 'deposit', payload: { n: 7 }, commandId: 'X' });
    const b = await r1.send(ref, { type: 'deposit', payload: { n: 7 }, commandId: 'X' });
    const applied = new Set((await r0.inspect<LedgerState>(ref)).state.applied);
    const ids = (reply: typeof a) =>
      reply.status === 'accepted' ? reply.events.map((e) => `${e.id}${applied.has(e.id) ? '(in history)' : '(DROPPED)'}`) : [];
    expect(ids(b)).toEqual(ids(a));
    expect(ids(a)).toHaveLength(1);
    expect(ids(a)[0]).toMatch(/in history/);
  });

  // R13: with checkDuplicate: false the id was not looked up again after an append conflict.
  it('after an append conflict, finds a command the store already holds under its id instead of applying it again, even when the caller said it was new', async () => {
    // Two workers sharing one store, both given the same message (a connection drop): the first
    // applies it; the second decided on a stale cache, meets an append conflict, and must find
    // the command instead of re-deciding it (checkDuplicate: false is what the bus sends first).
    const store = new MemoryStore();
    const a = start({ actors: [Ledger], replicaId: 'w', machineId: 1, store });
    const b = start({ actors: [Ledger], replicaId: 'w', machineId: 2, store });
    await b.inspect(ref); // b's entity is live with the empty state cached
    const first = await a.send(ref, { type: 'deposit', payload: { n: 5 }, commandId: 'c1', checkDuplicate: false });
    const second = await b.send(ref, { type: 'deposit', payload: { n: 5 }, commandId: 'c1', checkDuplicate: false });
    expect(first).toMatchObject({ status: 'accepted', duplicate: false });
    expect(second).toMatchObject({ status: 'accepted', duplicate: true });
    expect(await store.commandVersions(ref, 'c1')).toHaveLength(1);
    expect((await a.inspect<LedgerState>(ref)).state.balance).toBe(5);
  });
});

describe('snapshots', () => {
  // R14: only events counted, so packs of event-less commands piled up and every load read them all (I6).
  it('counts a command that emitted no event as one toward snapshotEvery: a load reads at most snapshotEvery packs', async () => {
    // A command that emits nothing still writes a pack (its id is recorded).
    const Touch = defineActor({
      type: 'touch',
      initial: () => ({ n: 0 }),
      commands: { touch: () => [], add: () => [{ type: 'added', data: {} }] },
      events: { added: (s: { n: number }) => ({ n: s.n + 1 }) },
      snapshotEvery: 3,
    });
    const store = new MemoryStore();
    const chainLengths: number[] = [];
    const counting = Object.assign(Object.create(store) as MemoryStore, {
      loadChain: async (actor: Parameters<MemoryStore['loadChain']>[0], key: string) => {
        const chain = await store.loadChain(actor, key);
        chainLengths.push(chain.packs.length);
        return chain;
      },
    });
    const touch = Touch.ref('t');
    const writer = start({ actors: [Touch], store: counting });
    for (let i = 0; i < 10; i++) await writer.send(touch, { type: 'touch', payload: {} });
    await writer.send(touch, { type: 'add', payload: {} });
    await writer.stop();
    // A fresh runtime (nothing cached) loads the actor from the store.
    const reader = start({ actors: [Touch], store: counting });
    expect((await reader.inspect<{ n: number }>(touch)).state.n).toBe(1);
    expect(chainLengths.length).toBeGreaterThan(0);
    expect(Math.max(...chainLengths)).toBeLessThanOrEqual(3);
  });
});
