import { describe, expect, it } from 'vitest';
import {
  ManualClock,
  MemoryStore,
  ReplicationLink,
  Replicator,
  createRuntime,
  defineActor,
  machineIdFor,
  InvalidDefinitionError,
  reject,
  type Runtime,
  VersionCollisionError,
} from '../index.js';
import { Ledger, type LedgerState } from '../testkit/ledger.js';

const ref = Ledger.ref('acc');

/** Regressions found by review: each case failed before its fix. */
describe('regressions', () => {
  it('R1 a rejection is never decided on a cached state older than the store head', async () => {
    const clock = new ManualClock();
    const r0 = createRuntime({ actors: [Ledger], replicaId: 'r0', machineId: 0, clock, store: new MemoryStore() });
    const r1 = createRuntime({ actors: [Ledger], replicaId: 'r1', machineId: 1, clock, store: new MemoryStore() });
    await r1.inspect(ref); // r1's entity is live with the empty state cached
    await r0.send(ref, { type: 'deposit', payload: { n: 100 } });
    await new Replicator(r0, r1).sync(); // fast-forward at r1: one head, no resolve, cache not invalidated
    const reply = await r1.send(ref, { type: 'withdraw', payload: { n: 50 } });
    const view = await r1.inspect<LedgerState>(ref);
    await Promise.all([r0.stop(), r1.stop()]);
    expect(reply.status).toBe('accepted');
  });

  it('R2 colliding default machine ids (region-0 / region-39) lose no event in a merge', async () => {
    expect(machineIdFor('region-0')).toBe(machineIdFor('region-39'));
    const clock = new ManualClock();
    const a = createRuntime({ actors: [Ledger], replicaId: 'region-0', clock, store: new MemoryStore() });
    const b = createRuntime({ actors: [Ledger], replicaId: 'region-39', clock, store: new MemoryStore() });
    const link = new ReplicationLink(a, b);
    link.partition();
    const ra = await a.send(ref, { type: 'deposit', payload: { n: 1 }, commandId: 'A' });
    const rb = await b.send(ref, { type: 'deposit', payload: { n: 2 }, commandId: 'B' });
    link.heal();
    await link.settle();
    const va = await a.inspect<LedgerState>(ref);
    const vb = await b.inspect<LedgerState>(ref);
    await Promise.all([a.stop(), b.stop()]);
    expect(va.state.balance).toBe(3);
  });

  it('R3 a resolution that failed is retried by the next sync', async () => {
    const clock = new ManualClock();
    const r0 = createRuntime({ actors: [Ledger], replicaId: 'r0', machineId: 0, clock, store: new MemoryStore() });
    const r1 = createRuntime({ actors: [Ledger], replicaId: 'r1', machineId: 1, clock, store: new MemoryStore() });
    let failOnce = true;
    const flaky = {
      store: r1.store,
      resolve: async (actor: typeof ref) => {
        if (failOnce) {
          failOnce = false;
          throw new Error('transient store error');
        }
        return r1.resolve(actor);
      },
    };
    const rep = new Replicator(r0, flaky);
    await r0.send(ref, { type: 'deposit', payload: { n: 1 } });
    await r1.send(ref, { type: 'deposit', payload: { n: 2 } });
    const first = await rep.sync();
    expect(first.failed.map((f) => String((f.error as Error).message))).toEqual(['transient store error']);
    const again = await rep.sync();
    expect(again.resolved).toEqual([ref]);
    const heads = (await r1.store.heads(ref)).length;
    await Promise.all([r0.stop(), r1.stop()]);
    expect(heads).toBe(1);
  });

  it('R4 a payload mutated after send() does not change what is decided', async () => {
    const Acc = defineActor({
      type: 'acc',
      initial: () => ({ balance: 0 }),
      commands: { deposit: (_s, p: { amount: number }) => [{ type: 'deposited', data: { amount: p.amount } }] },
      events: { deposited: (s: { balance: number }, d: { amount: number }) => ({ balance: s.balance + d.amount }) },
      validate: { deposit: (p) => (typeof (p as { amount?: unknown }).amount === 'number' && (p as { amount: number }).amount > 0 ? undefined : 'amount must be > 0') },
    });
    const rt = createRuntime({ actors: [Acc], store: new MemoryStore() });
    const payload = { amount: 10 };
    const sent = rt.send(Acc.ref('x'), { type: 'deposit', payload });
    payload.amount = 999;
    const reply = await sent;
    const view = await rt.inspect<{ balance: number }>(Acc.ref('x'));
    await rt.stop();
    expect(view.state.balance).toBe(10); // mutated to a VALID 999 after send
  });

  it('R5 an event type named like an Object.prototype member is refused', async () => {
    const Bad = defineActor({
      type: 'bad',
      initial: () => ({ n: 1 }),
      commands: { go: () => [{ type: 'constructor', data: {} } as never], ok: () => [] as never[] },
      events: { fine: (s: { n: number }) => s },
    });
    const store = new MemoryStore();
    const rt = createRuntime({ actors: [Bad], store });
    const r = await rt.send(Bad.ref('x'), { type: 'go', payload: {} }).catch((e) => e);
    await rt.stop();
    expect(store.packCount).toBe(0);
  });

  it('R6 a command id applied on two branches is answered the same everywhere after the merge, with the kept copy', async () => {
    const clock = new ManualClock();
    const mk = (id: string, m: number): Runtime => createRuntime({ actors: [Ledger], replicaId: id, machineId: m, clock, store: new MemoryStore() });
    const r0 = mk('r0', 0);
    const r1 = mk('r1', 1);
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
    const ids = (x: typeof a) => (x.status === 'accepted' ? x.events.map((e) => `${e.id}${applied.has(e.id) ? '(in history)' : '(DROPPED)'}`) : []);
    await Promise.all([r0.stop(), r1.stop()]);
    expect(ids(b)).toEqual(ids(a));
    expect(ids(a)).toHaveLength(1);
    expect(ids(a)[0]).toMatch(/in history/);
  });

  it('R8 two replicas left at the default replicaId: replication fails loudly with VersionCollisionError', async () => {
    const a = createRuntime({ actors: [Ledger], store: new MemoryStore() });
    const b = createRuntime({ actors: [Ledger], store: new MemoryStore() });
    const link = new ReplicationLink(a, b);
    await a.send(ref, { type: 'deposit', payload: { n: 1 } });
    await b.send(ref, { type: 'deposit', payload: { n: 2 } });
    await expect(link.settle()).rejects.toBeInstanceOf(VersionCollisionError);
    await expect(link.settle()).rejects.toThrow(/replicaId/);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('R9 an event handler that throws during a merge gives an error that names it and says why', async () => {
    const Strict = defineActor({
      type: 'strict',
      initial: () => ({ balance: 0 }),
      commands: {
        deposit: (_s, p: { n: number }) => [{ type: 'deposited', data: { n: p.n } }],
        withdraw: (s, p: { n: number }) => (s.balance >= p.n ? [{ type: 'withdrew', data: { n: p.n } }] : reject('no')),
      },
      events: {
        deposited: (s: { balance: number }, d: { n: number }) => ({ balance: s.balance + d.n }),
        withdrew: (s: { balance: number }, d: { n: number }) => {
          if (s.balance < d.n) throw new Error('invariant: balance would go negative');
          return { balance: s.balance - d.n };
        },
      },
    });
    const clock = new ManualClock();
    const r0 = createRuntime({ actors: [Strict], replicaId: 'r0', machineId: 0, clock, store: new MemoryStore() });
    const r1 = createRuntime({ actors: [Strict], replicaId: 'r1', machineId: 1, clock, store: new MemoryStore() });
    const link = new ReplicationLink(r0, r1);
    const x = Strict.ref('x');
    await r0.send(x, { type: 'deposit', payload: { n: 10 } });
    await link.settle();
    link.partition();
    await r0.send(x, { type: 'withdraw', payload: { n: 8 } });
    await r1.send(x, { type: 'withdraw', payload: { n: 8 } });
    link.heal();
    // Event handlers must accept any state; one that throws blocks resolution with an error that says so.
    await expect(link.settle()).rejects.toThrow(/'withdrew' handler of 'strict' threw .* event handlers must accept any state/);
    await expect(r1.send(x, { type: 'deposit', payload: { n: 100 } })).rejects.toBeInstanceOf(InvalidDefinitionError);
    await Promise.all([r0.stop(), r1.stop()]);
  });

  it('R10 a snapshot that cannot be encoded fails the send and writes nothing', async () => {
    const Sym = defineActor({
      type: 'sym',
      initial: () => ({ n: 0, tag: Symbol.for('t') as unknown }),
      commands: { add: () => [{ type: 'added', data: {} }] },
      events: { added: (s: { n: number; tag: unknown }) => ({ ...s, n: s.n + 1 }) },
      snapshotEvery: 1,
    });
    const store = new MemoryStore();
    const rt = createRuntime({ actors: [Sym], store });
    await expect(rt.send(Sym.ref('x'), { type: 'add', payload: {}, commandId: 'k' })).rejects.toThrow(/symbol/i);
    await rt.stop();
    expect(store.packCount).toBe(0);
  });

  it('R11 data that msgpack does not round-trip byte for byte replicates without a false VersionCollisionError', async () => {
    const Notes = defineActor({
      type: 'notes',
      initial: () => ({ texts: [] as unknown[] }),
      commands: { write: (_s, p: { text: unknown }) => [{ type: 'written', data: { text: p.text } }] },
      events: { written: (s: { texts: unknown[] }, d: { text: unknown }) => ({ texts: [...s.texts, d.text] }) },
    });
    const eu = createRuntime({ actors: [Notes], replicaId: 'eu', machineId: 1, store: new MemoryStore() });
    const us = createRuntime({ actors: [Notes], replicaId: 'us', machineId: 2, store: new MemoryStore() });
    const n = Notes.ref('n');
    await eu.send(n, { type: 'write', payload: { text: '😀'.slice(0, 1) } });
    await eu.send(n, { type: 'write', payload: { text: new Map([[1, 'one']]) } });
    await new ReplicationLink(eu, us).settle();
    const [a, b] = [await eu.inspect(n), await us.inspect(n)];
    expect(b).toEqual(a);
    // The live state holds what every replica reads back, not the caller's original objects.
    const reloaded = createRuntime({ actors: [Notes], replicaId: 'eu', machineId: 1, store: eu.store });
    expect((await reloaded.inspect(n)).state).toEqual(a.state);
    expect((a.state as { texts: unknown[] }).texts[1]).toEqual({ 1: 'one' });
    await Promise.all([eu.stop(), us.stop(), reloaded.stop()]);
  });

  it('R12 ids that are not well-formed Unicode are refused', async () => {
    const rt = createRuntime({ actors: [Ledger], store: new MemoryStore() });
    await expect(rt.send(Ledger.ref('x\ud800'), { type: 'deposit', payload: { n: 1 } })).rejects.toThrow(/well-formed/);
    await expect(rt.send(ref, { type: 'deposit', payload: { n: 1 }, commandId: 'c\ud83d' })).rejects.toThrow(/well-formed/);
    await rt.stop();
  });

  it('R13 a command the store already holds under its id is not applied again after an append conflict, even when the caller said it was new', async () => {
    // Two workers sharing one store, both given the same message (a connection drop): the first
    // applies it; the second decided on a stale cache, meets an append conflict, and must find
    // the command instead of re-deciding it (checkDuplicate: false is what the bus sends first).
    const store = new MemoryStore();
    const a = createRuntime({ actors: [Ledger], replicaId: 'w', machineId: 1, store });
    const b = createRuntime({ actors: [Ledger], replicaId: 'w', machineId: 2, store });
    await b.inspect(ref); // b's entity is live with the empty state cached
    const first = await a.send(ref, { type: 'deposit', payload: { n: 5 }, commandId: 'c1', checkDuplicate: false });
    const second = await b.send(ref, { type: 'deposit', payload: { n: 5 }, commandId: 'c1', checkDuplicate: false });
    const view = await a.inspect<LedgerState>(ref);
    const versions = await store.commandVersions(ref, 'c1');
    await Promise.all([a.stop(), b.stop()]);
    expect(first).toMatchObject({ status: 'accepted', duplicate: false });
    expect(second).toMatchObject({ status: 'accepted', duplicate: true });
    expect(versions).toHaveLength(1);
    expect(view.state.balance).toBe(5);
  });

  it('R14 commands that emit no event still count toward snapshots: a load reads at most snapshotEvery packs', async () => {
    // A command that emits nothing still writes a pack (its id is recorded). Counting only events
    // let such packs pile up without a snapshot, and every later load read all of them (I6).
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
    const writer = createRuntime({ actors: [Touch], store: counting });
    for (let i = 0; i < 10; i++) await writer.send(touch, { type: 'touch', payload: {} });
    await writer.send(touch, { type: 'add', payload: {} });
    await writer.stop();
    // A fresh runtime (nothing cached) loads the actor from the store.
    const reader = createRuntime({ actors: [Touch], store: counting });
    const view = await reader.inspect<{ n: number }>(touch);
    await reader.stop();
    expect(view.state.n).toBe(1);
    expect(chainLengths.length).toBeGreaterThan(0);
    expect(Math.max(...chainLengths)).toBeLessThanOrEqual(3);
  });
});
