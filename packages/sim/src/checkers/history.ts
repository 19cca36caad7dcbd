import { type ActorView, type EventRecord, VC } from '@troupe/runtime';
import type { TracedState } from '../traced.js';
import type { CheckContext } from './types.js';

/** Ids of the events folded into a replica's final state of an actor, in fold order. */
export function appliedIds(view: ActorView | undefined): readonly string[] | undefined {
  const state = view?.state as TracedState | undefined;
  return state?.applied;
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
