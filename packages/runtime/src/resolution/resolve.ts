import { type AnyActorDefinition, compareEvents, fold } from '../actor/index.js';
import { InvalidDefinitionError, TroupeError } from '../errors/index.js';
import { type ActorRef, type EventRecord, type Pack, actorKey } from '../model/index.js';
import type { EventStore } from '../store/index.js';
import { VC, type VectorClock } from '../vectorClock/index.js';
import { type AncestryLimits, commandHeads, defaultAncestryLimits, findDivergence } from './ancestry.js';
import { copiesOf, survivingCopy } from './survivingCopy.js';
import { tick } from './hybridTime.js';

/** Label written as `replica` on merge packs and their events: merges belong to no single replica. */
export const mergeReplica = 'merge';

export interface MergeOutcome {
  /** The merge pack to append with the current heads as expected heads. */
  readonly pack: Pack;
  /** State after the merge (also carried by the pack). */
  readonly state: unknown;
  /** The command heads that were merged, canonical order. */
  readonly heads: readonly Pack[];
  /** The latest common ancestor, undefined when the branches share no pack. */
  readonly ancestor?: Pack;
  /** Events replayed on the ancestor's state, in replay order (duplicates dropped). */
  readonly replayed: readonly EventRecord[];
  /** The replayed events of each branch (one per command head, same order as `heads`), in replay order. */
  readonly branches: readonly (readonly EventRecord[])[];
  /** Events dropped because their command id was already applied on another branch. */
  readonly droppedDuplicates: readonly EventRecord[];
  /** Compensation events from `onMerge`. */
  readonly compensations: readonly EventRecord[];
  /** Packs read after the ancestor: the cost of the resolution. */
  readonly packsVisited: number;
  /**
   * What `onMerge` emits when applied again to the state its compensations produced, with the
   * same context: empty for a well-written `onMerge` ("record the overdraft if not yet
   * recorded"). Anything here means a delta-style compensation that a later merge covering this
   * one would book twice; the runtime warns or throws (`RuntimeOptions.onMergeCheck`).
   */
  readonly compensationsOnRecheck: readonly { readonly type: string }[];
}

/**
 * State at a version: nearest snapshot (or merge) on its chain plus the packs after it. When that
 * took `snapshotEvery` or more (counted by `snapshotWeight`: a history that arrived without
 * snapshots), it saves one, so the cost is paid once.
 */
export async function stateAt(
  store: EventStore,
  definition: AnyActorDefinition,
  actor: ActorRef,
  version: VectorClock,
): Promise<StateAt> {
  const chain = await store.loadChain(actor, VC.encode(version));
  const events = chain.packs.flatMap((p) => p.events);
  const state = fold(definition, chain.base ? chain.base.state : definition.initial(), events);
  const sinceSnapshot = chain.packs.reduce((n, p) => n + snapshotWeight(p), 0);
  const read = { packsRead: chain.packs.length, fromSnapshot: chain.base !== undefined };
  if (sinceSnapshot < definition.snapshotEvery) return { state, sinceSnapshot, ...read };
  await store.saveSnapshot(actor, { version, state });
  return { state, sinceSnapshot: 0, ...read };
}

/** What `stateAt` read and folded. */
export interface StateAt {
  readonly state: unknown;
  /** Weight (`snapshotWeight`) of the packs since the last snapshot at that version; 0 right after one was saved. */
  readonly sinceSnapshot: number;
  /** Packs folded on top of the base. */
  readonly packsRead: number;
  /** The fold started from a snapshot or a merge pack's state, not from `initial()`. */
  readonly fromSnapshot: boolean;
}

/**
 * What a pack counts toward `snapshotEvery`: its events, and at least 1. A command that emitted
 * nothing still writes a pack (its command id is recorded), so counting events alone let a run of
 * such packs grow without a snapshot, and a load read all of them (I6 bounds the packs a load reads).
 */
export function snapshotWeight(pack: { readonly events: readonly unknown[] }): number {
  return Math.max(1, pack.events.length);
}

/**
 * Computes the merge of several heads, deterministically: the same version and the same pack on
 * every replica, whatever order or grouping the branches were merged in.
 *
 * 1. the heads are reduced to the command heads they stand for (merges of merges unfold);
 * 2. the latest common ancestor is found by walking back from them (only packs after it are read);
 * 3. every event after it on every branch is replayed on its state in (ts, id, replica) order,
 *    which puts causes before effects because timestamps are hybrid, with events of a command id
 *    already applied on another branch dropped;
 * 4. `onMerge` adds compensations; the pack's version is the pointwise max of the heads.
 */
export async function computeMerge(
  store: EventStore,
  definition: AnyActorDefinition,
  actor: ActorRef,
  heads: readonly Pack[],
  limits: AncestryLimits = defaultAncestryLimits,
): Promise<MergeOutcome> {
  const merged = await commandHeads(store, actor, heads);
  const divergence = await findDivergence(store, actor, merged, limits);
  const ancestorState = divergence.ancestor
    ? (await stateAt(store, definition, actor, divergence.ancestor.version)).state
    : definition.initial();

  const branches: EventRecord[][] = merged.map(() => []);
  const all: EventRecord[] = [];
  const packOf = new Map<EventRecord, string>();
  // Each pack is visited once and events are never shared between packs, so nothing is deduplicated
  // by event id (ids of replicas given the same machine id could collide).
  for (const { pack, headMask } of divergence.packs) {
    const key = VC.encode(pack.version);
    for (const event of pack.events) {
      packOf.set(event, key);
      all.push(event);
      merged.forEach((_, i) => {
        if (headMask & (1 << i)) branches[i]!.push(event);
      });
    }
  }
  all.sort(compareEvents);

  // A command retried at two replicas during a partition was applied on both branches: keep the
  // events of the pack that replays first, drop the other's.
  const owners = duplicateCommandOwners(divergence.packs.map((p) => p.pack));
  const replayed: EventRecord[] = [];
  const dropped = new Set<EventRecord>();
  for (const event of all) {
    const owner = owners.get(event.causationId);
    if (owner !== undefined && owner !== packOf.get(event)) dropped.add(event);
    else replayed.push(event);
  }
  const droppedDuplicates = [...dropped];

  const foldedState = replayOrExplain(definition, actor, ancestorState, replayed);
  const version = VC.mergeAll(merged.map((p) => p.version));
  const versionKey = VC.encode(version);
  const ts = Math.max(...merged.map((p) => p.ts)) + tick;
  const branchEvents = branches.map((b) => b.filter((e) => !dropped.has(e)).sort(compareEvents));
  const context = { actor, ancestorState, replayed, branches: branchEvents };
  const emitted = definition.onMerge ? definition.onMerge(foldedState, context) : [];
  const compensations: EventRecord[] = emitted.map((e, i) => ({
    id: `m${versionKey}#${String(i).padStart(4, '0')}`,
    actor: { type: actor.type, id: actor.id },
    type: e.type,
    data: e.data,
    ts,
    correlationId: `merge:${versionKey}`,
    causationId: `merge:${versionKey}`,
    replica: mergeReplica,
  }));
  const state = fold(definition, foldedState, compensations);
  const compensationsOnRecheck = definition.onMerge && compensations.length > 0 ? definition.onMerge(state, context) : [];
  const pack: Pack = {
    actor: { type: actor.type, id: actor.id },
    kind: 'merge',
    version,
    parents: merged.map((p) => p.version),
    events: compensations,
    commandIds: [],
    replica: mergeReplica,
    ts,
    state,
  };
  return {
    pack,
    state,
    heads: merged,
    ancestor: divergence.ancestor,
    replayed,
    branches: branchEvents,
    droppedDuplicates,
    compensations,
    packsVisited: divergence.packs.length,
    compensationsOnRecheck,
  };
}

/**
 * Folds the merged interleaving. Event handlers must accept any state: a merge applies events to
 * states no branch saw. One that throws here would block the actor's resolution for good, so the
 * error says so and names the event.
 */
function replayOrExplain(definition: AnyActorDefinition, actor: ActorRef, state: unknown, events: readonly EventRecord[]): unknown {
  let current = state;
  for (const event of events) {
    try {
      current = fold(definition, current, [event]);
    } catch (error) {
      if (error instanceof TroupeError) throw error;
      throw new InvalidDefinitionError(
        `resolving ${actorKey(actor)}: the '${event.type}' handler of '${definition.type}' threw on event ${event.id} of the merged ` +
          `history (${(error as Error).message}); event handlers must accept any state, since a merge replays events on states no branch saw`,
      );
    }
  }
  return current;
}

/** For each command id applied by more than one pack, the key of the copy that survives (`survivingCopy`). */
function duplicateCommandOwners(packs: readonly Pack[]): Map<string, string> {
  const packsByCommand = new Map<string, Pack[]>();
  for (const pack of packs) {
    for (const commandId of pack.commandIds) {
      const holding = packsByCommand.get(commandId) ?? [];
      holding.push(pack);
      packsByCommand.set(commandId, holding);
    }
  }
  const owners = new Map<string, string>();
  for (const [commandId, holding] of packsByCommand) {
    if (holding.length < 2) continue;
    owners.set(commandId, survivingCopy(copiesOf(commandId, holding)).key);
  }
  return owners;
}
