import { type Workload, defineActor } from '@troupe/runtime';

export type { Workload, WorkloadCommand } from '@troupe/runtime';

export interface CounterState {
  readonly value: number;
}

/**
 * A commutative counter: every interleaving of increments gives the same value, so merges never
 * need compensation. Small `snapshotEvery`, so loads and resolutions go through snapshots (I6).
 */
export const Counter = defineActor({
  type: 'counter',
  initial: (): CounterState => ({ value: 0 }),
  commands: {
    add: (_s, p: { n: number }) => [{ type: 'added', data: { n: p.n } }],
  },
  events: {
    added: (s, d: { n: number }) => ({ value: s.value + d.n }),
  },
  snapshotEvery: 5,
});

/** The simulator's built-in workload (the default of `SimOptions.workload`): `add` of -5..10 (never 0) to one of `actors` counters. */
export const counterWorkload: Workload = {
  name: 'counter',
  actors: [Counter],
  nextCommand(rng, _step, actors) {
    const actor = Counter.ref(`n${rng.int(0, actors - 1)}`);
    return { actor, type: 'add', payload: { n: rng.int(-5, 10) || 1 } };
  },
};
