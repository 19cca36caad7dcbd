import { bankWorkload } from '@troupe/bank';
import { describe, expect, it } from 'vitest';
import type { ReplicatorFactory } from './executor.js';
import { plantedReplicator } from './testing/plantedReplicator.js';
import { simulate, simulateWithTrace } from './simulate.js';

/**
 * A planted bug of the class replicator restarts reveal (test only): a replicator that saves its
 * checkpoint before the batch's merge succeeded. Otherwise the runtime's `Replicator`: its own
 * cursor moves only after the merge, so while it keeps running it retries a failed batch and
 * nothing is lost; but a restart in between loads the saved cursor, past a batch the target never
 * got, and nothing copies that batch on this link again.
 */
const saveFirst: ReplicatorFactory = plantedReplicator('saveFirst');

/** Replicator restarts often, and merge faults for the planted bug to need them; no crashes (they restart replicators too). */
const faults = { replicatorRestart: 0.2, storeFault: 0.1, syncCut: 0.1, checkpointFail: 0.05, crash: 0 };
const seeds = [1, 2, 3, 4, 5, 6];
/** For the planted bug: two replicas, restarts less often (each lost or stale one repairs what it skipped), merge faults more. */
const plantedFaults = { replicatorRestart: 0.1, storeFault: 0.2, crash: 0 };

describe('replicator restarts with a kept, lost or stale checkpoint', () => {
  it('the runtime Replicator survives them: every invariant holds, and every kind of restart happened, lost and stale ones after saves', async () => {
    const seen = new Map<string, number>();
    let recopied = 0;
    for (const seed of seeds) {
      for (const workload of [bankWorkload, undefined]) {
        const { report, trace } = await simulateWithTrace({ seed, steps: 150, faults, ...(workload ? { workload } : {}) });
        for (const [name, result] of Object.entries(report.invariants)) expect(result.violations, `seed ${seed} ${report.options.workload} ${name}`).toEqual([]);
        expect(report.counts.errors, `seed ${seed}`).toBe(0);
        const restarts = trace.events.filter((e) => e.k === 'replicator-restart');
        expect(restarts).toHaveLength(report.counts.replicatorRestarts);
        for (const e of restarts) {
          // A lost or stale checkpoint matters only when a cursor had been saved.
          const kind = `${String(e.checkpoint)}${e.hadCursor ? '' : ' (none saved yet)'}`;
          seen.set(kind, (seen.get(kind) ?? 0) + 1);
          if (e.checkpoint !== 'kept' && e.hadCursor) {
            // The restarted replicator's first sync reads again what the target holds: skipped packs.
            const next = trace.events.find((x) => x.i > e.i && x.k === 'sync' && x.from === e.from && x.to === e.to);
            if (next && (next.skipped as number) > 0) recopied++;
          }
        }
      }
    }
    for (const kind of ['kept', 'lost', 'stale']) expect(seen.get(kind) ?? 0, `${kind}: ${JSON.stringify([...seen])}`).toBeGreaterThan(0);
    expect(recopied).toBeGreaterThan(0);
  }, 180_000);

  it('a replicator that saves its checkpoint before the merge succeeded is caught by restarts that keep the checkpoint; the runtime Replicator passes the same schedules', async () => {
    // The drawn schedule, less its lost and stale restarts: those copy the source's log again
    // (from no cursor or an older one) and so repair the batch the planted bug skipped; a kept
    // checkpoint is where the early save shows. Any subset of a schedule is a valid schedule.
    const caught: number[] = [];
    for (const seed of seeds.concat([7, 8])) {
      const options = { seed, steps: 150, workload: bankWorkload, faults: plantedFaults, replicas: 2 };
      const drawn = (await simulate({ ...options, recordSchedule: true })).schedule!;
      const kept = drawn.filter((s) => s.k !== 'replicator' || s.checkpoint === 'kept');
      const correct = await simulate({ ...options, schedule: kept });
      expect(correct.ok, `seed ${seed} with the runtime's Replicator`).toBe(true);
      const planted = await simulate({ ...options, schedule: kept, replicator: saveFirst });
      if (!planted.ok) {
        caught.push(seed);
        expect(planted.invariants.I2.ok, `seed ${seed}: the target lacks the skipped batch`).toBe(false);
      }
      // Without the restarts the same steps miss it: the replicator in memory retries the failed batch.
      const unrestarted = await simulate({ ...options, schedule: drawn.filter((s) => s.k !== 'replicator'), replicator: saveFirst });
      expect(unrestarted.ok, `seed ${seed} without restarts`).toBe(true);
    }
    expect(caught.length).toBeGreaterThanOrEqual(3);
    expect(caught[0]).toBeLessThanOrEqual(3);
  }, 180_000);

  it('a recorded schedule with replicator restarts replays to the same trace; each step carries what was drawn for it', async () => {
    const recorded = await simulate({ seed: 3, steps: 120, workload: bankWorkload, faults, recordSchedule: true });
    const steps = recorded.schedule!.filter((s) => s.k === 'replicator');
    expect(steps.length).toBeGreaterThan(0);
    for (const s of steps) {
      expect(s.from).not.toBe(s.to);
      expect(Object.keys(s).sort()).toEqual(s.checkpoint === 'stale' ? ['back', 'checkpoint', 'from', 'k', 't', 'to'] : ['checkpoint', 'from', 'k', 't', 'to']);
    }
    const replayed = await simulate({ seed: 3, steps: 120, workload: bankWorkload, faults, schedule: JSON.parse(JSON.stringify(recorded.schedule)) });
    expect(replayed.traceHash).toBe(recorded.traceHash);
    expect(replayed.counts).toEqual(recorded.counts);
  }, 60_000);
});
