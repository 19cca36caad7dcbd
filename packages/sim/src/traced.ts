import { type AnyActorDefinition, type EventRecord, defineActor } from '@troupe/runtime';

/**
 * State of a traced actor: the actor's own state plus the ids of the events folded into it, in
 * fold order. The checkers read `applied` to see exactly which events a replica's final state
 * contains and in which order (I1, I3, I5), whatever the actor keeps in its own state.
 */
export interface TracedState<S = unknown> {
  readonly inner: S;
  readonly applied: readonly string[];
}

/**
 * Wraps a definition without changing its behaviour: same type name, commands, validators,
 * events, compensations and snapshot threshold; the state just also records applied event ids.
 */
export function traced(definition: AnyActorDefinition): AnyActorDefinition {
  const commands: Record<string, (s: TracedState, p: unknown, c: never) => unknown> = {};
  for (const [name, decide] of Object.entries(definition.commands)) {
    commands[name] = (s, p, c) => (decide as (s: unknown, p: unknown, c: unknown) => unknown)(s.inner, p, c);
  }
  const events: Record<string, (s: TracedState, d: unknown, e: EventRecord) => TracedState> = {};
  for (const [name, evolve] of Object.entries(definition.events)) {
    events[name] = (s, d, e) => ({
      inner: (evolve as (s: unknown, d: unknown, e: EventRecord) => unknown)(s.inner, d, e),
      applied: [...s.applied, e.id],
    });
  }
  const onMerge = definition.onMerge;
  return defineActor<TracedState, Record<string, unknown>, Record<string, unknown>>({
    type: definition.type,
    initial: () => ({ inner: definition.initial(), applied: [] }),
    commands: commands as never,
    events: events as never,
    ...(definition.validate ? { validate: definition.validate } : {}),
    ...(onMerge
      ? {
          onMerge: (merged, ctx) =>
            onMerge(merged.inner, { ...ctx, ancestorState: ctx.ancestorState.inner }) as never,
        }
      : {}),
    snapshotEvery: definition.snapshotEvery,
  });
}
