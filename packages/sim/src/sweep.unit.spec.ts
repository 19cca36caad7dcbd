import { bankWorkload } from '@troupe/bank';
import type { Workload } from '@troupe/runtime';
import { describe, expect, it } from 'vitest';
import type { SimCounts, SimReport } from './report.js';
import { simulate } from './simulate.js';
import { counterWorkload } from './workloads.js';

/** Every invariant holds over a sweep of seeds, and the sweep actually reaches the hard cases. */
async function sweep(workload: Workload, seeds: number): Promise<{ reports: SimReport[]; total: SimCounts }> {
  const reports: SimReport[] = [];
  for (let seed = 1; seed <= seeds; seed++) reports.push(await simulate({ seed, workload, steps: 150 }));
  const total = { ...reports[0]!.counts };
  for (const r of reports.slice(1)) for (const k of Object.keys(total) as (keyof SimCounts)[]) total[k] += r.counts[k];
  return { reports, total };
}

function failures(reports: SimReport[]): string[] {
  return reports.flatMap((r) =>
    Object.entries(r.invariants)
      .filter(([, v]) => !v.ok)
      .map(([name, v]) => `seed ${r.seed} ${name}: ${v.violations.map((x) => `${x.actor} ${x.detail}`).join('; ')}`),
  );
}

describe('seed sweep', () => {
  it('bank: 20 seeds, every invariant holds, with divergences, merges and compensations', async () => {
    const { reports, total } = await sweep(bankWorkload, 20);
    expect(failures(reports)).toEqual([]);
    expect(reports.every((r) => r.ok)).toBe(true);
    expect(total.errors).toBe(0);
    expect(total.divergences).toBeGreaterThan(0);
    expect(total.merges).toBeGreaterThan(0);
    expect(total.threeWayMerges).toBeGreaterThan(0);
    expect(total.compensations).toBeGreaterThan(0);
    expect(total.accepted).toBeGreaterThan(0);
    expect(total.rejected).toBeGreaterThan(0);
    expect(total.duplicates).toBeGreaterThan(0);
    expect(total.partitions).toBeGreaterThan(0);
    expect(total.clockSteps).toBeGreaterThan(0);
    expect(total.crashes).toBeGreaterThan(0);
    // Passivation is drawn too (off in some runs): actors are dropped and reloaded under the faults above.
    expect(total.passivations).toBeGreaterThan(0);
    expect(new Set(reports.map((r) => r.options.idleTimeoutMs === 0)).size).toBe(2);
    expect(total.droppedSyncs + total.delayedSyncs + total.duplicatedSyncs).toBeGreaterThan(0);
    expect(new Set(reports.map((r) => r.options.replicas)).size).toBeGreaterThan(2);
    expect(new Set(reports.map((r) => r.options.partitionMode)).size).toBeGreaterThan(2);
    for (const r of reports) for (const result of Object.values(r.invariants)) expect(result.checked).toBeGreaterThan(0);
  });

  it('counter: 15 seeds, every invariant holds, with merges and snapshot-bounded resolutions', async () => {
    const { reports, total } = await sweep(counterWorkload, 15);
    expect(failures(reports)).toEqual([]);
    expect(total.errors).toBe(0);
    expect(total.merges).toBeGreaterThan(0);
    expect(total.compensations).toBe(0);
    expect(reports.reduce((n, r) => n + r.invariants.I6.checked, 0)).toBeGreaterThan(0);
  });
});
