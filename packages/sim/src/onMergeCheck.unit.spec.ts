import { defineActor } from '@troupe/runtime';
import { describe, expect, it } from 'vitest';
import { simulate } from './simulate.js';
import type { Workload } from './workloads.js';

/** Stock sold on every replica; a merge books the oversell, as a record or (wrongly) as a delta. */
function stockWorkload(style: 'record' | 'delta'): Workload {
  const Stock = defineActor({
    type: 'stock',
    initial: () => ({ onHand: 20, oversold: 0 }),
    commands: { sell: (s, p: { n: number }) => (s.onHand >= p.n ? [{ type: 'sold', data: p }] : []) },
    events: {
      sold: (s, d: { n: number }) => ({ ...s, onHand: s.onHand - d.n }),
      oversold: (s, d: { n: number }) => ({ ...s, oversold: style === 'record' ? d.n : s.oversold + d.n }),
    },
    onMerge: (merged) => {
      const short = Math.max(0, -merged.onHand);
      if (style === 'record') return short !== merged.oversold ? [{ type: 'oversold', data: { n: short } }] : [];
      return short > 0 ? [{ type: 'oversold', data: { n: short } }] : [];
    },
  });
  return {
    name: `stock-${style}`,
    actors: [Stock],
    nextCommand: (rng) => ({ actor: Stock.ref('s'), type: 'sell', payload: { n: rng.int(1, 6) } }),
  };
}

describe('onMerge applied to its own result must emit nothing (#14 guard rail 10)', () => {
  it('a delta-style onMerge fails the run (I2 names the rule), a record-style one passes the same seeds', async () => {
    const options = { steps: 150, swarm: false, faults: { partition: 0.2, heal: 0.05 } } as const;
    let caught = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const good = await simulate({ ...options, seed, workload: stockWorkload('record') });
      expect(good.ok, `seed ${seed} record-style`).toBe(true);
      const bad = await simulate({ ...options, seed, workload: stockWorkload('delta') });
      // No merge of the record-style run booked an oversell: the delta style's onMerge emitted
      // nothing either (both emit on the first oversell only), so the seed cannot tell them apart.
      if (good.counts.compensations === 0) continue;
      expect(bad.ok, `seed ${seed} delta-style`).toBe(false);
      expect(bad.invariants.I2.violations.map((v) => v.detail).join('\n')).toMatch(/onMerge of 'stock' is not idempotent/);
      caught++;
    }
    expect(caught).toBeGreaterThan(0);
  });
});
