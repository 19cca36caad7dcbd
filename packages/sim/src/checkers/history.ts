import type { ActorView, EventRecord } from '@troupe/runtime';
import { VC } from '@troupe/runtime/store';
import { type TracedState, appliedLogOf } from '../traced.js';
import type { CheckContext } from './types.js';

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

/** Every event of one actor (over all replicas' packs) by id, with the version key of its pack. */
export function eventIndex(ctx: CheckContext, actorKey: string): Map<string, { event: EventRecord; pack: string }> {
  const index = new Map<string, { event: EventRecord; pack: string }>();
  for (const [key, pack] of ctx.allPacks.get(actorKey) ?? []) {
    for (const event of pack.events) if (!index.has(event.id)) index.set(event.id, { event, pack: key });
  }
  return index;
}

export const versionKey = VC.encode;
