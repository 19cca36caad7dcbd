import { describe, expect, it } from 'vitest';
import { InvalidOptionError, NotReplicatedError, RegionConfigError } from '../errors/index.js';
import { runtimesStoppedAfterEach } from '../specHelpers/runtimes.js';
import type { Pack } from '../model/index.js';
import { stateAfter } from '../specHelpers/regions.js';
import { MemoryStore } from '../store/index.js';
import { appendChain, makeChain, uniqueActor } from '../testkit/fixtures.js';
import { Ledger } from '../testkit/ledger.js';
import { awaitReplicated, holdersOf, replicationState } from './stability.js';

const actor = uniqueActor('acc');

/** eu's store holding `length` packs of `actor` (its log positions 1..length), the regions eu, us, ap declared. */
async function euStore(length = 2): Promise<{ store: MemoryStore; packs: Pack[] }> {
  const store = new MemoryStore();
  const packs = makeChain(actor, length, 'eu');
  await appendChain(store, packs);
  await store.declareRegions(['eu', 'us', 'ap']);
  return { store, packs };
}

const createRuntime = runtimesStoppedAfterEach();

describe('holdersOf', () => {
  const log = new MemoryStore();

  it('this region always holds; another holds once its entry on this region reached the mark', () => {
    const table = { us: { eu: { cursor: '5', at: 1 } }, ap: { eu: { cursor: '4', at: 1 } } };
    expect(holdersOf(['eu', 'us', 'ap'], 'eu', table, log, '5')).toEqual({ regions: ['eu', 'us', 'ap'], holding: ['eu', 'us'], missing: ['ap'] });
    expect(holdersOf(['ap', 'us', 'eu'], 'eu', table, log, '4')).toEqual({ regions: ['ap', 'us', 'eu'], holding: ['ap', 'us', 'eu'], missing: [] });
    expect(holdersOf(['eu', 'us', 'ap'], 'eu', {}, log, '0')).toEqual({ regions: ['eu', 'us', 'ap'], holding: ['eu'], missing: ['us', 'ap'] });
  });

  it("counts only a region's progress on this region's log, not on another's", () => {
    const table = { us: { ap: { cursor: '9', at: 1 } }, eu: { us: { cursor: '9', at: 1 } } };
    expect(holdersOf(['eu', 'us', 'ap'], 'eu', table, log, '1').holding).toEqual(['eu']);
  });
});

describe('replicationState', () => {
  it('answers from the table at the end of the log now, or at a mark given', async () => {
    const { store, packs } = await euStore(3);
    await store.mergeFrontier({ us: { eu: { cursor: '2', at: 1 } } });
    expect(await replicationState(store, 'eu', actor, packs[1]!.version)).toEqual({ regions: ['eu', 'us', 'ap'], holding: ['eu'], missing: ['us', 'ap'] });
    expect(await replicationState(store, 'eu', actor, packs[1]!.version, '2')).toMatchObject({ holding: ['eu', 'us'] });
  });

  it('refuses a version this region does not hold, a store with no regions declared, a region not declared', async () => {
    const { store, packs } = await euStore();
    await expect(replicationState(store, 'eu', actor, { eu: 9 })).rejects.toThrow(InvalidOptionError);
    await expect(replicationState(store, 'eu', actor, { eu: 9 })).rejects.toThrow(/@eu:9 is not held by region eu's store/);
    await expect(replicationState(store, 'xx', actor, packs[0]!.version)).rejects.toThrow(RegionConfigError);
    await expect(replicationState(store, 'xx', actor, packs[0]!.version)).rejects.toThrow(/region xx is not among the regions declared in its store \(eu, us, ap\)/);
    const undeclared = new MemoryStore();
    await appendChain(undeclared, packs);
    await expect(replicationState(undeclared, 'eu', actor, packs[0]!.version)).rejects.toThrow(RegionConfigError);
    await expect(replicationState(undeclared, 'eu', actor, packs[0]!.version)).rejects.toThrow(/no regions are declared in region eu's store: start its replicator/);
  });
});

describe('awaitReplicated', () => {
  it('waits for the regions asked for, counting this one', async () => {
    const { store, packs } = await euStore();
    const version = packs[1]!.version;
    expect(await awaitReplicated(store, 'eu', actor, version, { regions: 1, timeoutMs: 0 })).toMatchObject({ holding: ['eu'] });
    const two = awaitReplicated(store, 'eu', actor, version, { regions: 2, pollMs: 5 });
    const all = awaitReplicated(store, 'eu', actor, version, { pollMs: 5 });
    await store.mergeFrontier({ ap: { eu: { cursor: '2', at: 1 } } });
    expect(await two).toEqual({ regions: ['eu', 'us', 'ap'], holding: ['eu', 'ap'], missing: ['us'] });
    expect(await stateAfter(all, 30)).toBe('pending');
    await store.mergeFrontier({ us: { eu: { cursor: '2', at: 1 } } });
    expect(await all).toMatchObject({ holding: ['eu', 'us', 'ap'], missing: [] });
  });

  it('the mark is taken when the wait starts: packs written meanwhile do not hold it back', async () => {
    const { store, packs } = await euStore();
    const waiting = awaitReplicated(store, 'eu', actor, packs[1]!.version, { pollMs: 5, timeoutMs: 5_000 });
    expect(await stateAfter(waiting, 20)).toBe('pending');
    await appendChain(store, makeChain(actor, 3, 'eu', packs[1]!.version), [`eu:2`]);
    await store.mergeFrontier({ us: { eu: { cursor: '2', at: 1 } }, ap: { eu: { cursor: '2', at: 1 } } });
    expect(await waiting).toMatchObject({ holding: ['eu', 'us', 'ap'] });
  });

  it('times out with NotReplicatedError naming who holds the version and who is missing', async () => {
    const { store, packs } = await euStore();
    await store.mergeFrontier({ us: { eu: { cursor: '2', at: 1 } } });
    const waiting = awaitReplicated(store, 'eu', actor, packs[1]!.version, { timeoutMs: 40, pollMs: 5 });
    await expect(waiting).rejects.toBeInstanceOf(NotReplicatedError);
    await expect(waiting).rejects.toMatchObject({ code: 'NOT_REPLICATED', version: 'eu:2', wanted: 3, holding: ['eu', 'us'], missing: ['ap'] });
    await expect(waiting).rejects.toThrow(/eu:2 reached 2 of the 3 regions asked for within 40 ms \(held by eu, us; not known to be held by ap\)/);
    await expect(awaitReplicated(store, 'eu', actor, packs[1]!.version, { timeoutMs: 0 })).rejects.toBeInstanceOf(NotReplicatedError);
  });

  it('stops at once when its signal is aborted, with the signal\'s reason', async () => {
    const { store, packs } = await euStore();
    const version = packs[1]!.version;
    const aborted = AbortSignal.abort(new Error('worker stopping'));
    await expect(awaitReplicated(store, 'eu', actor, version, { signal: aborted })).rejects.toThrow('worker stopping');
    const controller = new AbortController();
    const waiting = awaitReplicated(store, 'eu', actor, version, { signal: controller.signal, pollMs: 60_000, timeoutMs: 120_000 });
    expect(await stateAfter(waiting, 20)).toBe('pending');
    const started = Date.now();
    controller.abort(new Error('stop now'));
    await expect(waiting).rejects.toThrow('stop now');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('a signal aborted after the wait ended changes nothing', async () => {
    const { store, packs } = await euStore();
    const controller = new AbortController();
    expect(await awaitReplicated(store, 'eu', actor, packs[1]!.version, { regions: 1, signal: controller.signal })).toMatchObject({ holding: ['eu'] });
    controller.abort(new Error('late'));
    await new Promise((resolve) => setTimeout(resolve, 10));
  });

  it.each([
    ['regions', { regions: 0 }],
    ['regions', { regions: 4 }],
    ['regions', { regions: 1.5 }],
    ['regions', { regions: 'most' as unknown as number }],
    ['timeoutMs', { timeoutMs: -1 }],
    ['timeoutMs', { timeoutMs: Number.NaN }],
    ['timeoutMs', { timeoutMs: Number.POSITIVE_INFINITY }],
    ['pollMs', { pollMs: 0 }],
    ['pollMs', { pollMs: Number.NaN }],
  ] as const)('refuses a bad %s (%j)', async (option, options) => {
    const { store, packs } = await euStore();
    const waiting = awaitReplicated(store, 'eu', actor, packs[1]!.version, options);
    await expect(waiting).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(waiting).rejects.toThrow(option);
  });

  it("Runtime.awaitReplicated refuses a store that takes no part in region replication", async () => {
    const inner = new MemoryStore();
    const plain = new Proxy(inner, {
      get(target, property) {
        if (property === 'logMark' || property === 'markReached' || property === 'frontier' || property === 'checkpoint') return undefined;
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const runtime = createRuntime({ actors: [Ledger], replicaId: 'eu', store: plain });
    const reply = await runtime.send(Ledger.ref('a'), { type: 'deposit', payload: { n: 1 } });
    await expect(runtime.awaitReplicated(Ledger.ref('a'), reply.status === 'accepted' ? reply.version : {}, {})).rejects.toThrow(/does not take part in region replication/);
  });
});
