import { bankWorkload } from '@troupe/bank';
import type { RedisStore } from '@troupe/redis';
import { type ActorSnapshot, type MergeReport, type Pack, StoreUnavailableError } from '@troupe/runtime/store';
import { requireService } from '@troupe/runtime/testkit';
import { keysMatching } from '@troupe/redis/testing';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { simulate, simulateWithTrace } from './simulate.js';
import type { ConnectionStats, CuttableConnection, DestroyableStore } from './stores.js';
import { redisStores } from './testing/redisStores.js';
import { counterWorkload } from './workloads.js';

/**
 * Redis mode with real dropped connections: the nemesis destroys a replica's socket right after a
 * store call wrote its first command (`connectionDrop`), so the runtime and the replicators meet
 * the client's own connection error and reconnection, not a simulated fault.
 */
const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/9';

/** Redis stores whose connections are counted. */
function countedStores(wrap?: (store: RedisStore) => DestroyableStore) {
  const connections: CuttableConnection[] = [];
  const stores = redisStores(redisUrl, 4, { onConnection: (c) => connections.push(c), ...(wrap ? { wrap } : {}) });
  const total = (): ConnectionStats =>
    connections.reduce((sum, c) => ({ cuts: sum.cuts + c.stats.cuts, errors: sum.errors + c.stats.errors, reconnects: sum.reconnects + c.stats.reconnects }), { cuts: 0, errors: 0, reconnects: 0 });
  return { stores, total };
}

async function keysLeft(pattern: string): Promise<string[]> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    return await keysMatching(redis, pattern);
  } finally {
    redis.disconnect();
  }
}

/**
 * A planted bug of the class dropped connections reveal (test only): a store wrapper that treats
 * a merge whose connection dropped as applied ("the command was sent, Redis will run it") and
 * reports every pack added. A RedisStore merge is one script call per shard run of packs, so a
 * drop after the first write applies that call alone: the replicator, told the batch is in,
 * moves its cursor past packs the target never got.
 */
function dropsCountAsApplied(store: RedisStore): DestroyableStore {
  const merge = async (packs: readonly Pack[], snapshots?: readonly ActorSnapshot[]): Promise<MergeReport> => {
    try {
      return await store.merge(packs, snapshots);
    } catch (error) {
      if (error instanceof StoreUnavailableError) return { added: packs.length, skipped: 0 };
      throw error;
    }
  };
  return new Proxy(store, {
    get(target, name) {
      if (name === 'merge') return merge;
      const value: unknown = Reflect.get(target, name, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Drops often, and no simulated faults inside operations: every failed call here is a real drop. */
const faults = { connectionDrop: 0.15, storeFault: 0, syncCut: 0, checkpointFail: 0 };
const runs = [[1, bankWorkload], [2, counterWorkload], [3, bankWorkload], [4, counterWorkload]] as const;

describe.skipIf(!available)('Redis mode: real dropped connections', () => {
  it('every invariant holds under dropped connections, and the drops really happened: cuts, the runtime\'s connection errors, reconnections', async () => {
    let drops = 0;
    let failedCalls = 0;
    for (const [seed, workload] of runs) {
      const { stores, total } = countedStores();
      const { report, trace } = await simulateWithTrace({ seed, workload, steps: 120, faults, stores });
      for (const [name, r] of Object.entries(report.invariants)) expect(r.violations, `seed ${seed} ${name}`).toEqual([]);
      expect(report.options.faults.connectionDrop).toBe(0.15);
      expect(report.counts.errors, `seed ${seed}: no unexpected error`).toBe(0);
      // Each drop the trace shows is a socket the connection destroyed, and its client came back.
      const stats = total();
      expect(stats.cuts).toBe(report.counts.connectionDrops);
      expect(stats.reconnects).toBe(stats.cuts);
      const dropped = trace.events.filter((e) => e.k === 'fault' && e.when === 'drop');
      expect(dropped).toHaveLength(report.counts.connectionDrops);
      // The commands that met a drop failed with the client's own error, through the RedisStore.
      for (const e of trace.events.filter((x) => x.k === 'faulted')) expect(String(e.error)).toMatch(/max retries per request|Connection is closed|isn't writeable/);
      drops += report.counts.connectionDrops;
      failedCalls += report.counts.faultedCommands + report.counts.faultedSyncs;
      for (const p of report.store.prefixes as string[]) expect(await keysLeft(`${p}:*`)).toEqual([]);
    }
    expect(drops).toBeGreaterThanOrEqual(10);
    expect(failedCalls).toBeGreaterThan(0);
  }, 120_000);

  it('the schedule stays deterministic: the same seed draws the same steps, drops included', async () => {
    const options = { seed: 5, workload: bankWorkload, steps: 100, faults, recordSchedule: true };
    const a = await simulate({ ...options, stores: countedStores().stores });
    const b = await simulate({ ...options, stores: countedStores().stores });
    expect(a.ok && b.ok).toBe(true);
    expect(b.schedule).toEqual(a.schedule);
    expect(a.schedule!.filter((s) => s.k === 'fault' && s.when === 'drop').length).toBeGreaterThan(0);
    // The drops that fired are the same calls: a cut always lands in the armed call's first command.
    expect(b.counts.connectionDrops).toBe(a.counts.connectionDrops);
  }, 60_000);

  it('a store wrapper that treats a dropped merge as applied is caught; the same seeds pass without drops', async () => {
    // Two replicas and four actors (batches that span shards: several script calls per merge), drops more often.
    const caught: number[] = [];
    for (const seed of [1, 2, 3, 4]) {
      const options = { seed, workload: bankWorkload, steps: 120, replicas: 2, actors: 4 };
      const planted = await simulate({ ...options, faults: { ...faults, connectionDrop: 0.3 }, stores: countedStores(dropsCountAsApplied).stores });
      if (!planted.ok) {
        caught.push(seed);
        // The target never got the rest of the batch: the replicas do not converge on the same packs.
        expect(planted.invariants.I2.ok, `seed ${seed}`).toBe(false);
      }
      const quiet = await simulate({ ...options, faults: { ...faults, connectionDrop: 0 }, stores: countedStores(dropsCountAsApplied).stores });
      expect(quiet.ok, `seed ${seed} without drops`).toBe(true);
    }
    expect(caught.length).toBeGreaterThanOrEqual(2);
  }, 180_000);
});
