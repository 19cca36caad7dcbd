import { type DecideContext, defineActor } from '@troupe/runtime';

/** The actor every throughput and resolution scenario uses: one command, one event, a number. */
export interface CounterState {
  readonly value: number;
}

export const Counter = defineActor({
  type: 'counter',
  initial: (): CounterState => ({ value: 0 }),
  commands: {
    add: (_s: CounterState, p: { by: number }) => [{ type: 'added', data: { by: p.by } }],
  },
  events: {
    added: (s: CounterState, d: { by: number }) => ({ value: s.value + d.by }),
  },
  // The runtime default, stated so the resolution scenario can honour it when it writes packs itself.
  snapshotEvery: 100,
});

type Decide = (s: CounterState, p: unknown, ctx: DecideContext) => readonly { type: string; data: unknown }[];
type Evolve = (s: CounterState, d: unknown, e: never) => CounterState;

const decideCtx: DecideContext = { actor: { type: 'counter', id: 'raw' }, commandId: 'raw', now: 0, replica: 'raw' };

/**
 * The raw baseline: the same decide and evolve functions of the definition, looked up by name
 * and folded in a plain loop, with a fresh payload per command as a caller of `send` would make.
 * No runtime, no store, no ids, no promises.
 */
export function rawFoldOne(state: CounterState, by: number): CounterState {
  const decide = Counter.commands.add as Decide;
  const events = decide(state, { by }, decideCtx);
  let s = state;
  for (const e of events) s = (Counter.events[e.type as 'added'] as Evolve)(s, e.data, undefined as never);
  return s;
}
