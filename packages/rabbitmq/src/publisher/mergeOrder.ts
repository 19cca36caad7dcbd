import type { EventRecord, EventStore, Pack } from '@troupe/runtime';
import { MissingAncestorError, VC, actorKey } from '@troupe/runtime/store';
import { type AncestryLimits, commandHeads, compareEvents, copiesOf, defaultAncestryLimits, findDivergence, survivingCopy } from '@troupe/runtime/resolution';
import { type MergeMarker, publicationVersion } from './messages.js';

/**
 * The merge marker of a merge pack: the events after the common ancestor in the order the merge
 * replayed them, the copies it dropped, and its compensations. Recomputed from the store with the
 * runtime's own resolution steps (`commandHeads`, `findDivergence`, `compareEvents`,
 * `survivingCopy`), the same steps `computeMerge` takes, so the order is the one every region
 * folded: a merge pack's parents are the command heads it merged, so the walk from them finds the
 * same ancestor and the same packs. No actor definition is needed (nothing is folded) and nothing
 * is written; the cost is the merge's own: the packs after the ancestor, bounded by `limits`.
 */
export async function mergeMarker(store: EventStore, pack: Pack, limits: AncestryLimits = defaultAncestryLimits): Promise<MergeMarker> {
  const parentKeys = pack.parents.map((v) => VC.encode(v));
  const parents = await store.getPacks(pack.actor, parentKeys);
  const heads = parents.map((parent, i) => {
    if (!parent) throw new MissingAncestorError(actorKey(pack.actor), parentKeys[i]!);
    return parent;
  });
  const merged = await commandHeads(store, pack.actor, heads);
  const divergence = await findDivergence(store, pack.actor, merged, limits);

  const all: EventRecord[] = [];
  const packOf = new Map<EventRecord, string>();
  for (const { pack: visited } of divergence.packs) {
    const key = VC.encode(visited.version);
    for (const event of visited.events) {
      packOf.set(event, key);
      all.push(event);
    }
  }
  all.sort(compareEvents);

  // A command retried and accepted on two branches: the copy `survivingCopy` names is replayed,
  // the other's events are dropped (computeMerge's rule, through the same exported function).
  const owners = new Map<string, string>();
  const visited = divergence.packs.map((p) => p.pack);
  const commandIds = new Map<string, number>();
  for (const p of visited) for (const id of p.commandIds) commandIds.set(id, (commandIds.get(id) ?? 0) + 1);
  for (const [commandId, copies] of commandIds) if (copies > 1) owners.set(commandId, survivingCopy(copiesOf(commandId, visited)).key);

  const replayed: string[] = [];
  const dropped: string[] = [];
  for (const event of all) {
    const owner = owners.get(event.causationId);
    if (owner !== undefined && owner !== packOf.get(event)) dropped.push(event.id);
    else replayed.push(event.id);
  }
  return {
    v: publicationVersion,
    kind: 'merge',
    actor: { type: pack.actor.type, id: pack.actor.id },
    version: pack.version,
    heads: merged.map((p) => p.version),
    ...(divergence.ancestor ? { ancestor: divergence.ancestor.version } : {}),
    replayed,
    dropped,
    compensations: pack.events.map((e) => e.id),
  };
}

export { type AncestryLimits, defaultAncestryLimits };
