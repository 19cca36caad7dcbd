import { createHash } from 'node:crypto';
import { type AnyActorDefinition, type EventRecord, defineActor } from '@troupe/runtime';

/**
 * State of a traced actor: the actor's own state plus a digest of the ids of the events folded
 * into it, in fold order, and their count. The checkers read the fold order back from the
 * definition's `AppliedLog` (I1, I3, I5), whatever the actor keeps in its own state.
 *
 * Why a digest and not the list itself: a list grows with the history, so every fold copied it
 * and every snapshot and merge pack encoded it: the simulator slowed down as runs grew (a
 * 2,000-step run spent ~4 of its 6 s of simulation on it). Equal digests mean the same ids in
 * the same order, so comparing two states still compares their histories.
 */
export interface TracedState<S = unknown> {
  readonly inner: S;
  /** Digest of the applied event ids, in order ('' for none); look the ids up with `AppliedLog.ids`. */
  readonly applied: string;
  readonly count: number;
}

/**
 * Content-addressed log of fold orders: digest -> (previous digest, event id). Every fold of the
 * same ids in the same order, on any replica, lands on the same entries, so it holds each
 * distinct prefix once.
 */
export class AppliedLog {
  private readonly entries = new Map<string, { readonly previous: string; readonly id: string }>();

  /** The digest after folding `id` onto `previous`, recorded. */
  append(previous: string, id: string): string {
    const digest = createHash('sha1').update(previous).update('\u0000').update(id).digest('base64url').slice(0, 20);
    if (!this.entries.has(digest)) this.entries.set(digest, { previous, id });
    return digest;
  }

  /** The event ids a digest stands for, in fold order; throws on a digest this log never made. */
  ids(digest: string): string[] {
    const out: string[] = [];
    for (let at = digest; at !== ''; ) {
      const entry = this.entries.get(at);
      if (!entry) throw new Error(`applied log: unknown digest ${at}`);
      out.push(entry.id);
      at = entry.previous;
    }
    return out.reverse();
  }

  get size(): number {
    return this.entries.size;
  }
}

const logs = new WeakMap<AnyActorDefinition, AppliedLog>();

/** The log a traced definition records its fold orders in. */
export function appliedLogOf(definition: AnyActorDefinition): AppliedLog | undefined {
  return logs.get(definition);
}

/**
 * Wraps a definition without changing its behaviour: same type name, commands, validators,
 * events, compensations and snapshot threshold; the state just also records what was applied.
 * Each call makes a fresh log (one per simulation).
 */
export function traced(definition: AnyActorDefinition): AnyActorDefinition {
  const log = new AppliedLog();
  const commands: Record<string, (s: TracedState, p: unknown, c: never) => unknown> = {};
  for (const [name, decide] of Object.entries(definition.commands)) {
    commands[name] = (s, p, c) => (decide as (s: unknown, p: unknown, c: unknown) => unknown)(s.inner, p, c);
  }
  const events: Record<string, (s: TracedState, d: unknown, e: EventRecord) => TracedState> = {};
  for (const [name, evolve] of Object.entries(definition.events)) {
    events[name] = (s, d, e) => ({
      inner: (evolve as (s: unknown, d: unknown, e: EventRecord) => unknown)(s.inner, d, e),
      applied: log.append(s.applied, e.id),
      count: s.count + 1,
    });
  }
  const onMerge = definition.onMerge;
  const wrapped = defineActor<TracedState, Record<string, unknown>, Record<string, unknown>>({
    type: definition.type,
    initial: () => ({ inner: definition.initial(), applied: '', count: 0 }),
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
  logs.set(wrapped, log);
  return wrapped;
}
