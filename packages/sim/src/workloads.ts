import { Account } from '@troupe/bank';
import { type ActorRef, type AnyActorDefinition, defineActor } from '@troupe/runtime';
import type { Rng } from './rng.js';

/** One client command: which actor, and the command as `runtime.send` takes it. */
export interface WorkloadCommand {
  readonly actor: ActorRef;
  readonly type: string;
  readonly payload: unknown;
}

/** What the clients do: the actor definitions to host and how to draw the next command. */
export interface Workload {
  readonly name: string;
  readonly actors: readonly AnyActorDefinition[];
  /** `actors` is the number of actor ids the run uses (an option of the run). */
  nextCommand(rng: Rng, step: number, actors: number): WorkloadCommand;
}

/** The bank app: open, deposit and withdraw on a few accounts; merges compensate overdrafts. */
export const bankWorkload: Workload = {
  name: 'bank',
  actors: [Account],
  nextCommand(rng, _step, actors) {
    const actor = Account.ref(`acc${rng.int(0, actors - 1)}`);
    const roll = rng.int(0, 99);
    const amount = rng.int(1, 60);
    if (roll < 10) return { actor, type: 'open', payload: { owner: `owner${rng.int(0, 9)}` } };
    if (roll < 50) return { actor, type: 'deposit', payload: { amount } };
    return { actor, type: 'withdraw', payload: { amount } };
  },
};

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

export const counterWorkload: Workload = {
  name: 'counter',
  actors: [Counter],
  nextCommand(rng, _step, actors) {
    const actor = Counter.ref(`n${rng.int(0, actors - 1)}`);
    return { actor, type: 'add', payload: { n: rng.int(-5, 10) || 1 } };
  },
};

export const workloads: Readonly<Record<string, Workload>> = { bank: bankWorkload, counter: counterWorkload };
