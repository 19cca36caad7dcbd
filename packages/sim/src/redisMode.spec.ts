import { requireService } from '@troupe/runtime/testkit';
import { describe, expect, it } from 'vitest';
import { brokenStrategies } from './brokenStrategies.js';
import { defaultRedisUrl } from './options.js';
import { keysMatchingAt, keysOfPrefixes } from './redisKeys.js';
import { type TraceEvent, simulate, simulateWithTrace } from './simulate.js';
import { type Workload, bankWorkload } from './workloads.js';

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });
const redisUrl = process.env.REDIS_URL ?? defaultRedisUrl;

function keysLeft(pattern: string): Promise<string[]> {
  return keysMatchingAt(redisUrl, pattern);
}

describe.skipIf(!available)('Redis mode', () => {
  it('runs on RedisStores: every invariant holds, merges happen, crashed replicas reconnect, no key is left', async () => {
    let crashes = 0;
    for (const [seed, workload] of [[1, 'counter'], [2, 'bank'], [4, 'bank'], [5, 'counter'], [6, 'bank']] as const) {
      const report = await simulate({ seed, workload, steps: 120, store: 'redis', redisUrl });
      const { store } = report;
      expect(store.kind).toBe('redis');
      if (store.kind !== 'redis') return;
      expect(store.prefixes).toHaveLength(report.options.replicas);
      expect(new Set(store.prefixes).size).toBe(store.prefixes.length);
      for (const p of store.prefixes) expect(p).toMatch(new RegExp(`^sim-${seed}-[0-9a-f]{8}-r\\d$`));
      for (const [name, r] of Object.entries(report.invariants)) expect(r.ok, `seed ${seed} ${name}: ${JSON.stringify(r.violations.slice(0, 3))}`).toBe(true);
      expect(report.counts.errors).toBe(0);
      expect(report.counts.merges).toBeGreaterThan(0);
      expect(report.counts.accepted).toBeGreaterThan(0);
      crashes += report.counts.crashes;
      expect(await keysOfPrefixes(store.url, store.prefixes)).toEqual([]);
    }
    // Crash + restart (a new RedisStore on the same prefix) was exercised.
    expect(crashes).toBeGreaterThan(0);
  });

  it('same seed gives the same trace hash in Redis mode; against memory mode the traces differ only in store-specific order', async () => {
    for (const [seed, workload] of [[1, 'bank'], [2, 'bank']] as const) {
      const a = await simulateWithTrace({ seed, workload, steps: 120, store: 'redis', redisUrl });
      const b = await simulate({ seed, workload, steps: 120, store: 'redis', redisUrl });
      expect(b.traceHash).toBe(a.report.traceHash);
      expect(b.counts).toEqual(a.report.counts);
      const memory = await simulateWithTrace({ seed, workload, steps: 120 });
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
      const report = await simulate({ seed, steps: 120, store: 'redis', redisUrl, mergeStrategy: brokenStrategies.dropBranch, mergeStrategyName: 'dropBranch' });
      expect(report.store.kind).toBe('redis');
      caught.push(...Object.entries(report.invariants).filter(([, r]) => !r.ok).map(([name]) => name));
      if (report.store.kind === 'redis') expect(await keysOfPrefixes(redisUrl, report.store.prefixes)).toEqual([]);
    }
    expect(caught.some((name) => name === 'I1' || name === 'I3')).toBe(true);
  });

  it('deletes the run\'s keys when the run throws', async () => {
    const seed = 900_000_000 + Math.floor(Math.random() * 1_000_000);
    const bank = bankWorkload;
    const failing: Workload = {
      ...bank,
      name: 'failing',
      nextCommand: (rng, step, actors) => {
        if (step === 30) throw new Error('workload failed on purpose');
        return bank.nextCommand(rng, step, actors);
      },
    };
    await expect(simulate({ seed, workload: failing, steps: 60, store: 'redis', redisUrl })).rejects.toThrow('workload failed on purpose');
    expect(await keysLeft(`sim-${seed}-*`)).toEqual([]);
  });
});
