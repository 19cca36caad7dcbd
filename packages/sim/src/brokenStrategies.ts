import type { ActorRef, EventRecord, EventStore } from '@troupe/runtime';
import { type Pack, VC } from '@troupe/runtime/store';
import { type MergeStrategy, compareEvents, computeMerge, findDivergence, fold, stateAt } from '@troupe/runtime/resolution';

/**
 * Deliberately wrong resolutions, each a wrapper around the real `computeMerge` that alters its
 * outcome (`pack`, `state`), to show that the checkers catch each kind of mistake. Factories take
 * the replica id, because some mistakes depend on where the merge runs.
 */

const eventKey = (e: EventRecord) => `${e.id}@${e.replica}`;

type Outcome = Awaited<ReturnType<MergeStrategy>>;

function withState(outcome: Outcome, state: unknown): Outcome {
  return { ...outcome, state, pack: { ...outcome.pack, state } };
}

async function ancestorStateOf(store: EventStore, definition: Parameters<MergeStrategy>[1], actor: ActorRef, ancestor: Pack | undefined) {
  return ancestor ? (await stateAt(store, definition, actor, ancestor.version)).state : definition.initial();
}

/** Every pack a head descends from (itself included), read one by one from the store. */
async function wholeHistory(store: EventStore, actor: ActorRef, head: Pack): Promise<Pack[]> {
  const seen = new Map<string, Pack>([[VC.encode(head.version), head]]);
  let frontier = [head];
  while (frontier.length > 0) {
    const keys = [...new Set(frontier.flatMap((p) => p.parents.map(VC.encode)))].filter((k) => !seen.has(k));
    const parents = (await store.getPacks(actor, keys)).filter((p): p is Pack => p !== undefined);
    for (const p of parents) seen.set(VC.encode(p.version), p);
    frontier = parents;
  }
  return [...seen.values()];
}

/**
 * (a) Wrong ancestor: ignores the common ancestor (and snapshots) and replays every branch from
 * the initial state, so the shared history before the divergence is folded once per branch.
 */
export const wrongAncestor = (): MergeStrategy => async (store, definition, actor, heads, limits) => {
  const outcome = await computeMerge(store, definition, actor, heads, limits);
  const events: EventRecord[] = [];
  for (const head of outcome.heads) for (const pack of await wholeHistory(store, actor, head)) events.push(...pack.events);
  events.sort(compareEvents);
  return withState(outcome, fold(definition, fold(definition, definition.initial(), events), outcome.compensations));
};

/** (b) Arrival order: replays the branch events in the order the ancestor walk found them, not (ts, id). */
export const arrivalOrder = (): MergeStrategy => async (store, definition, actor, heads, limits) => {
  const outcome = await computeMerge(store, definition, actor, heads, limits);
  const kept = new Set(outcome.replayed.map(eventKey));
  const divergence = await findDivergence(store, actor, outcome.heads, limits);
  const walked = divergence.packs.flatMap((p) => p.pack.events).filter((e) => kept.has(eventKey(e)));
  const base = await ancestorStateOf(store, definition, actor, outcome.ancestor);
  return withState(outcome, fold(definition, fold(definition, base, walked), outcome.compensations));
};

/** (c) Per-replica version: the merge version also counts the resolving replica, so replicas disagree. */
export const perReplicaVersion = (replicaId: string): MergeStrategy => async (store, definition, actor, heads, limits) => {
  const outcome = await computeMerge(store, definition, actor, heads, limits);
  const version = { ...outcome.pack.version, [replicaId]: (outcome.pack.version[replicaId] ?? 0) + 1 };
  return { ...outcome, pack: { ...outcome.pack, version } };
};

/** (d) Drops a branch: events reached only from the last command head are not replayed. */
export const dropBranch = (): MergeStrategy => async (store, definition, actor, heads, limits) => {
  const outcome = await computeMerge(store, definition, actor, heads, limits);
  const others = new Set(outcome.branches.slice(0, -1).flat().map(eventKey));
  const lost = new Set((outcome.branches.at(-1) ?? []).map(eventKey).filter((k) => !others.has(k)));
  const base = await ancestorStateOf(store, definition, actor, outcome.ancestor);
  const events = outcome.replayed.filter((e) => !lost.has(eventKey(e)));
  return withState(outcome, fold(definition, fold(definition, base, events), outcome.compensations));
};

export const brokenStrategies = { wrongAncestor, arrivalOrder, perReplicaVersion, dropBranch } as const;
export type BrokenStrategyName = keyof typeof brokenStrategies;
