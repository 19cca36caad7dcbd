import { bankWorkload } from '@troupe/bank';
import { describe, expect, it } from 'vitest';
import { canonical } from './canonical.js';
import { simulate } from './simulate.js';
import { counterWorkload } from './workloads.js';

const bank = bankWorkload;

describe('determinism', () => {
  it('the same seed twice gives the same trace hash, counts and verdicts', async () => {
    for (const workload of [bankWorkload, counterWorkload]) {
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
    const hashes = await Promise.all([1, 2, 3].map(async (seed) => (await simulate({ seed, workload: bank, steps: 60 })).traceHash));
    expect(new Set(hashes).size).toBe(3);
  });

  it('fixing one option keeps the other drawn options of the seed', async () => {
    const drawn = await simulate({ seed: 5, workload: bank, steps: 30 });
    const fixed = await simulate({ seed: 5, workload: bank, steps: 30, replicas: drawn.options.replicas === 2 ? 3 : 2 });
    expect({ ...fixed.options, replicas: 0 }).toEqual({ ...drawn.options, replicas: 0 });
  });

  it('without swarm the defaults are fixed: 3 replicas, mixed partitions', async () => {
    const report = await simulate({ seed: 9, workload: bank, steps: 30, swarm: false });
    expect(report.options.replicas).toBe(3);
    expect(report.options.partitionMode).toBe('mixed');
    expect(report.replicas.map((r) => r.id)).toEqual(['r0', 'r1', 'r2']);
  });

  it('commandsPerTick: many client steps per tick, deterministic, and a recorded schedule replays to the same trace', async () => {
    const options = { seed: 77, workload: counterWorkload, steps: 40, actors: 20, commandsPerTick: 8 };
    const a = await simulate({ ...options, recordSchedule: true });
    const b = await simulate(options);
    expect(a.ok).toBe(true);
    expect(b.traceHash).toBe(a.traceHash);
    expect(a.options.commandsPerTick).toBe(8);
    // One client step per tick sends about one command (plus bursts); eight send several times more.
    const single = await simulate({ ...options, commandsPerTick: 1 });
    expect(a.counts.commands).toBeGreaterThan(4 * single.counts.commands);
    expect(a.counts.divergences).toBeGreaterThan(0);
    const replayed = await simulate({ ...options, schedule: JSON.parse(JSON.stringify(a.schedule)) });
    expect(replayed.traceHash).toBe(a.traceHash);
    expect(replayed.counts).toEqual(a.counts);
  });

  it('commandsPerTick must be an integer >= 1', async () => {
    await expect(simulate({ seed: 1, steps: 5, commandsPerTick: 0 })).rejects.toThrow(/commandsPerTick/);
    await expect(simulate({ seed: 1, steps: 5, commandsPerTick: 1.5 })).rejects.toThrow(/commandsPerTick/);
  });

  it('the default commandsPerTick leaves the trace as it was (it is not in the options line)', async () => {
    const implicit = await simulate({ seed: 3, workload: bank, steps: 30 });
    const explicit = await simulate({ seed: 3, workload: bank, steps: 30, commandsPerTick: 1 });
    expect(explicit.traceHash).toBe(implicit.traceHash);
    const more = await simulate({ seed: 3, workload: bank, steps: 30, commandsPerTick: 2 });
    expect(more.traceHash).not.toBe(implicit.traceHash);
  });
});
