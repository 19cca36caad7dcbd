import { describe, expect, it } from 'vitest';
import { FlakeIdSource, ManualClock } from '../ids/index.js';
import type { Pack } from '../model/index.js';
import { Replicator } from '../replication/index.js';
import type { MergeOutcome } from '../resolution/index.js';
import { runtimesStoppedAfterEach } from '../specHelpers/runtimes.js';
import { type EventStore, MemoryStore } from '../store/index.js';
import type { MergeRecord } from '../store/regionLog.js';
import { makeEvent, makePack } from '../testkit/fixtures.js';
import { Ledger, type LedgerState } from '../testkit/ledger.js';
import { VC } from '../vectorClock/index.js';
import { mergeRecord } from './entity.js';
import type { ResolvedObservation } from './observer.js';
import type { Runtime } from './runtime.js';

const start = 1_700_000_000_000;
const alice = Ledger.ref('alice');
const createRuntime = runtimesStoppedAfterEach();

interface Region {
  readonly runtime: Runtime;
  readonly clock: ManualClock;
  readonly resolved: ResolvedObservation[];
}

/** A region: a Ledger runtime on a manual clock (starting at `start`), its resolutions recorded. */
function region(replicaId: string, machineId: number, store: EventStore = new MemoryStore()): Region {
  const clock = new ManualClock(start);
  const resolved: ResolvedObservation[] = [];
  const runtime = createRuntime({
    actors: [Ledger],
    replicaId,
    store,
    clock,
    idSource: new FlakeIdSource({ machineId, clock }),
    observer: { resolved: (o) => void resolved.push(o) },
  });
  return { runtime, clock, resolved };
}

async function accepted(r: Region, type: 'deposit' | 'withdraw', n: number, commandId?: string): Promise<void> {
  const reply = await r.runtime.send(alice, { type, payload: { n }, ...(commandId ? { commandId } : {}) });
  if (reply.status !== 'accepted') throw new Error(`${type} ${n} rejected`);
}

/** eu and us share a deposit of 10, then withdraw 8 (eu, at +100 ms) and 7 (us, at +250 ms) apart. */
async function doubleSpend(eu: Region, us: Region): Promise<void> {
  await accepted(eu, 'deposit', 10);
  await new Replicator(eu.runtime, us.runtime).sync();
  eu.clock.advance(100);
  await accepted(eu, 'withdraw', 8);
  us.clock.advance(250);
  await accepted(us, 'withdraw', 7);
}

describe('merge records', () => {
  it('a merge leaves a record: its version, the common ancestor, the heads, events replayed, compensations, the region, when it diverged and when it merged', async () => {
    const [eu, us] = [region('eu', 1), region('us', 2)];
    await doubleSpend(eu, us);
    eu.clock.set(start + 1_000);
    expect(await new Replicator(us.runtime, eu.runtime).sync()).toMatchObject({ resolved: [alice] });

    expect(eu.resolved).toHaveLength(1);
    const { record, outcome, durationMs } = eu.resolved[0]!;
    expect(record).toEqual({
      actor: alice,
      version: { eu: 2, us: 1 },
      ancestor: { eu: 1 },
      heads: outcome.heads.map((h) => h.version),
      replayed: 2,
      droppedDuplicates: 0,
      compensations: ['overdraft'],
      region: 'eu',
      divergedAt: start + 100,
      mergedAt: start + 1_000,
      durationMs: 0,
    });
    expect(record.heads.map(VC.encode).sort()).toEqual(['eu:1,us:1', 'eu:2']);
    expect(record.divergedAt).toBeLessThanOrEqual(record.mergedAt);
    expect(durationMs).toBe(record.durationMs);
    expect(eu.resolved[0]).not.toHaveProperty('recordError');
    // The record kept in the store is the one observed, and names the merge pack that is now the head.
    const store = eu.runtime.store as MemoryStore;
    expect(await store.merges(alice)).toEqual([record]);
    const [head] = await store.heads(alice);
    expect(head).toMatchObject({ kind: 'merge', version: record.version });
    expect(head!.parents.map(VC.encode).sort()).toEqual(record.heads.map(VC.encode).sort());
    expect((await eu.runtime.inspect<LedgerState>(alice)).state).toMatchObject({ balance: -5, overdrawn: 5 });
  });

  it('the other region writes its own record of the same merge: same version, ancestor and heads; its region and its clock', async () => {
    const [eu, us] = [region('eu', 1), region('us', 2)];
    await doubleSpend(eu, us);
    eu.clock.set(start + 1_000);
    us.clock.set(start + 2_000);
    await new Replicator(us.runtime, eu.runtime).sync();
    // us gets eu's withdrawal before eu's merge reaches it, and resolves on its own.
    await new Replicator(eu.runtime, us.runtime, { batchSize: 1 }).sync();
    const atEu = eu.resolved[0]!.record;
    const atUs = us.resolved[0]!.record;
    expect(us.resolved).toHaveLength(1);
    expect(atUs).toMatchObject({ version: atEu.version, ancestor: atEu.ancestor, heads: atEu.heads, replayed: 2, compensations: ['overdraft'], region: 'us' });
    expect(atUs.mergedAt).toBe(start + 2_000);
    expect(atUs.divergedAt).toBe(start + 100);
    expect(await (us.runtime.store as MemoryStore).merges(alice)).toEqual([atUs]);
  });

  it('a command retried at another region: its second copy is dropped, counted in droppedDuplicates; branches with no common pack leave no ancestor', async () => {
    const [eu, us] = [region('eu', 1), region('us', 2)];
    eu.clock.advance(40);
    await accepted(eu, 'deposit', 5, 'cmd-retried');
    us.clock.advance(30);
    await accepted(us, 'deposit', 5, 'cmd-retried');
    eu.clock.set(start + 500);
    await new Replicator(us.runtime, eu.runtime).sync();
    const { record } = eu.resolved[0]!;
    expect(record).toMatchObject({ replayed: 1, droppedDuplicates: 1, compensations: [], region: 'eu', mergedAt: start + 500 });
    expect(record).not.toHaveProperty('ancestor');
    // The earliest event after the (missing) ancestor, dropped copy included: us's, at +30.
    expect(record.divergedAt).toBe(start + 30);
    expect((await eu.runtime.inspect<LedgerState>(alice)).state.balance).toBe(5);
  });

  it('durationMs runs from reading the heads to the merge pack being durable, on the runtime clock', async () => {
    const clockRef: { clock?: ManualClock } = {};
    // eu's store takes 30 ms (on eu's clock) to append a merge pack.
    const slow = new Proxy(new MemoryStore(), {
      get(target, property) {
        if (property === 'append') {
          return async (pack: Pack, expected: readonly string[]) => {
            if (pack.kind === 'merge') clockRef.clock!.advance(30);
            return target.append(pack, expected);
          };
        }
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const [eu, us] = [region('eu', 1, slow), region('us', 2)];
    clockRef.clock = eu.clock;
    await doubleSpend(eu, us);
    eu.clock.set(start + 1_000);
    await new Replicator(us.runtime, eu.runtime).sync();
    expect(eu.resolved[0]!.record).toMatchObject({ mergedAt: start + 1_030, durationMs: 30 });
    expect(eu.resolved[0]!.durationMs).toBe(30);
  });

  it('a store that fails to keep the record: the merge stands, the observer gets the record and the error', async () => {
    const failing = new MemoryStore();
    const lost = new Error('merge log unavailable');
    failing.recordMerge = () => Promise.reject(lost);
    const [eu, us] = [region('eu', 1, failing), region('us', 2)];
    await doubleSpend(eu, us);
    await new Replicator(us.runtime, eu.runtime).sync();
    expect(eu.resolved).toHaveLength(1);
    expect(eu.resolved[0]).toMatchObject({ recordError: lost, record: { region: 'eu', compensations: ['overdraft'] } });
    expect(await failing.heads(alice)).toHaveLength(1);
    expect(await failing.merges(alice)).toEqual([]);
  });

  it('a store that rejects with no reason still reports a recordError', async () => {
    const failing = new MemoryStore();
    failing.recordMerge = () => Promise.reject(undefined);
    const [eu, us] = [region('eu', 1, failing), region('us', 2)];
    await doubleSpend(eu, us);
    await new Replicator(us.runtime, eu.runtime).sync();
    expect(eu.resolved[0]!.recordError).toBeInstanceOf(Error);
    expect(await failing.heads(alice)).toHaveLength(1);
  });

  it('a store that keeps no merge records (not a MergeLog): the observer still gets the record, with no error', async () => {
    const inner = new MemoryStore();
    const plain = new Proxy(inner, {
      get(target, property) {
        if (property === 'recordMerge' || property === 'merges') return undefined;
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const [eu, us] = [region('eu', 1, plain), region('us', 2)];
    await doubleSpend(eu, us);
    await new Replicator(us.runtime, eu.runtime).sync();
    expect(eu.resolved[0]!.record).toMatchObject({ region: 'eu', replayed: 2 });
    expect(eu.resolved[0]).not.toHaveProperty('recordError');
    expect(await inner.merges(alice)).toEqual([]);
  });

  it('three branches merged at once: three heads, every branch event replayed', async () => {
    const [eu, us, ap] = [region('eu', 1), region('us', 2), region('ap', 3)];
    await accepted(eu, 'deposit', 100);
    await new Replicator(eu.runtime, us.runtime).sync();
    await new Replicator(eu.runtime, ap.runtime).sync();
    eu.clock.advance(10);
    await accepted(eu, 'withdraw', 1);
    us.clock.advance(20);
    await accepted(us, 'withdraw', 2);
    ap.clock.advance(5);
    await accepted(ap, 'withdraw', 3);
    // Copy both other branches to eu without resolving, then resolve the three heads at once.
    await new Replicator(us.runtime, eu.runtime, { resolve: false }).sync();
    await new Replicator(ap.runtime, eu.runtime, { resolve: false }).sync();
    await eu.runtime.resolve(alice);
    const { record } = eu.resolved[0]!;
    expect(record.heads).toHaveLength(3);
    expect(record).toMatchObject({ ancestor: { eu: 1 }, replayed: 3, compensations: [], version: { eu: 2, us: 1, ap: 1 }, divergedAt: start + 5 });
  });
});

describe('mergeRecord()', () => {
  const actor = alice;
  const event = makeEvent(actor);
  function outcome(parts: { heads: Pack[]; replayedTs?: number[]; droppedTs?: number[] }): MergeOutcome {
    const version = VC.mergeAll(parts.heads.map((h) => h.version));
    return {
      pack: makePack({ actor, version, parents: parts.heads.map((h) => h.version), kind: 'merge', state: {} }),
      state: {},
      heads: parts.heads,
      replayed: (parts.replayedTs ?? []).map((ts) => ({ ...event, ts })),
      branches: [],
      droppedDuplicates: (parts.droppedTs ?? []).map((ts) => ({ ...event, ts })),
      compensations: [makeEvent(actor, { type: 'overdraft' }), makeEvent(actor, { type: 'noted' })],
      packsVisited: 0,
      compensationsOnRecheck: [],
    };
  }
  const a = makePack({ actor, version: { a: 1 }, ts: 5_000 });
  const b = makePack({ actor, version: { b: 1 }, ts: 4_000 });

  it('divergedAt is the earliest replayed or dropped event', () => {
    const record: MergeRecord = mergeRecord(outcome({ heads: [a, b], replayedTs: [3_000, 2_000], droppedTs: [2_500, 1_500] }), 'eu', 9_000, 7);
    expect(record).toMatchObject({ divergedAt: 1_500, mergedAt: 9_000, durationMs: 7, replayed: 2, droppedDuplicates: 2, region: 'eu' });
    expect(record.compensations).toEqual(['overdraft', 'noted']);
    expect(record).not.toHaveProperty('ancestor');
  });

  it('with no events after the ancestor, the earliest head; with no heads either, the merge time', () => {
    expect(mergeRecord(outcome({ heads: [a, b] }), 'eu', 9_000, 0).divergedAt).toBe(4_000);
    expect(mergeRecord(outcome({ heads: [] }), 'eu', 9_000, 0).divergedAt).toBe(9_000);
  });

  it('finds the earliest of many events (no spread of a long list into Math.min)', () => {
    const many = Array.from({ length: 200_000 }, (_, i) => 1_000_000 - i);
    expect(mergeRecord(outcome({ heads: [a], replayedTs: many }), 'eu', 2_000_000, 0).divergedAt).toBe(800_001);
  });
});
