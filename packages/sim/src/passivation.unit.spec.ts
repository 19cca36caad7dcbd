import { bankWorkload } from '@troupe/bank';
import { describe, expect, it } from 'vitest';
import { simulate, simulateWithTrace } from './simulate.js';
import { counterWorkload } from './workloads.js';

/**
 * Replicas passivate idle actors at the start of every tick (on their virtual clocks), so actors
 * are reloaded from the store between commands, syncs and resolutions, under every fault.
 */
describe('passivation', () => {
  it('happens in runs, is traced, and every invariant still holds (bank and counter, crashes and clock jumps included)', async () => {
    let passivations = 0;
    for (const workload of [bankWorkload, counterWorkload]) {
      for (let seed = 1; seed <= 4; seed++) {
        const { report, trace } = await simulateWithTrace({ seed, workload, steps: 150, idleTimeoutMs: 20, faults: { crash: 0.03, clockSkew: 0.03 } });
        expect(report.options.idleTimeoutMs).toBe(20);
        expect(report.ok, `${workload.name} seed ${seed}: ${JSON.stringify(Object.entries(report.invariants).filter(([, r]) => !r.ok))}`).toBe(true);
        expect(report.counts.errors).toBe(0);
        const traced = trace.events.filter((e) => e.k === 'passivate').reduce((n, e) => n + (e.actors as number), 0);
        expect(traced).toBe(report.counts.passivations);
        passivations += report.counts.passivations;
      }
    }
    expect(passivations).toBeGreaterThan(40);
  });

  it('is deterministic and replays from a recorded schedule; 0 switches it off', async () => {
    const options = { seed: 11, workload: bankWorkload, steps: 120, idleTimeoutMs: 15 };
    const recorded = await simulate({ ...options, recordSchedule: true });
    expect(recorded.counts.passivations).toBeGreaterThan(0);
    const replayed = await simulate({ ...options, schedule: recorded.schedule! });
    expect(replayed.traceHash).toBe(recorded.traceHash);
    expect(replayed.counts).toEqual(recorded.counts);
    const off = await simulate({ ...options, idleTimeoutMs: 0 });
    expect(off.counts.passivations).toBe(0);
    await expect(simulate({ ...options, idleTimeoutMs: -1 })).rejects.toThrow(/option 'idleTimeoutMs'/);
  });

  it('is drawn by swarm: off in some runs, on (10-1,000 ms) in most', async () => {
    const drawn = await Promise.all(Array.from({ length: 12 }, (_, i) => simulate({ seed: i + 1, steps: 1 })));
    const timeouts = drawn.map((r) => r.options.idleTimeoutMs);
    expect(timeouts.some((ms) => ms === 0)).toBe(true);
    expect(timeouts.filter((ms) => ms >= 10 && ms <= 1_000).length).toBeGreaterThan(6);
    expect((await simulate({ seed: 1, steps: 1, swarm: false })).options.idleTimeoutMs).toBe(250);
  });
});
