import { describe, expect, it } from 'vitest';
import { canonical } from './canonical.js';
import { simulate } from './simulate.js';

describe('determinism', () => {
  it('the same seed twice gives the same trace hash, counts and verdicts', async () => {
    for (const workload of ['bank', 'counter'] as const) {
      const a = await simulate({ seed: 42, workload, steps: 120 });
      const b = await simulate({ seed: 42, workload, steps: 120 });
      expect(a.traceHash).toMatch(/^[0-9a-f]{64}$/);
      expect(b.traceHash).toBe(a.traceHash);
      expect(b.counts).toEqual(a.counts);
      expect(b.options).toEqual(a.options);
      expect(canonical(b.invariants)).toBe(canonical(a.invariants));
      expect(b.replicas).toEqual(a.replicas);
    }
  });

  it('different seeds give different hashes', async () => {
    const hashes = await Promise.all([1, 2, 3].map(async (seed) => (await simulate({ seed, steps: 60 })).traceHash));
    expect(new Set(hashes).size).toBe(3);
  });

  it('fixing one option keeps the other drawn options of the seed', async () => {
    const drawn = await simulate({ seed: 5, steps: 30 });
    const fixed = await simulate({ seed: 5, steps: 30, replicas: drawn.options.replicas === 2 ? 3 : 2 });
    expect({ ...fixed.options, replicas: 0 }).toEqual({ ...drawn.options, replicas: 0 });
  });

  it('without swarm the defaults are fixed: 3 replicas, mixed partitions', async () => {
    const report = await simulate({ seed: 9, steps: 30, swarm: false });
    expect(report.options.replicas).toBe(3);
    expect(report.options.partitionMode).toBe('mixed');
    expect(report.replicas.map((r) => r.id)).toEqual(['r0', 'r1', 'r2']);
  });
});
