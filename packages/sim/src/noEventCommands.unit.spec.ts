import { defineActor } from '@troupe/runtime';
import { describe, expect, it } from 'vitest';
import { simulate } from './simulate.js';
import type { Workload } from './workloads.js';

/**
 * Commands that emit no event still write a pack. Snapshots once counted events only, so an actor
 * driven mostly by such commands piled up packs without a snapshot and its loads read them all:
 * I6 failed on these seeds (runtime regression R14).
 */
const Touch = defineActor({
  type: 'touch',
  initial: () => ({ n: 0 }),
  commands: { touch: () => [], add: () => [{ type: 'added', data: {} }] },
  events: { added: (s: { n: number }) => ({ n: s.n + 1 }) },
  snapshotEvery: 2,
});

const mostlyNoEvents: Workload = {
  name: 'touch',
  actors: [Touch],
  nextCommand: (rng, _step, actors) => ({ actor: { type: 'touch', id: `t${rng.int(0, actors - 1)}` }, type: rng.int(0, 4) === 0 ? 'add' : 'touch', payload: {} }),
};

describe('commands that emit no event', () => {
  it('keep every invariant, I6 included, under crashes (loads read at most snapshotEvery packs)', async () => {
    for (let seed = 1; seed <= 8; seed++) {
      const report = await simulate({ seed, workload: mostlyNoEvents, steps: 150, faults: { crash: 0.05 } });
      expect(report.invariants.I6.checked).toBeGreaterThan(0);
      expect(report.invariants.I6.violations, `seed ${seed}`).toEqual([]);
      expect(report.ok, `seed ${seed}`).toBe(true);
    }
  });
});
