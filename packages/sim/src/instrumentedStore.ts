import { type Checkpoint, type EventStore, type FrontierTable, InvalidOptionError, type RegionLog, StoreUnavailableError } from '@troupe/runtime';
import {
  type ActorRef,
  type ActorSnapshot,
  type Chain,
  type Changes,
  type HistoryOptions,
  type MergeReport,
  type Pack,
  type Snapshot,
  type VectorClock,
  VC,
  actorKey,
  isRegionLog,
} from '@troupe/runtime/store';
import type { CuttableConnection } from './stores.js';

/** Version keys of the packs one resolution read from the store (walk, unfolding, ancestor chain). */
export class ReadRecorder {
  readonly keys = new Set<string>();
  reads = 0;
}

export interface IsolationViolation {
  readonly actor: string;
  readonly detail: string;
}

/**
 * What a replica held when it appended a command pack (I7): the version keys of the actor's heads
 * in its store just before the append, and its clock then (the decider's `now`).
 */
export interface HeldRecord {
  readonly heads: readonly string[];
  readonly nowMs: number;
}

/** The store calls a fault can land in (`FaultStep`); `checkpoint` is a replicator's cursor save into this replica. */
export const faultOps = ['append', 'merge', 'changesSince', 'saveSnapshot', 'checkpoint'] as const;
/** The store calls a real connection drop can land in (Redis mode): the writes and log reads above, and two reads of the runtime. */
export const dropOps = ['append', 'merge', 'changesSince', 'saveSnapshot', 'heads', 'loadChain'] as const;
/**
 * `frontier`: a replicator's progress written into this replica's frontier table (`mergeFrontier`,
 * after a batch or a sync). Never drawn on its own: an armed `checkpoint` fault lands in it too
 * (both are a replicator's small writes into its target), and is traced with the call it hit.
 */
export type FaultOp = (typeof faultOps)[number] | (typeof dropOps)[number] | 'frontier';
/**
 * A fault before the call takes effect (nothing happened), or after (it happened, but the caller
 * gets an error: a lost reply); or `drop`: the store's real connection is cut right after the
 * call's first command is written (Redis mode; the server may have run it, the caller gets the
 * client's own connection error).
 */
export type FaultTiming = 'before' | 'after' | 'drop';

export interface LoadRecord {
  readonly actor: string;
  readonly version: string;
  readonly packs: number;
  readonly bound: number;
}

/**
 * An EventStore wrapper that watches what the runtime does with its store, for the checkers:
 * - I5: appends in flight per actor (two at once means two concurrent executions of one actor);
 * - I6: packs read while a resolution of an actor runs (between `startReads` and `stopReads`,
 *   which the runtime observer's `resolving` and `resolved` call), and the length of every chain
 *   loaded outside resolutions;
 * - the "crash after persist" fault: `crashAfterNextAppend()` makes the next append persist and
 *   then throw, as if the process died before it could acknowledge the command.
 * Every call is delegated unchanged otherwise.
 */
export class InstrumentedStore implements EventStore, RegionLog {
  private readonly inFlight = new Map<string, number>();
  private readonly recorders = new Map<string, ReadRecorder>();
  private crashArmed = false;
  readonly isolationViolations: IsolationViolation[] = [];
  /** Chain loads outside resolutions, checked against `loadBound` as they happen (I6). */
  loadsChecked = 0;
  /** The loads that read more packs than `loadBound` allows (kept; the others are only counted). */
  readonly oversizeLoads: LoadRecord[] = [];
  appendsChecked = 0;
  /** Off while the checkers inspect the store. */
  watching = true;
  /**
   * What the replica held at each command append, by `commandId@versionKey` (I7 checks every
   * accepted reply against the decision its held state gives). Read from the wrapped store right
   * before the append, so a store that accepts a writer who saw only some of the heads shows.
   * The executor moves each entry into its reply's record and empties the map after each send.
   */
  readonly held = new Map<string, HeldRecord>();
  /** The replica's clock (set by the executor): the `now` a command append was decided at. */
  now: () => number = () => 0;
  /** Called when an armed fault fires (the executor traces and counts it). */
  onFault: (op: FaultOp | 'cut', when: FaultTiming) => void = () => undefined;
  /** One-shot faults armed per call kind (`arm`), until they fire or `disarm`. */
  private readonly armed = new Map<FaultOp, FaultTiming>();
  /** `changesSince` calls left before the running sync is cut (undefined: no cut). */
  private cutLeft: number | undefined;
  /** The wrapped store's real connection, when the nemesis can cut it (Redis mode); set by the replica. */
  connection: CuttableConnection | undefined;
  /** Connection cuts that fired so far (the executor tells a real connection error it caused from an unexpected one). */
  dropsFired = 0;
  /**
   * Per actor, a mark of this store's log (`RegionLog.logMark`) taken right after the actor's
   * last append or merge here: past every pack of the actor held, and no further (I9 asks who
   * holds the actor's heads up to it, so packs of other actors written later do not hide a claim).
   */
  readonly lastMarks = new Map<string, string>();
  /** Called after every append and merge while watching, whatever their outcome (a replica's view catches up). */
  afterWrite: (() => Promise<void>) | undefined;
  /**
   * Packs written into the store through this wrapper so far (appends that returned, packs a merge
   * added): about the length of its log, for deciding when a view is rebuilt (`ViewWatch`).
   */
  packsWritten = 0;

  /**
   * `loadBound(actorType)`: the most packs a load outside a resolution may read (I6: the type's
   * `snapshotEvery`). Loads are checked as they happen, so a long run keeps no list of them.
   */
  constructor(
    private innerStore: EventStore,
    private readonly replica: string,
    private readonly loadBound: (actorType: string) => number = () => Infinity,
  ) {}

  /** The wrapped store (the checkers read it directly). */
  get inner(): EventStore {
    return this.innerStore;
  }

  /**
   * Wraps another store from now on, keeping everything recorded so far: a restarted replica's
   * store comes from the store factory again (e.g. a new connection to the same Redis data).
   */
  reopen(inner: EventStore, connection?: CuttableConnection): void {
    this.innerStore = inner;
    this.connection = connection;
    this.crashArmed = false;
    this.disarm();
  }

  /** The next call of `op` fails, before or after taking effect (once). */
  arm(op: FaultOp, when: FaultTiming): void {
    this.armed.set(op, when);
  }

  /** Drops every armed fault and cut (a tick's faults belong to it; none during the final convergence). */
  disarm(): void {
    this.armed.clear();
    this.cutLeft = undefined;
  }

  /**
   * Cuts the running sync between batches: after `batches` more `changesSince` calls, the next
   * one fails (as a dropped connection would). `undefined` ends the cut.
   */
  cutAfter(batches: number | undefined): void {
    this.cutLeft = batches;
  }

  /**
   * Runs `call` unless a fault of `op` is armed: then it fails before running it, or runs it and
   * then fails (the effect stays, the caller never learns). Used for every faulty store call and by
   * the simulator's replicator checkpoints.
   */
  faulty<T>(op: FaultOp, call: () => Promise<T>, armedAs: FaultOp = op): Promise<T> {
    const when = this.watching ? this.armed.get(armedAs) : undefined;
    // Nothing armed (nearly every call): the call's own promise, without one more async frame
    // around it (this wraps every store call of a run). A call that throws rejects, as before.
    if (when === undefined) {
      try {
        return call();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.faultyArmed(op, when, call, armedAs);
  }

  private async faultyArmed<T>(op: FaultOp, when: FaultTiming, call: () => Promise<T>, armedAs: FaultOp): Promise<T> {
    this.armed.delete(armedAs);
    if (when === 'drop') return this.dropDuring(op, call);
    if (when === 'after') await call();
    this.onFault(op, when);
    throw new SimulatedFault(this.replica, `simulated ${op} failure ${when === 'before' ? 'before taking effect' : 'after taking effect (the reply was lost)'}`);
  }

  /**
   * Runs `call` with the real connection cut right after its first command is written: the call
   * fails with the client's own error (the server may have run the command). The next call waits
   * until the client has reconnected, so the drop lands in this call alone. Without a connection
   * (a memory store) the call just runs: there is nothing to cut.
   */
  private async dropDuring<T>(op: FaultOp, call: () => Promise<T>): Promise<T> {
    const connection = this.connection;
    if (!connection) return call();
    connection.cutAfterNextWrite();
    try {
      return await call();
    } finally {
      if (!connection.cancelCut()) {
        this.dropsFired++;
        this.onFault(op, 'drop');
        await connection.ready();
      }
    }
  }

  crashAfterNextAppend(): void {
    this.crashArmed = true;
  }

  /** The armed crash did not happen (the command appended nothing): it does not wait for a later append. */
  cancelCrash(): void {
    this.crashArmed = false;
  }

  /**
   * Records every pack read for `actor` from now until `stopReads` (a resolution of it: the
   * runtime serializes an actor's work, so one recorder per actor is enough). A new start drops a
   * recorder left by a resolution that never finished.
   */
  startReads(actor: ActorRef): ReadRecorder {
    const recorder = new ReadRecorder();
    this.recorders.set(actorKey(actor), recorder);
    return recorder;
  }

  /** Ends the recording of `actor`'s reads; returns what it read (undefined when nothing was recording). */
  stopReads(actor: ActorRef): ReadRecorder | undefined {
    const key = actorKey(actor);
    const recorder = this.recorders.get(key);
    this.recorders.delete(key);
    return recorder;
  }

  /** Runs `body` with every pack read for `actor` recorded. */
  async recordReads<T>(actor: ActorRef, body: () => Promise<T>): Promise<{ result: T; recorder: ReadRecorder }> {
    const recorder = this.startReads(actor);
    try {
      return { result: await body(), recorder };
    } finally {
      this.stopReads(actor);
    }
  }

  async append(pack: Pack, expectedHeads: readonly string[], snapshot?: Snapshot): Promise<void> {
    const key = actorKey(pack.actor);
    const running = (this.inFlight.get(key) ?? 0) + 1;
    this.inFlight.set(key, running);
    if (this.watching) {
      this.appendsChecked++;
      if (running > 1) {
        this.isolationViolations.push({ actor: key, detail: `${running} appends in flight at ${this.replica} (version ${VC.encode(pack.version)})` });
      }
    }
    try {
      // Yield first, so an overlapping execution of the same actor would be caught in the window.
      await Promise.resolve();
      if (this.watching && pack.kind === 'command') {
        const nowMs = this.now();
        const heads = (await this.inner.heads(pack.actor)).map((h) => VC.encode(h.version));
        for (const id of pack.commandIds) this.held.set(heldKey(id, VC.encode(pack.version)), { heads, nowMs });
      }
      // An append that carries a snapshot is a snapshot write too: an armed snapshot fault lands in it.
      const op: FaultOp = snapshot && this.armed.has('saveSnapshot') ? 'saveSnapshot' : 'append';
      await this.faulty(op, () => this.inner.append(pack, expectedHeads, snapshot));
      this.packsWritten++;
    } finally {
      this.inFlight.set(key, this.inFlight.get(key)! - 1);
      await this.written([pack.actor]);
    }
    if (this.crashArmed) {
      this.crashArmed = false;
      throw new SimulatedCrash(`${this.replica} crashed after persisting ${key}@${VC.encode(pack.version)}, before acknowledging`);
    }
  }

  heads(actor: ActorRef): Promise<Pack[]> {
    return this.faulty('heads', () => this.inner.heads(actor));
  }

  async getPacks(actor: ActorRef, versionKeys: readonly string[]): Promise<(Pack | undefined)[]> {
    const packs = await this.inner.getPacks(actor, versionKeys);
    const recorder = this.watching ? this.recorders.get(actorKey(actor)) : undefined;
    if (recorder) {
      packs.forEach((p, i) => {
        if (p) {
          recorder.keys.add(versionKeys[i]!);
          recorder.reads++;
        }
      });
    }
    return packs;
  }

  async loadChain(actor: ActorRef, versionKey: string): Promise<Chain> {
    const chain = await this.faulty('loadChain', () => this.inner.loadChain(actor, versionKey));
    if (this.watching) {
      const recorder = this.recorders.get(actorKey(actor));
      if (recorder) {
        for (const p of chain.packs) recorder.keys.add(VC.encode(p.version));
        recorder.reads += chain.packs.length;
      } else {
        this.loadsChecked++;
        if (chain.packs.length > this.loadBound(actor.type)) {
          this.oversizeLoads.push({ actor: actorKey(actor), version: versionKey, packs: chain.packs.length, bound: this.loadBound(actor.type) });
        }
      }
    }
    return chain;
  }

  /** Whole-history reads count as reads of a running resolution (I6 would then catch one that reads everything). */
  async history(actor: ActorRef, options?: HistoryOptions): Promise<Pack[]> {
    const packs = await this.inner.history(actor, options);
    const recorder = this.watching ? this.recorders.get(actorKey(actor)) : undefined;
    if (recorder) {
      for (const p of packs) recorder.keys.add(VC.encode(p.version));
      recorder.reads += packs.length;
    }
    return packs;
  }

  saveSnapshot(actor: ActorRef, snapshot: Snapshot): Promise<void> {
    return this.faulty('saveSnapshot', () => this.inner.saveSnapshot(actor, snapshot));
  }

  commandVersions(actor: ActorRef, commandId: string): Promise<VectorClock[]> {
    return this.inner.commandVersions(actor, commandId);
  }

  changesSince(cursor: string | undefined, limit: number): Promise<Changes> {
    if (this.cutLeft !== undefined && this.watching) {
      if (this.cutLeft === 0) {
        this.cutLeft = undefined;
        this.onFault('cut', 'before');
        return Promise.reject(new SimulatedFault(this.replica, 'simulated connection drop: the sync was cut between batches'));
      }
      this.cutLeft--;
    }
    return this.faulty('changesSince', () => this.inner.changesSince(cursor, limit));
  }

  async merge(packs: readonly Pack[], snapshots?: readonly ActorSnapshot[]): Promise<MergeReport> {
    try {
      const report = await this.faulty('merge', () => this.inner.merge(packs, snapshots));
      this.packsWritten += report.added;
      return report;
    } finally {
      await this.written(packs.map((p) => p.actor));
    }
  }

  /**
   * After a write (it may have failed before or after taking effect: both are covered), while
   * watching: the actors' marks are taken again (I9) and the replica's view catches up (I8).
   * Reads go to the wrapped store: no fault fires in them.
   */
  private async written(actors: readonly ActorRef[]): Promise<void> {
    if (!this.watching) return;
    const log = this.regionLog;
    if (log) {
      const seen = new Set<string>();
      for (const actor of actors) {
        const key = actorKey(actor);
        if (seen.has(key)) continue;
        seen.add(key);
        this.lastMarks.set(key, await log.logMark(actor));
      }
    }
    await this.afterWrite?.();
  }

  /** The wrapped store as a region log (MemoryStore, RedisStore), or undefined when it is not one (stability is then not checked). */
  get regionLog(): (EventStore & RegionLog) | undefined {
    return isRegionLog(this.innerStore) ? (this.innerStore as EventStore & RegionLog) : undefined;
  }

  private region(): EventStore & RegionLog {
    const log = this.regionLog;
    if (!log) throw new InvalidOptionError('stores', `the store of ${this.replica} does not take part in region replication (it does not implement RegionLog)`);
    return log;
  }

  // RegionLog, delegated: the replicators' progress (`publishProgress`) goes through this wrapper,
  // so an armed `checkpoint` fault can land in a frontier write as in a cursor save.

  checkpoint(name: string): Checkpoint {
    return this.region().checkpoint(name);
  }

  backlog(cursor: string | undefined): Promise<number> {
    return this.region().backlog(cursor);
  }

  logMark(actor: ActorRef): Promise<string> {
    return this.region().logMark(actor);
  }

  markReached(cursor: string, mark: string): boolean {
    return this.region().markReached(cursor, mark);
  }

  frontier(): Promise<FrontierTable> {
    return this.region().frontier();
  }

  mergeFrontier(entries: FrontierTable): Promise<void> {
    return this.faulty('frontier', () => this.region().mergeFrontier(entries), 'checkpoint');
  }

  regions(): Promise<string[]> {
    return this.region().regions();
  }

  declareRegions(regions: readonly string[]): Promise<void> {
    return this.region().declareRegions(regions);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The key of `InstrumentedStore.held`: a command id and the version its pack was appended at. */
export function heldKey(commandId: string, versionKey: string): string {
  return `${commandId}@${versionKey}`;
}

export class SimulatedCrash extends Error {
  override readonly name = 'SimulatedCrash';
}

/** A replicator process killed in the middle of a batch (`batchCrash` step): the executor restarts it from its checkpoint. */
export class SimulatedReplicatorCrash extends Error {
  override readonly name = 'SimulatedReplicatorCrash';
}

/**
 * A fault the simulator injected into a store call (`InstrumentedStore.arm`, `cutAfter`): the
 * store's own "unavailable or timed out" error, so the runtime and the replicator handle it as
 * they would a real one. The executor tells it from unexpected errors by its class.
 */
export class SimulatedFault extends StoreUnavailableError {
  override readonly name = 'SimulatedFault';
}
