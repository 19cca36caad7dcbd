import type { ActorRef, ActorView, EventRecord } from '@troupe/runtime';
import { VC, actorKey } from '@troupe/runtime/store';
import { type TracedState, appliedLogOf } from '../traced.js';
import type { CheckContext, Verdict } from './types.js';

/** Ids of the events folded into a replica's final state of an actor, in fold order (from the traced definition's log). */
export function appliedIds(ctx: CheckContext, actorType: string, view: ActorView | undefined): readonly string[] | undefined {
  const state = view?.state as TracedState | undefined;
  if (!state) return undefined;
  const log = appliedLogOf(ctx.definitions.get(actorType)!);
  if (!log) throw new Error(`actor type '${actorType}' is not traced`);
  const ids = log.ids(state.applied);
  if (ids.length !== state.count) throw new Error(`applied log: digest ${state.applied} stands for ${ids.length} events, the state counted ${state.count}`);
  return ids;
}

/**
 * What a check found in one replica's final history of an actor: how many things it checked and
 * its failures (each without the replica's name, which `reportPerReplica` puts in front).
 */
export interface HistoryOutcome {
  readonly checked: number;
  readonly failures: readonly string[];
}

/**
 * Runs `check` on each replica's final history of an actor (the ids `appliedIds` reads), once per
 * distinct fold order, and reports its outcome for every replica, in replica order, as if it had
 * run for each: replicas whose states name the same applied digest and count folded the same
 * events in the same order (the `AppliedLog` interns fold orders: equal digests are equal
 * orders), and a check of the fold order alone finds the same there. After a converged run the
 * replicas hold one history, so this checks it once instead of once per replica. Replicas
 * without a state (not converged: I2) are skipped.
 */
export function reportPerReplica(ctx: CheckContext, actor: ActorRef, verdict: Verdict, check: (applied: readonly string[]) => HistoryOutcome): void {
  const key = actorKey(actor);
  const outcomes = new Map<string, HistoryOutcome>();
  for (const replica of ctx.replicas) {
    const view = replica.views.get(key);
    const state = view?.state as TracedState | undefined;
    if (!state) continue;
    const order = `${state.count} ${state.applied}`;
    let outcome = outcomes.get(order);
    if (!outcome) outcomes.set(order, (outcome = check(appliedIds(ctx, actor.type, view)!)));
    verdict.checked += outcome.checked;
    for (const failure of outcome.failures) verdict.fail(key, `${replica.id}: ${failure}`);
  }
}

/** Every event of one actor (over all replicas' packs) by id, with the version key of its pack. */
export function eventIndex(ctx: CheckContext, actorKey: string): Map<string, { event: EventRecord; pack: string }> {
  const index = new Map<string, { event: EventRecord; pack: string }>();
  for (const [key, pack] of ctx.allPacks.get(actorKey) ?? []) {
    for (const event of pack.events) if (!index.has(event.id)) index.set(event.id, { event, pack: key });
  }
  return index;
}

export const versionKey = VC.encode;
