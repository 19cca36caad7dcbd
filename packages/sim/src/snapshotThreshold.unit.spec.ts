import { bankWorkload } from '@troupe/bank';
import { describe, expect, it, vi } from 'vitest';
import { simulate } from './simulate.js';

/**
 * The planted bug: the runtime writes a snapshot one event late (`>` where it means `>=`), for
 * this file only. The entity asks `snapshotWeight(pack)` twice per appended pack: first whether a
 * snapshot is due (`since + weight >= snapshotEvery`), then to count the pack; answering the first
 * question one lower is exactly `since + weight > snapshotEvery`. A load then reads
 * `snapshotEvery + 1` packs: I6. With one fixed shape (the bank's `snapshotEvery` 100) the runs
 * rarely reach a load that long; swarm draws the workload and `snapshotEvery` 1-200, so a few
 * seeds find it.
 */
vi.mock('../../runtime/src/resolution/resolve.ts', async (importOriginal) => {
  const original = await importOriginal<Record<string, unknown>>();
  const snapshotWeight = original.snapshotWeight as (pack: { readonly events: readonly unknown[] }) => number;
  const asked = new WeakSet<object>();
  return {
    ...original,
    snapshotWeight(pack: { readonly events: readonly unknown[] }): number {
      const weight = snapshotWeight(pack);
      if (asked.has(pack)) return weight;
      asked.add(pack);
      return weight - 1;
    },
  };
});

const seeds = Array.from({ length: 12 }, (_, i) => i + 1);

describe('swarm over workloads finds a snapshot threshold off by one', () => {
  it('a swarm sweep of a few seeds fails I6 (the drawn workload and shape in the report)', async () => {
    const caught: string[] = [];
    for (const seed of seeds) {
      const report = await simulate({ seed, steps: 150, workloads: [bankWorkload] });
      expect(report.options.shape, `seed ${seed}`).toBeDefined();
      if (!report.invariants.I6.ok) caught.push(`${seed} ${report.options.workload} snapshotEvery ${report.options.shape!.snapshotEvery}`);
    }
    expect(caught.length).toBeGreaterThan(0);
  });

  it('the same seeds with the bank as the one fixed workload do not', async () => {
    for (const seed of seeds) {
      const report = await simulate({ seed, steps: 150, workload: bankWorkload });
      expect(report.options.shape).toBeUndefined();
      expect(report.invariants.I6.ok, `seed ${seed}`).toBe(true);
    }
  });
});
