import type { ActorRef } from '../model/index.js';
import type { VectorClock } from '../vectorClock/index.js';

/** Where a replicator keeps its cursor so a restarted process resumes where the last one stopped. */
export interface Checkpoint {
  load(): Promise<string | undefined>;
  save(cursor: string): Promise<void>;
}

/**
 * How far one region (the reader) has copied another region's log (the source): the reader's
 * replicator cursor into the source's log, and when the reader saved it (its clock, ms).
 */
export interface FrontierEntry {
  readonly cursor: string;
  readonly at: number;
}

/**
 * What a region knows of every region's progress: `table[reader][source]` is how far `reader` has
 * copied `source`'s log. Each region keeps its own table, writes its own row as its replicators
 * save their checkpoints, and merges the tables of the regions it copies from (gossip), so a
 * region learns other regions' progress even across a region it cannot reach directly. Entries
 * only move forward (`laterEntry`), and every entry was a real checkpoint once: a stale table
 * understates progress, never overstates it, which is what makes stability answers safe.
 */
export type FrontierTable = Readonly<Record<string, Readonly<Record<string, FrontierEntry>>>>;

/**
 * A store that takes part in region-to-region replication (#15): it keeps replicator checkpoints,
 * the frontier table and the list of regions, and can say whether a reader's cursor into its log
 * has passed a given pack. `MemoryStore` and `RedisStore` implement it; the conformance suite's
 * "region log" group checks it.
 *
 * Cursors of a region log store are written `[<identity>:]<offset>[.<offset>…]`: an optional store
 * identity, then one offset per log (a sharded store keeps one log per shard). `cursorProgress`
 * compares two of them without knowing the store.
 */
export interface RegionLog {
  /** A replication checkpoint kept in this store (give it to the Replicator whose target is this store). */
  checkpoint(name: string): Checkpoint;
  /** How many packs this store's log holds after `cursor` (a cursor this store handed out; undefined: the whole log). */
  backlog(cursor: string | undefined): Promise<number>;
  /**
   * A mark past every pack of `actor` held here now: once a reader's cursor into this store's
   * log reaches it (`markReached`), the reader has copied every one of those packs.
   */
  logMark(actor: ActorRef): Promise<string>;
  /** Whether `cursor` (handed out by this store's `changesSince`) is at or past `mark` (from `logMark`). */
  markReached(cursor: string, mark: string): boolean;
  /** The frontier table kept here (empty when no replicator has written one). */
  frontier(): Promise<FrontierTable>;
  /**
   * Merges entries into the table kept here: each entry replaces the one held only when it is
   * later (`laterEntry`). Not atomic across entries; every entry written is a real checkpoint, so
   * a lost race understates progress, never overstates it.
   */
  mergeFrontier(entries: FrontierTable): Promise<void>;
  /** The regions of the deployment as this region's replicator declared them (empty before it started). */
  regions(): Promise<string[]>;
  /** Declares the regions of the deployment (the replicator does this when it starts). */
  declareRegions(regions: readonly string[]): Promise<void>;
}

/** A merge as the region that wrote it saw it: what diverged, from where, what was replayed and compensated, how long it took. */
export interface MergeRecord {
  readonly actor: ActorRef;
  /** The merge pack's version. */
  readonly version: VectorClock;
  /** The latest common ancestor of the heads (undefined: the branches share no pack). */
  readonly ancestor?: VectorClock;
  /** The heads that were merged. */
  readonly heads: readonly VectorClock[];
  /** Events replayed onto the ancestor's state (duplicates of a retried command dropped). */
  readonly replayed: number;
  /** Events dropped because their command was also applied on another branch. */
  readonly droppedDuplicates: number;
  /** Event types of the compensations `onMerge` emitted, in order. */
  readonly compensations: readonly string[];
  /** The region (replica id) that wrote the merge. */
  readonly region: string;
  /** Earliest time (ms) of an event after the ancestor: when the actor began to diverge. */
  readonly divergedAt: number;
  /** When the merge pack was written (the writer's clock, ms). */
  readonly mergedAt: number;
  /** Time the resolution took, from reading the heads to the merge pack being durable (ms). */
  readonly durationMs: number;
}

/** A store that keeps a record of every merge written to it (`MemoryStore`, `RedisStore`). */
export interface MergeLog {
  /** Keeps a record of a merge this store's region wrote (at most `mergeRecordsMax` per actor, oldest dropped first). */
  recordMerge(record: MergeRecord): Promise<void>;
  /** The actor's merge records, newest first, at most `limit` (default 100). */
  merges(actor: ActorRef, options?: { readonly limit?: number }): Promise<MergeRecord[]>;
}

/** Records kept per actor by a MergeLog. */
export const mergeRecordsMax = 1000;

/** Whether a store can take part in region-to-region replication. */
export function isRegionLog(store: object): store is RegionLog {
  const s = store as Partial<RegionLog>;
  return typeof s.logMark === 'function' && typeof s.markReached === 'function' && typeof s.frontier === 'function' && typeof s.checkpoint === 'function';
}

/** Whether a store keeps merge records. */
export function isMergeLog(store: object): store is MergeLog {
  const s = store as Partial<MergeLog>;
  return typeof s.recordMerge === 'function' && typeof s.merges === 'function';
}
