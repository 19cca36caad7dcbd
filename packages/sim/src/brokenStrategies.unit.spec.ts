import { bankWorkload } from '@troupe/bank';
import { describe, expect, it } from 'vitest';
import type { InvariantName } from './checkers/index.js';
import { type BrokenStrategyName, brokenStrategies } from './brokenStrategies.js';
import { simulate } from './simulate.js';

/**
 * The checkers must be able to fail: each deliberately broken resolution, plugged into every
 * replica's runtime, is reported by the invariant it breaks within a few seeds.
 */
const cases: { name: BrokenStrategyName; expected: InvariantName[]; steps: number }[] = [
  { name: 'wrongAncestor', expected: ['I1', 'I3'], steps: 120 },
  { name: 'arrivalOrder', expected: ['I3'], steps: 120 },
  { name: 'dropBranch', expected: ['I1', 'I3'], steps: 120 },
  // Per-replica versions: replicas write different merges and never settle (I2), or a replica
  // recomputing another's merge gets another pack (I4).
  { name: 'perReplicaVersion', expected: ['I2', 'I4'], steps: 80 },
];

describe('broken merge strategies are caught', () => {
  for (const { name, expected, steps } of cases) {
    it(`${name} is reported by ${expected.join(' or ')}`, async () => {
      const caught: string[] = [];
      for (let seed = 1; seed <= 5 && caught.length === 0; seed++) {
        const report = await simulate({ seed, workload: bankWorkload, steps, mergeStrategy: brokenStrategies[name], mergeStrategyName: name });
        expect(report.options.mergeStrategy).toBe(name);
        if (report.ok) continue;
        const failed = (Object.keys(report.invariants) as InvariantName[]).filter((k) => !report.invariants[k].ok);
        // Nothing is blamed that the mistake cannot explain.
        expect(failed.some((k) => expected.includes(k)), `seed ${seed} failed ${failed.join(',')}`).toBe(true);
        caught.push(...failed);
      }
      expect(caught.length, `${name} went unnoticed for 5 seeds`).toBeGreaterThan(0);
    });
  }

  it('the real computeMerge passes the same seeds', async () => {
    for (let seed = 1; seed <= 3; seed++) expect((await simulate({ seed, workload: bankWorkload, steps: 120 })).ok).toBe(true);
  });
});
