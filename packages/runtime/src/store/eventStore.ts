import type { ActorRef, ActorSnapshot, Pack, Snapshot } from '../model/index.js';
import type { VectorClock } from '../vectorClock/index.js';

/** What `loadChain` returns: the nearest base at or before a version on its chain, and the packs after it. */
export interface Chain {
  /** A snapshot, or the state carried by a merge pack; undefined means "start from initial()". */
  readonly base?: Snapshot;
  /** Command packs after the base up to and including the requested version, oldest first. */
  readonly packs: readonly Pack[];
}

export interface Changes {
  readonly packs: readonly Pack[];
  /**
   * Snapshots written together with these packs (by `append` or `merge`). A snapshot is a
   * deterministic fold of its version's history, so replicas can copy it instead of replaying:
   * without it a replica that received its history by replication would fold it all.
   */
  readonly snapshots: readonly ActorSnapshot[];
  /** Pass back to get what comes after; opaque to callers. */
  readonly cursor: string;
}

export interface HistoryOptions {
  /** Most packs to return; an actor with more throws LimitExceededError. Default `historyPacksMax` (10,000). */
  readonly limit?: number;
}

export interface MergeReport {
  /** Packs that were new here. */
  readonly added: number;
  /** Packs this store already held (merging is idempotent). */
  readonly skipped: number;
  /**
   * The actors of these packs left with several heads (diverged) once the merge was done, when
   * the store can tell cheaply (optional: a replicator without it reads every actor's heads). It
   * may name an actor that a later pack of the same call made whole again, never miss one.
   */
  readonly diverged?: readonly ActorRef[];
}

/**
 * Where actors' packs, heads, snapshots and applied command ids live. Every implementation runs
 * the conformance suite in `@troupe/runtime/testkit/conformance`.
 *
 * Versions are addressed by their canonical key (`VC.encode`). Heads are the packs whose version
 * no other pack's version dominates; one head means consistent, several mean divergence.
 */
export interface EventStore {
  /**
   * Atomically appends `pack` if and only if the actor's current head keys equal `expectedHeads`
   * (as a set; empty for an actor with no packs). Records the pack's command ids, updates the
   * heads, writes the snapshot if one is given, and appends to the replication log.
   * Throws AppendConflictError (with the actual heads) otherwise, and writes nothing.
   * A pack carrying a command id this store already recorded for the actor throws
   * DuplicateCommandError and writes nothing: a command is applied at most once per store,
   * whatever its sender claimed. (`merge` accepts such packs: a retry accepted on two branches
   * during a partition is a fact both branches hold, and resolution keeps one copy.)
   */
  append(pack: Pack, expectedHeads: readonly string[], snapshot?: Snapshot): Promise<void>;

  /** Current heads of the actor, in canonical (version key) order; empty if it has no packs. */
  heads(actor: ActorRef): Promise<Pack[]>;

  /** The packs at the given version keys (undefined where absent), in the same order. */
  getPacks(actor: ActorRef, versionKeys: readonly string[]): Promise<(Pack | undefined)[]>;

  /**
   * Walks back from `versionKey` along parent links to the nearest snapshot or merge pack, so the
   * state at that version is `fold(base ?? initial, packs)`. Never reads past the base.
   */
  loadChain(actor: ActorRef, versionKey: string): Promise<Chain>;

  /** Stores a snapshot of the folded state at `version` (a cache: it may be dropped and rebuilt). */
  saveSnapshot(actor: ActorRef, snapshot: Snapshot): Promise<void>;

  /**
   * The versions of the packs here that applied `commandId` to this actor, in the order they were
   * recorded: usually none or one; several when a retried command was accepted on two branches
   * during a partition (the merge keeps one of them, see `computeMerge`).
   */
  commandVersions(actor: ActorRef, commandId: string): Promise<VectorClock[]>;

  /**
   * Packs appended or merged here after `cursor` (undefined = from the start), at most `limit`
   * of them (exactly `limit` when that many are available). A cursor this store did not hand out,
   * or one past the end of its log (as after restoring an older backup), throws InvalidCursorError. One actor's packs come in the order
   * they became durable here, so a pack always comes after its parents; packs of different actors
   * may interleave in any order (a sharded store keeps one log per shard).
   */
  changesSince(cursor: string | undefined, limit: number): Promise<Changes>;

  /**
   * Adds packs copied from another store. Idempotent: a version already held is skipped.
   * A pack whose parents are not held (here or earlier in `packs`) throws MissingAncestorError
   * after the packs before it were added. `snapshots` (from `Changes.snapshots`) are kept for
   * the packs held here once the batch is in, and travel on in this store's log with them.
   * A different pack under a version already held throws VersionCollisionError.
   */
  merge(packs: readonly Pack[], snapshots?: readonly ActorSnapshot[]): Promise<MergeReport>;

  /**
   * Every pack of the actor held here, each after its parents: ordered by `causalOrder` (the sum
   * of the version's counters, then the version key), so two stores holding the same packs list
   * them alike. Command, merged-in and merge packs alike; empty for an unknown actor. For
   * inspection and tools (the write path never reads a whole history): at most `limit` packs
   * (default `historyPacksMax`, 10,000), more throws LimitExceededError naming `limit`.
   */
  history(actor: ActorRef, options?: HistoryOptions): Promise<Pack[]>;

  /** Releases connections. The store must not be used afterwards. */
  close(): Promise<void>;
}
