import { type ActorRef, type Pack, actorKey } from '../model/index.js';
import type { Changes, EventStore } from '../store/index.js';
import type { Checkpoint } from '../store/regionLog.js';

export type { Checkpoint } from '../store/regionLog.js';

/** One side of a replication link: a store, and a way to resolve an actor through its owner. */
export interface ReplicaEndpoint {
  readonly store: EventStore;
  /** Merges the actor's heads at this replica (a Runtime does this through the actor's mailbox). */
  resolve(actor: ActorRef): Promise<unknown>;
}

export interface ReplicatorOptions {
  /** Packs copied per round trip. Default 500. */
  readonly batchSize?: number;
  /** Resolve actors that end up with several heads after a copy. Default true. */
  readonly resolve?: boolean;
  /** Where to start reading the source's log (a cursor saved from `cursor`). Default: the start. */
  readonly cursor?: string;
  /**
   * Loads the cursor before the first sync (when `cursor` is not given) and saves it after every
   * batch merged at the target. E.g. `RedisStore.checkpoint(name)` keeps it in the target region.
   */
  readonly checkpoint?: Checkpoint;
  /**
   * Where to keep the actors whose resolution failed (JSON), saved before the cursor of the batch
   * that left them, and read before the first sync: a restarted replicator retries them instead of
   * leaving them diverged behind a saved cursor. E.g. `targetStore.checkpoint('from-eu/unresolved')`.
   */
  readonly unresolvedCheckpoint?: Checkpoint;
  /**
   * Called after each batch is merged at the target, its diverged actors resolved and its cursor
   * saved (e.g. to report lag and progress). An error it throws fails the sync.
   */
  readonly onBatch?: (batch: BatchReport) => void | Promise<void>;
}

/** One batch of a sync, as `onBatch` sees it. */
export interface BatchReport {
  /** The packs read from the source (added or already held at the target). */
  readonly packs: readonly Pack[];
  readonly copied: number;
  readonly skipped: number;
  /** The source log position after this batch (saved to the checkpoint, if any). */
  readonly cursor: string;
}

export interface SyncReport {
  readonly copied: number;
  readonly skipped: number;
  /** Actors that had several heads at the target after the copy, and were resolved. */
  readonly resolved: readonly ActorRef[];
  /** Actors whose resolution failed; they are retried on every later sync until it succeeds. */
  readonly failed: readonly { readonly actor: ActorRef; readonly error: unknown }[];
}

/**
 * Copies packs one way, from a source replica's log to a target replica, incrementally (a cursor
 * into the source's log, never a scan) and idempotently (the target skips packs it holds). The
 * source's log carries packs it merged from others too, so replication is transitive. Pausing it
 * models a partition: both sides keep accepting writes and nothing is copied until `resume`.
 */
export class Replicator {
  private position: string | undefined;
  private paused = false;
  private readonly batchSize: number;
  private readonly resolveDivergence: boolean;
  private running: Promise<SyncReport> | undefined;
  /** Actors copied to but not yet checked (or whose resolution failed): kept across syncs. */
  private readonly unresolved = new Map<string, ActorRef>();
  private readonly checkpoint: Checkpoint | undefined;
  /** The cursor was loaded from `checkpoint` (or given: `cursor`). */
  private checkpointLoaded: boolean;
  /** The actors left to resolve were loaded from `unresolvedCheckpoint` (a given `cursor` does not replace them). */
  private unresolvedLoaded: boolean;
  private readonly onBatch: ReplicatorOptions['onBatch'];
  private readonly unresolvedCheckpoint: Checkpoint | undefined;
  /** What `unresolvedCheckpoint` holds now (so an unchanged set is not written again). */
  private savedUnresolved = '[]';

  constructor(
    readonly source: ReplicaEndpoint,
    readonly target: ReplicaEndpoint,
    options: ReplicatorOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.resolveDivergence = options.resolve ?? true;
    this.position = options.cursor;
    this.checkpoint = options.checkpoint;
    this.onBatch = options.onBatch;
    this.unresolvedCheckpoint = options.unresolvedCheckpoint;
    this.checkpointLoaded = options.cursor !== undefined || options.checkpoint === undefined;
    this.unresolvedLoaded = options.unresolvedCheckpoint === undefined;
  }

  /** The source log position copied so far: save it to restart from here. */
  get cursor(): string | undefined {
    return this.position;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  /**
   * Copies everything new in the source's log, then resolves diverged actors at the target.
   * Does nothing while paused. Concurrent calls share one run.
   */
  sync(): Promise<SyncReport> {
    if (this.paused) return Promise.resolve({ copied: 0, skipped: 0, resolved: [], failed: [] });
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<SyncReport> {
    let copied = 0;
    let skipped = 0;
    const resolved: ActorRef[] = [];
    let failed: { actor: ActorRef; error: unknown }[] = [];
    if (!this.checkpointLoaded) {
      this.position = await this.checkpoint!.load();
      this.checkpointLoaded = true;
    }
    if (!this.unresolvedLoaded) {
      const saved = await this.unresolvedCheckpoint!.load();
      for (const actor of parseUnresolved(saved)) this.unresolved.set(actorKey(actor), actor);
      this.savedUnresolved = saved ?? '[]';
      this.unresolvedLoaded = true;
    }
    // Actors whose resolution failed in an earlier sync (or run) are retried first.
    if (this.unresolved.size > 0) {
      failed = await this.resolveDiverged(resolved);
      await this.saveUnresolved();
    }
    // The next batch is read from the source while this one is merged into the target (two
    // servers, two round trips in flight): reading ahead changes nothing, the cursor only moves
    // once a batch is merged, resolved and saved.
    let ahead: Promise<Changes> | undefined = this.paused ? undefined : this.source.store.changesSince(this.position, this.batchSize);
    for (;;) {
      if (this.paused || !ahead) break;
      const changes = await ahead;
      ahead = undefined;
      if (changes.packs.length === 0) break;
      if (changes.packs.length === this.batchSize && !this.paused) {
        ahead = this.source.store.changesSince(changes.cursor, this.batchSize);
        ahead.catch(() => undefined); // awaited in the next round, or dropped when this one fails
      }
      const report = await this.target.store.merge(changes.packs, changes.snapshots);
      copied += report.added;
      skipped += report.skipped;
      // The batch's diverged actors are resolved before its cursor is saved: a process killed in
      // between copies the batch again when it restarts (skipped, idempotent) and resolves then,
      // so a crash never leaves an actor diverged behind a saved cursor.
      if (this.resolveDivergence) {
        // A store that reports which actors it left diverged saves a heads read per actor.
        for (const actor of report.diverged ?? changes.packs.map((p) => p.actor)) this.unresolved.set(actorKey(actor), actor);
        failed = await this.resolveDiverged(resolved);
      }
      await this.saveUnresolved();
      this.position = changes.cursor;
      await this.checkpoint?.save(changes.cursor);
      await this.onBatch?.({ packs: changes.packs, copied: report.added, skipped: report.skipped, cursor: changes.cursor });
    }
    return { copied, skipped, resolved, failed };
  }

  /** Saves the actors still to resolve, when they changed since the last save. */
  private async saveUnresolved(): Promise<void> {
    if (!this.unresolvedCheckpoint) return;
    const text = JSON.stringify([...this.unresolved.values()].map((a) => [a.type, a.id]));
    if (text === this.savedUnresolved) return;
    await this.unresolvedCheckpoint.save(text);
    this.savedUnresolved = text;
  }

  /**
   * Resolves every actor waiting in `unresolved` that has several heads at the target; those
   * whose resolution fails stay for the next sync (and are returned).
   */
  private async resolveDiverged(resolved: ActorRef[]): Promise<{ actor: ActorRef; error: unknown }[]> {
    const failed: { actor: ActorRef; error: unknown }[] = [];
    if (this.unresolved.size === 0) return failed;
    // Heads are read, and diverged actors resolved, several at a time: one round trip per actor,
    // awaited one after the other, was most of a copy's time (BENCHMARKS.md, "Regions"). Actors
    // are independent; each resolution still goes through its actor's own mailbox.
    await eachBounded([...this.unresolved], resolveConcurrency, async ([key, actor]) => {
      try {
        const heads = await this.target.store.heads(actor);
        if (heads.length > 1) {
          await this.target.resolve(actor);
          resolved.push(actor);
        }
        this.unresolved.delete(key);
      } catch (error) {
        failed.push({ actor, error });
      }
    });
    return failed;
  }

}

/** The actors of a saved `unresolvedCheckpoint` (JSON `[[type, id], ...]`); nothing for none or a damaged value. */
function parseUnresolved(text: string | undefined): ActorRef[] {
  if (text === undefined) return [];
  try {
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value)) return [];
    return value
      .filter((e): e is [string, string] => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && typeof e[1] === 'string')
      .map(([type, id]) => ({ type, id }));
  } catch {
    return [];
  }
}

/** Actors checked (and resolved) at once after a batch. */
const resolveConcurrency = 32;

/** Runs `work` on every item, at most `limit` at a time. */
async function eachBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
