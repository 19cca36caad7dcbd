import { bankWorkload } from '@troupe/bank';
import type { Workload } from '@troupe/runtime';
import { requireService } from '@troupe/runtime/testkit';
import { keysMatching } from '@troupe/redis/testing';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { brokenStrategies } from './brokenStrategies.js';
import { type TraceEvent, simulate, simulateWithTrace } from './simulate.js';
import { redisStores } from './testing/redisStores.js';
import { counterWorkload } from './workloads.js';

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/9';
const stores = redisStores(redisUrl);

async function keysLeft(pattern: string): Promise<string[]> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    return await keysMatching(redis, pattern);
  } finally {
    redis.disconnect();
  }
}

const prefixesOf = (store: { readonly [detail: string]: unknown }) => store.prefixes as string[];

describe.skipIf(!available)('Redis mode (a store factory of RedisStores)', () => {
  it('runs on RedisStores: every invariant holds, merges happen, crashed replicas reconnect, no key is left', async () => {
    let crashes = 0;
    for (const [seed, workload] of [[1, counterWorkload], [2, bankWorkload], [4, bankWorkload], [5, counterWorkload], [6, bankWorkload]] as const) {
      const report = await simulate({ seed, workload, steps: 120, stores });
      const { store } = report;
      expect(store).toMatchObject({ kind: 'redis', url: redisUrl, shards: 4 });
      const prefixes = prefixesOf(store);
      expect(prefixes).toHaveLength(report.options.replicas);
      expect(new Set(prefixes).size).toBe(prefixes.length);
      for (const p of prefixes) expect(p).toMatch(new RegExp(`^sim-${seed}-[0-9a-f]{8}-r\\d$`));
      for (const [name, r] of Object.entries(report.invariants)) expect(r.ok, `seed ${seed} ${name}: ${JSON.stringify(r.violations.slice(0, 3))}`).toBe(true);
      expect(report.counts.errors).toBe(0);
      expect(report.counts.merges).toBeGreaterThan(0);
      expect(report.counts.accepted).toBeGreaterThan(0);
      // Views follow RedisStores, and stability is answered from their frontier tables (per-shard cursors).
      expect(report.invariants.I8.checked, `seed ${seed}`).toBeGreaterThan(0);
      expect(report.invariants.I9.checked, `seed ${seed}`).toBeGreaterThan(0);
      crashes += report.counts.crashes;
      for (const p of prefixes) expect(await keysLeft(`${p}:*`)).toEqual([]);
    }
    // Crash + restart (a new RedisStore on the same prefix) was exercised.
    expect(crashes).toBeGreaterThan(0);
  });

  it('same seed gives the same trace hash in Redis mode; against memory mode the traces differ only in store-specific order', async () => {
    for (const seed of [1, 2]) {
      // Without faults inside operations: a batch that fails half-way holds packs in the store's log
      // order, so from there memory and Redis differ in what later syncs skip, not only in order.
      const options = { seed, workload: bankWorkload, steps: 120, faults: { storeFault: 0, syncCut: 0, checkpointFail: 0, connectionDrop: 0 } };
      const a = await simulateWithTrace({ ...options, stores });
      const b = await simulate({ ...options, stores });
      expect(b.traceHash).toBe(a.report.traceHash);
      expect(b.counts).toEqual(a.report.counts);
      const memory = await simulateWithTrace(options);
      expect(memory.report.store).toEqual({ kind: 'memory' });
      if (memory.report.traceHash === a.report.traceHash) continue;
      // They may part only at a sync that resolved several actors: the Replicator resolves them in the
      // order the source's changesSince returned their packs (memory: one global log; Redis: per-shard
      // logs read shard by shard), and from there merge event ids (flake ids) follow that order.
      const strip = ({ i: _, ...e }: TraceEvent) => JSON.stringify(e);
      const at = memory.trace.events.findIndex((e, i) => strip(e) !== strip(a.trace.events[i]!));
      expect(at).toBeGreaterThan(0);
      const [m, r] = [memory.trace.events[at]!, a.trace.events[at]!];
      expect(m.k).toBe('sync');
      expect({ ...r, resolved: [] }).toEqual({ ...m, resolved: [] });
      const resolved = (e: TraceEvent) => [...(e.resolved as string[])].sort();
      expect(resolved(r)).toEqual(resolved(m));
      expect(resolved(m).length).toBeGreaterThan(1);
    }
  });

  it('a broken strategy (dropBranch) is still caught in Redis mode', async () => {
    const caught: string[] = [];
    for (let seed = 1; seed <= 5 && caught.length === 0; seed++) {
      const report = await simulate({ seed, workload: bankWorkload, steps: 120, stores, mergeStrategy: brokenStrategies.dropBranch, mergeStrategyName: 'dropBranch' });
      expect(report.store.kind).toBe('redis');
      caught.push(...Object.entries(report.invariants).filter(([, r]) => !r.ok).map(([name]) => name));
      for (const p of prefixesOf(report.store)) expect(await keysLeft(`${p}:*`)).toEqual([]);
    }
    expect(caught.some((name) => name === 'I1' || name === 'I3')).toBe(true);
  });

  it('deletes the run\'s keys when the run throws', async () => {
    const seed = 900_000_000 + Math.floor(Math.random() * 1_000_000);
    const failing: Workload = {
      ...bankWorkload,
      name: 'failing',
      nextCommand: (rng, step, actors) => {
        if (step >= 30) throw new Error('workload failed on purpose');
        return bankWorkload.nextCommand(rng, step, actors);
      },
    };
    await expect(simulate({ seed, workload: failing, steps: 60, stores })).rejects.toThrow('workload failed on purpose');
    expect(await keysLeft(`sim-${seed}-*`)).toEqual([]);
  });
});
