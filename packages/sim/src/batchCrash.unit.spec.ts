import { bankWorkload } from '@troupe/bank';
import { describe, expect, it } from 'vitest';
import { simulate, simulateWithTrace } from './simulate.js';

/** Replicators killed mid-batch often; nothing else that reads a merged batch again (merge faults after the fact, replica crashes, replicator restarts), so every re-read is a crash's. */
const faults = { replicatorCrash: 0.25, storeFault: 0, crash: 0, replicatorRestart: 0 };
const seeds = [1, 2, 3, 4, 5, 6, 7, 8];

describe('replicators killed in the middle of a batch (batchCrash)', () => {
  it('the runtime Replicator survives them at both points: every invariant holds, the batch is read again and its actors resolved then', async () => {
    const points = new Map<string, number>();
    let reread = 0;
    for (const seed of seeds.slice(0, 5)) {
      for (const workload of [bankWorkload, undefined]) {
        const { report, trace } = await simulateWithTrace({ seed, steps: 150, faults, ...(workload ? { workload } : {}) });
        for (const [name, result] of Object.entries(report.invariants)) expect(result.violations, `seed ${seed} ${report.options.workload} ${name}`).toEqual([]);
        expect(report.counts.errors, `seed ${seed}`).toBe(0);
        const crashes = trace.events.filter((e) => e.k === 'batch-crash');
        expect(crashes).toHaveLength(report.counts.replicatorCrashes);
        for (const e of crashes) {
          const at = /right after merging/.test(String(e.error)) ? 'merged' : 'resolved';
          points.set(at, (points.get(at) ?? 0) + 1);
          // The restarted replicator's next sync of the link reads the batch again: skipped packs.
          const next = trace.events.find((x) => x.i > e.i && x.k === 'sync' && x.from === e.from && x.to === e.to);
          if (next && (next.skipped as number) > 0) reread++;
        }
      }
    }
    expect(points.get('merged') ?? 0).toBeGreaterThan(0);
    expect(points.get('resolved') ?? 0).toBeGreaterThan(0);
    expect(reread).toBeGreaterThan(0);
  }, 180_000);

  it('a recorded schedule with crashes mid-batch replays to the same trace; swarm draws the rate', async () => {
    const recorded = await simulate({ seed: 4, steps: 120, workload: bankWorkload, faults, recordSchedule: true });
    const steps = recorded.schedule!.filter((s) => s.k === 'batchCrash');
    expect(steps.length).toBeGreaterThan(0);
    for (const s of steps) {
      expect(s.from).not.toBe(s.to);
      expect(Object.keys(s).sort()).toEqual(['at', 'from', 'k', 't', 'to']);
    }
    const replayed = await simulate({ seed: 4, steps: 120, workload: bankWorkload, faults, schedule: JSON.parse(JSON.stringify(recorded.schedule)) });
    expect(replayed.traceHash).toBe(recorded.traceHash);
    expect(replayed.counts).toEqual(recorded.counts);
    // Drawn from side streams of the seed: without them, the run draws every other step as it does with them.
    const without = await simulate({ seed: 4, steps: 120, workload: bankWorkload, faults: { ...faults, replicatorCrash: 0 }, recordSchedule: true });
    expect(recorded.schedule!.filter((s) => s.k !== 'batchCrash')).toEqual(without.schedule);
    const rates = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(async (seed) => (await simulate({ seed, steps: 1 })).options.faults.replicatorCrash));
    expect(rates.some((r) => r === 0)).toBe(true);
    expect(rates.some((r) => r > 0)).toBe(true);
  }, 60_000);
});
