import { type Checkpoint, type CommandReply, type EventStore, type ReplicaEndpoint, Replicator, type ReplicatorOptions, StoreUnavailableError, type SyncReport, type UntypedRef } from '@troupe/runtime';
import { type ActorRef, VC, actorKey, publishProgress } from '@troupe/runtime/store';
import type { CheckResult, RepliedEvent, ReplyRecord } from './checkers/index.js';
import { packHeld, slimReply } from './checkers/replies.js';
import { type StabilityWatch, stabilityRoundsMax } from './checkers/i9.js';
import { SimulatedCrash, SimulatedFault, SimulatedReplicatorCrash, heldKey } from './instrumentedStore.js';
import { Network } from './network.js';
import type { Replica, Replicas } from './replicas.js';
import type { SimCounts } from './report.js';
import type { BatchCrashPoint, CheckpointLoss, ScheduleCommand, ScheduleStep } from './schedule.js';
import type { TraceLog } from './trace.js';

/** Virtual time of one tick, ms (plus each replica's jitter of the tick). */
export const tickMs = 5;

type Outcome = { reply: CommandReply } | { error: unknown };

/** What the executor needs of a replicator: one sync at a time, and the source log position it copied so far (published after each sync). */
export interface SyncRunner {
  sync(): Promise<SyncReport>;
  /** The position in the source's log copied so far (the runtime `Replicator`'s `cursor`); without it, the link publishes the start of the log. */
  readonly cursor?: string | undefined;
}

/**
 * Makes the replicator of one ordered pair (default: the runtime's `Replicator`). A hook for
 * tests that plant a replication bug (e.g. a cursor advanced before the merge succeeded) and
 * show the simulator catches it; the options are the simulator's (batch size, checkpoint).
 */
export type ReplicatorFactory = (source: ReplicaEndpoint, target: ReplicaEndpoint, options: ReplicatorOptions) => SyncRunner;

/**
 * Packs per replication batch: small, so that a sync of a busy tick spans several batches and a
 * cut between batches, or a fault in one batch's merge, lands in the middle of a sync.
 */
export const syncBatchPacks = 8;

/** Saved cursors kept per link, for stale checkpoints (`replicator` steps go back at most 4). */
export const checkpointHistoryMax = 8;

/**
 * Runs the steps of a run, drawn (`StepGenerator`) or recorded (`options.schedule`): the one
 * interpreter of `ScheduleStep`s, so a recorded schedule replays exactly what the drawn run did.
 * It draws nothing. A step that no longer makes sense (as in a shrunk schedule: a replica index
 * out of range, a crash of a replica that is down, a heal with nothing partitioned, a sync of a
 * replica with itself) is skipped, so any subset of a schedule is a valid schedule.
 *
 * Besides the steps, time: `startTick` moves the clocks, restarts crashed replicas that are due
 * and lets every runtime passivate its idle actors; `healAndConverge` ends the run.
 */
export class Executor {
  /** Virtual time since the start, ms: the clocks' common part (each also has its jitter and steps). */
  virtualMs = 0;
  readonly network: Network;
  /** Every reply a client got, for I7 (and I1: the accepted first executions). */
  readonly replies: ReplyRecord[] = [];
  /** The events of first executions' replies, one list per distinct content (`slimReply`). */
  private readonly repliedEvents = new Map<string, readonly RepliedEvent[]>();
  private readonly replicators: SyncRunner[][];
  /** A new replicator for one link, resuming from its checkpoint. */
  private readonly replicatorOf: (from: Replica, to: Replica) => SyncRunner;
  /**
   * Each replicator's saved cursors, the last one current (kept at its target, surviving its
   * crashes), by `from>to`: the last `checkpointHistoryMax`, so that a stale checkpoint can go back.
   */
  private readonly checkpoints = new Map<string, string[]>();
  /** The last failed sync or resolution, named in the convergence failure (not traced: messages may vary). */
  private lastFailure = '';
  /** Errors met by a command or sync during which a connection cut fired (`isDropError`). */
  private readonly droppedErrors = new WeakSet<object>();
  private tick = 0;
  /** Links (`from>to`) whose replicator dies in the middle of its next batch, and where (`batchCrash` steps). */
  private readonly batchCrashes = new Map<string, BatchCrashPoint>();
  /** Every actor a client addressed, in the order first addressed (I9 samples them). */
  readonly actors: ActorRef[] = [];
  private readonly actorKeys = new Set<string>();

  constructor(
    private readonly replicas: Replicas,
    private readonly trace: TraceLog,
    private readonly counts: SimCounts,
    private readonly settings: {
      /** Passivate idle actors at each tick's start (0: never). */
      readonly idleTimeoutMs: number;
      /** A command got no reply (replica down, crash after persist, error): a client may retry it. */
      readonly noReply?: (command: ScheduleCommand) => void;
      /** Makes each link's replicator (default: the runtime's `Replicator`). */
      readonly replicator?: ReplicatorFactory;
      /** I9: told after each change of a replica's frontier table, and asked after convergence. */
      readonly stability?: StabilityWatch;
    },
  ) {
    this.network = new Network(replicas.all.length);
    // The runtime is looked up at each sync: a restart replaces it.
    const endpoint = (r: Replica, store: EventStore = r.store) => ({ store, resolve: (actor: ActorRef) => r.runtime.resolve(actor) });
    const make: ReplicatorFactory = settings.replicator ?? ((source, target, options) => new Replicator(source, target, options));
    this.replicatorOf = (from, to) =>
      make(endpoint(from), endpoint(to, this.crashingTarget(from, to)), {
        batchSize: syncBatchPacks,
        checkpoint: this.checkpoint(from, to),
        ...(to.store.regionLog ? { onBatch: this.progress(from, to) } : {}),
      });
    // No replicator from a replica to itself (that sync never runs).
    const none: SyncRunner = { sync: async () => ({ copied: 0, skipped: 0, resolved: [], failed: [] }) };
    this.replicators = replicas.all.map((from) => replicas.all.map((to) => (from === to ? none : this.replicatorOf(from, to))));
    for (const r of replicas.all) {
      // The decider's `now` at each command append, recorded by the store wrapper for I7.
      r.store.now = () => r.clock.now();
      r.store.onFault = (op, when) => {
        if (when === 'drop') this.counts.connectionDrops++;
        else this.counts.storeFaults++;
        this.trace.record({ k: 'fault', r: r.index, op, when });
      };
    }
  }

  /**
   * A replicator's cursor, kept at its target (a store write there): a fault armed on the target's
   * `checkpoint` fails the save before or after it is written.
   */
  private checkpoint(from: Replica, to: Replica): Checkpoint {
    const key = `${from.index}>${to.index}`;
    return {
      load: async () => this.checkpoints.get(key)?.at(-1),
      save: (cursor) => {
        // Killed mid-batch after the batch was merged and resolved: the cursor is never written.
        if (this.batchCrashes.get(key) === 'resolved') {
          this.batchCrashes.delete(key);
          return Promise.reject(new SimulatedReplicatorCrash(`the replicator r${from.index} -> r${to.index} died before saving its cursor (the batch was merged and resolved)`));
        }
        return to.store.faulty('checkpoint', async () => {
          const saved = this.checkpoints.get(key) ?? [];
          saved.push(cursor);
          if (saved.length > checkpointHistoryMax) saved.shift();
          this.checkpoints.set(key, saved);
        });
      },
    };
  }

  /**
   * The target's store as one link's replicator sees it: the same store, except that a `merged`
   * batch crash armed on the link kills the replicator right after a merge took effect.
   */
  private crashingTarget(from: Replica, to: Replica): EventStore {
    const key = `${from.index}>${to.index}`;
    const store = to.store;
    const merge: EventStore['merge'] = async (packs, snapshots) => {
      const report = await store.merge(packs, snapshots);
      if (this.batchCrashes.get(key) === 'merged') {
        this.batchCrashes.delete(key);
        throw new SimulatedReplicatorCrash(`the replicator r${from.index} -> r${to.index} died right after merging a batch (nothing resolved, the cursor not saved)`);
      }
      return report;
    };
    // Methods bound once (the replicator reads `merge` and `heads` per batch): a method of the
    // store's class, not an own property, which a hook assignment could replace later.
    const bound = new Map<PropertyKey, unknown>();
    return new Proxy(store, {
      get: (target, property) => {
        if (property === 'merge') return merge;
        const known = bound.get(property);
        if (known !== undefined) return known;
        const value: unknown = Reflect.get(target, property);
        if (typeof value !== 'function') return value;
        const method = value.bind(target);
        if (!Object.hasOwn(target, property)) bound.set(property, method);
        return method;
      },
    });
  }

  /**
   * What a region's link does after each batch (as `RegionReplication` does): writes its position
   * in the source's log into its own row of the target's frontier table (no gossip: that is
   * `publishProgress`, after the sync). Through the target's store wrapper: an armed `checkpoint`
   * fault can land in it. The time is the target's virtual clock (never traced, never compared).
   */
  private progress(from: Replica, to: Replica): NonNullable<ReplicatorOptions['onBatch']> {
    return (batch) => to.store.mergeFrontier({ [to.id]: { [from.id]: { cursor: batch.cursor, at: to.clock.now() } } });
  }

  /**
   * After a sync: the link publishes its position in the source's log into the target's frontier
   * table and merges the source's table into it (`publishProgress`: gossip), then I9 checks what
   * the target's table now claims. A failed publish (an armed `checkpoint` fault, a dropped
   * connection) is harmless, like a failed checkpoint: the next sync publishes again.
   */
  private async publish(from: Replica, to: Replica): Promise<void> {
    if (!to.store.regionLog || !from.store.regionLog) return;
    const drops = from.store.dropsFired + to.store.dropsFired;
    const before = await this.claimsAbout(to);
    try {
      await publishProgress(to.id, to.store, { region: from.id, store: from.store }, this.replicators[from.index]![to.index]!.cursor);
    } catch (error) {
      if (from.store.dropsFired + to.store.dropsFired > drops) this.noteDropped(error);
      if (error instanceof SimulatedFault || this.isDropError(error)) this.counts.faultedSyncs++;
      else this.counts.errors++;
      this.lastFailure = `publishing r${from.index} -> r${to.index}: ${(error as Error).message}`;
      this.trace.record({ k: 'publish-error', from: from.index, to: to.index, error: (error as Error).message });
      return;
    }
    // Only the rows about the target's own log make its claims: unchanged, nothing new to check.
    if ((await this.claimsAbout(to)) !== before) await this.settings.stability?.check(to);
  }

  /**
   * The entries of a replica's frontier table about its own log (how far each other region read
   * it): what its stability answers are made of. Read from the wrapped store (no fault fires).
   */
  private async claimsAbout(replica: Replica): Promise<string> {
    if (!this.settings.stability) return '';
    const table = await replica.store.regionLog!.frontier();
    return Object.keys(table)
      .sort()
      .map((reader) => `${reader}:${table[reader]![replica.id]?.cursor ?? ''}`)
      .join(' ');
  }

  /**
   * I9's liveness, after convergence: every pack of every replica must become known held by every
   * region within `stabilityRoundsMax` more rounds of syncs (each publishing its progress).
   */
  async stabilize(): Promise<CheckResult | undefined> {
    const watch = this.settings.stability;
    if (!watch?.enabled) return undefined;
    const n = this.replicas.all.length;
    let unstable = await watch.unstable();
    let rounds = 0;
    while (unstable.length > 0 && rounds < stabilityRoundsMax) {
      rounds++;
      for (let from = 0; from < n; from++) for (let to = 0; to < n; to++) if (from !== to) await this.sync(from, to);
      unstable = await watch.unstable();
    }
    this.trace.record({ k: unstable.length === 0 ? 'stable' : 'not-stable', rounds });
    return watch.result(unstable, rounds);
  }

  /** Notes the actor a client addressed (I9 samples the actors addressed so far). */
  private addressed(actor: { readonly type: string; readonly id: string }): void {
    const key = actorKey(actor);
    if (this.actorKeys.has(key)) return;
    this.actorKeys.add(key);
    this.actors.push({ type: actor.type, id: actor.id });
  }

  /**
   * The replicator of one link restarts (its process): it forgets what it had yet to resolve and
   * loads its checkpoint, which is kept, lost, or `back` saves older (none left: lost).
   */
  private restartReplicator(from: number, to: number, checkpoint: CheckpointLoss, back = 1): void {
    const key = `${from}>${to}`;
    const saved = this.checkpoints.get(key) ?? [];
    const hadCursor = saved.length > 0;
    if (checkpoint === 'lost') saved.length = 0;
    if (checkpoint === 'stale') saved.length = Math.max(0, saved.length - back);
    this.checkpoints.set(key, saved);
    this.replicators[from]![to] = this.replicatorOf(this.replicas.get(from), this.replicas.get(to));
    this.counts.replicatorRestarts++;
    this.trace.record({ k: 'replicator-restart', from, to, checkpoint, ...(checkpoint === 'stale' ? { back } : {}), hadCursor, cursorNow: saved.length > 0 });
  }

  /** Tick `t` begins: 5 ms pass on every clock, replicas due restart, idle actors are passivated. */
  async startTick(t: number): Promise<void> {
    this.tick = t;
    this.trace.tick = t;
    this.virtualMs += tickMs;
    for (const r of this.replicas.all) r.clock.advance(tickMs);
    for (const r of this.replicas.all) if (!r.up && r.restartAt <= t) await this.restart(r);
    if (this.settings.idleTimeoutMs > 0) {
      for (const r of this.replicas.all) {
        if (!r.up) continue;
        const passivated = r.runtime.passivateIdle();
        if (passivated > 0) this.trace.record({ k: 'passivate', r: r.index, actors: passivated });
      }
    }
  }

  async execute(step: ScheduleStep): Promise<void> {
    const n = this.replicas.all.length;
    const inRange = (...indices: number[]) => indices.every((i) => Number.isInteger(i) && i >= 0 && i < n);
    switch (step.k) {
      case 'jitter':
        for (const r of this.replicas.all) r.clock.advance(step.ms[r.index] ?? 0);
        return;
      case 'partition':
        if (step.side ? !inRange(...step.side) : !step.link || !inRange(...step.link) || step.link[0] === step.link[1]) return;
        if (step.side) this.network.split(step.side);
        else this.network.cut(step.link![0], step.link![1]);
        this.counts.partitions++;
        this.trace.record({ k: 'partition', mode: step.mode, ...(step.side ? { side: step.side } : { link: step.link }), down: this.network.downLinks() });
        return;
      case 'heal':
        if (!this.network.partitioned) return;
        this.network.heal();
        this.counts.heals++;
        this.trace.record({ k: 'heal' });
        return;
      case 'clock':
        if (!inRange(step.r)) return;
        this.replicas.get(step.r).clock.advance(step.deltaMs);
        this.counts.clockSteps++;
        this.trace.record({ k: 'clock', r: step.r, deltaMs: step.deltaMs });
        return;
      case 'crash':
        if (inRange(step.r) && this.replicas.get(step.r).up) await this.crash(this.replicas.get(step.r), 'crash', step.restartIn);
        return;
      case 'send':
        if (inRange(step.r)) await this.send(this.replicas.get(step.r), step);
        return;
      case 'burst':
        if (inRange(step.r) && step.commands.length > 0) await this.burst(this.replicas.get(step.r), step.commands);
        return;
      case 'drop':
      case 'duplicate':
        if (inRange(step.from, step.to)) this.messageFault({ k: step.k, from: step.from, to: step.to });
        return;
      case 'delay':
        if (inRange(step.from, step.to)) this.messageFault({ k: 'delay', from: step.from, to: step.to, due: step.due });
        return;
      case 'fault': {
        // Armed only on a replica that is up (a restart drops what was armed: a new process), and
        // a connection drop only on a store whose connection can be cut (Redis mode).
        const store = inRange(step.r) && this.replicas.get(step.r).up ? this.replicas.get(step.r).store : undefined;
        if (store && (step.when !== 'drop' || store.connection)) store.arm(step.op, step.when);
        return;
      }
      case 'replicator':
        if (inRange(step.from, step.to) && step.from !== step.to) this.restartReplicator(step.from, step.to, step.checkpoint, step.back);
        return;
      case 'batchCrash':
        // Armed only on a link whose target is up (its replicators run in its process).
        if (inRange(step.from, step.to) && step.from !== step.to && this.replicas.get(step.to).up) this.batchCrashes.set(`${step.from}>${step.to}`, step.at);
        return;
      case 'sync':
        if (inRange(step.from, step.to) && step.from !== step.to) await this.sync(step.from, step.to, step.cutAfter);
        return;
    }
  }

  /**
   * Liveness, after the last tick (its trace lines are stamped `t` = the tick count): heal
   * everything, restart crashed replicas, then sync every ordered pair in rounds until nothing moves.
   */
  async healAndConverge(t: number, roundsMax: number): Promise<{ converged: boolean; rounds: number; detail?: string }> {
    this.tick = t;
    this.trace.tick = t;
    this.network.heal();
    for (const r of this.replicas.all) r.store.disarm();
    this.batchCrashes.clear();
    for (const r of this.replicas.all) if (!r.up) await this.restart(r);
    this.trace.record({ k: 'heal-all' });
    const n = this.replicas.all.length;
    let failures = 0;
    for (let round = 1; round <= roundsMax; round++) {
      let work = 0;
      failures = 0;
      for (let from = 0; from < n; from++) {
        for (let to = 0; to < n; to++) {
          if (from === to) continue;
          const done = await this.sync(from, to);
          work += done.work;
          failures += done.failed;
        }
      }
      if (work === 0 && failures === 0) {
        this.trace.record({ k: 'converged', rounds: round });
        return { converged: true, rounds: round };
      }
    }
    this.trace.record({ k: 'not-converged', rounds: roundsMax });
    return {
      converged: false,
      rounds: roundsMax + 1,
      detail:
        `replication did not go quiet within ${roundsMax} sync rounds after the heal` +
        (failures ? ` (${failures} failed syncs or resolutions in the last round; the last: ${this.lastFailure})` : ''),
    };
  }

  /** `restartIn` ticks from now the replica comes back (default 1, for a schedule without it). */
  private async crash(replica: Replica, why: string, restartIn = 1): Promise<void> {
    await this.replicas.crash(replica, this.tick + restartIn);
    // Its incoming replicators die with it: what was armed on them goes too.
    for (const key of [...this.batchCrashes.keys()]) if (key.endsWith(`>${replica.index}`)) this.batchCrashes.delete(key);
    this.counts.crashes++;
    this.trace.record({ k: 'crash', r: replica.index, why, restartAt: replica.restartAt });
  }

  /**
   * The replica comes back on its store. Its incoming replicators run in its process, so they
   * restart too: each loads its cursor from its checkpoint (a save that failed leaves an older
   * cursor, and the batches after it are read again) and has forgotten the actors it had yet to resolve.
   */
  private async restart(replica: Replica): Promise<void> {
    await this.replicas.restart(replica);
    for (const from of this.replicas.all) if (from !== replica) this.replicators[from.index]![replica.index] = this.replicatorOf(from, replica);
    this.trace.record({ k: 'restart', r: replica.index });
  }

  /** One command at one replica (a first send or a retry), possibly crashing it after the persist. */
  private async send(replica: Replica, step: Extract<ScheduleStep, { k: 'send' }>): Promise<void> {
    const command: ScheduleCommand = { id: step.id, actor: step.actor, type: step.type, payload: step.payload };
    this.addressed(command.actor);
    if (step.retry) this.trace.record({ k: 'retry', id: command.id });
    if (!replica.up) return this.unavailable(replica, command);
    if (step.crashAfterPersist) replica.store.crashAfterNextAppend();
    const drops = replica.store.dropsFired;
    const outcome = await this.attempt(replica, command);
    if ('error' in outcome && replica.store.dropsFired > drops) this.noteDropped(outcome.error);
    // The crash belongs to this command: if it appended nothing (rejected, a duplicate), no crash.
    replica.store.cancelCrash();
    await this.settle(replica, command, outcome, step.restartIn, await this.heldAfter(replica, command, outcome));
    replica.store.held.clear();
  }

  /**
   * What a replica held right after answering a single send with a rejection or a duplicate (I7):
   * nothing else ran since it decided. An accepted first execution needs none (the store wrapper
   * saw its append).
   */
  private async heldAfter(replica: Replica, c: ScheduleCommand, outcome: Outcome): Promise<ReplyRecord['after']> {
    if ('error' in outcome || (outcome.reply.status === 'accepted' && !outcome.reply.duplicate) || !replica.up) return undefined;
    const store = replica.store.inner;
    const heads = (await store.heads(c.actor)).map((h) => VC.encode(h.version));
    // For a rejection too: a replica that holds the command must answer a retry with the recorded result.
    const copies = (await store.commandVersions(c.actor, c.id)).map(VC.encode);
    return { heads, nowMs: replica.clock.now(), copies };
  }

  /** Several commands to one actor at once, racing a resolution of it: the mailbox serializes them. */
  private async burst(replica: Replica, commands: readonly ScheduleCommand[]): Promise<void> {
    this.trace.record({ k: 'burst', r: replica.index, ids: commands.map((c) => c.id) });
    for (const c of commands) this.addressed(c.actor);
    if (!replica.up) {
      for (const c of commands) this.unavailable(replica, c);
      return;
    }
    const resolving = replica.runtime.resolve(commands[0]!.actor).then(
      (reply) => ({ resolved: reply.resolved }),
      (error: Error) => ({ error: error.message }),
    );
    const drops = replica.store.dropsFired;
    const replies = await Promise.all(commands.map((c) => this.attempt(replica, c)));
    if (replica.store.dropsFired > drops) for (const r of replies) if ('error' in r) this.noteDropped(r.error);
    this.trace.record({ k: 'burst-resolve', r: replica.index, ...(await resolving) });
    const held = await this.heldInBurst(replica, commands, replies);
    for (const [i, outcome] of replies.entries()) await this.settle(replica, commands[i]!, outcome, undefined, held[i]);
    // Appends no reply acknowledged (a crash after persisting, an error) are checked by nothing: forgotten.
    replica.store.held.clear();
  }

  /**
   * What each rejected command of a burst was decided on (I7). The mailbox runs the resolve, then
   * the commands in order, and nothing else writes to the actor meanwhile, so a rejection saw: the
   * version of the last command accepted before it; or, with none, the heads the next accepted
   * command's append found (rejections write nothing); or, with none either, the heads after the
   * burst. After an error (a fault may have written without a reply) nothing more is known.
   */
  private async heldInBurst(replica: Replica, commands: readonly ScheduleCommand[], replies: readonly Outcome[]): Promise<(ReplyRecord['after'] | undefined)[]> {
    const nowMs = replica.clock.now();
    const out: (ReplyRecord['after'] | undefined)[] = commands.map(() => undefined);
    let heads: readonly string[] | undefined;
    let waiting: number[] = [];
    for (const [i, outcome] of replies.entries()) {
      if ('error' in outcome) return out;
      const reply = outcome.reply;
      if (reply.status === 'rejected') {
        if (heads) out[i] = { heads, nowMs, copies: [] };
        else waiting.push(i);
        continue;
      }
      if (reply.duplicate) continue;
      const version = VC.encode(reply.version);
      const found = replica.store.held.get(heldKey(commands[i]!.id, version))?.heads;
      if (found) for (const w of waiting) out[w] = { heads: found, nowMs, copies: [] };
      waiting = [];
      heads = [version];
    }
    if (waiting.length > 0 && replica.up) {
      const after = (await replica.store.inner.heads(commands[0]!.actor)).map((h) => VC.encode(h.version));
      for (const w of waiting) out[w] = { heads: after, nowMs, copies: [] };
    }
    return out;
  }

  /**
   * A real connection error that a cut connection caused (Redis mode): the store's
   * `StoreUnavailableError` (or an error caused by one) from a call made while a cut fired.
   */
  private noteDropped(error: unknown): void {
    if (typeof error === 'object' && error !== null) this.droppedErrors.add(error);
  }

  private isDropError(error: unknown): boolean {
    if (typeof error !== 'object' || error === null || !this.droppedErrors.has(error)) return false;
    for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) if (e instanceof StoreUnavailableError) return true;
    return false;
  }

  private unavailable(replica: Replica, command: ScheduleCommand): void {
    this.counts.unavailable++;
    this.settings.noReply?.(command);
    this.trace.record({ k: 'unavailable', r: replica.index, id: command.id });
  }

  private attempt(replica: Replica, c: ScheduleCommand): Promise<Outcome> {
    return replica.runtime
      .send(c.actor as UntypedRef, { type: c.type, payload: c.payload, commandId: c.id })
      .then((reply) => ({ reply }), (error: unknown) => ({ error }));
  }

  private async settle(replica: Replica, c: ScheduleCommand, outcome: Outcome, restartIn?: number, after?: ReplyRecord['after']): Promise<void> {
    this.counts.commands++;
    if ('error' in outcome) {
      const crashed = outcome.error instanceof SimulatedCrash;
      const faulted = outcome.error instanceof SimulatedFault || this.isDropError(outcome.error);
      if (crashed) this.counts.lostReplies++;
      else if (faulted) this.counts.faultedCommands++;
      else this.counts.errors++;
      this.settings.noReply?.(c);
      this.trace.record({ k: crashed ? 'lost-reply' : faulted ? 'faulted' : 'error', r: replica.index, id: c.id, error: (outcome.error as Error).message });
      if (crashed && replica.up) await this.crash(replica, 'after-persist', restartIn);
      return;
    }
    const reply = outcome.reply;
    const actor = actorKey(c.actor);
    // What the replica held at the append (I7), moved out of the store wrapper's map (`forgetHeld`).
    const key = reply.status === 'accepted' && !reply.duplicate ? heldKey(c.id, VC.encode(reply.version)) : undefined;
    const held = key === undefined ? undefined : replica.store.held.get(key);
    if (key !== undefined) replica.store.held.delete(key);
    const slim = slimReply(reply, this.repliedEvents);
    this.replies.push({ replica: replica.index, command: c, reply: slim, ...(after ? { after } : {}), ...(held ? { held: packHeld(held) } : {}) });
    if (reply.status === 'rejected') {
      this.counts.rejected++;
      this.trace.record({ k: 'cmd', r: replica.index, id: c.id, actor, type: c.type, payload: c.payload, status: 'rejected', reason: reply.reason });
      return;
    }
    if (reply.duplicate) this.counts.duplicates++;
    else this.counts.accepted++;
    this.trace.record({
      k: 'cmd', r: replica.index, id: c.id, actor, type: c.type, payload: c.payload, status: 'accepted',
      duplicate: reply.duplicate, version: VC.encode(reply.version), events: reply.events.map((e) => e.id),
    });
  }

  /** A dropped, held back or duplicated message: counted and traced (the sync itself is its own step). */
  private messageFault(entry: { k: 'drop' | 'delay' | 'duplicate'; from: number; to: number; due?: number }): void {
    if (entry.k === 'drop') this.counts.droppedSyncs++;
    else if (entry.k === 'delay') this.counts.delayedSyncs++;
    else this.counts.duplicatedSyncs++;
    this.trace.record(entry);
  }

  /**
   * Runs one sync if both replicas are up and the link is; returns the work it did (copies +
   * resolutions) and failures. `cutAfter`: the connection drops after that many batches.
   */
  private async sync(from: number, to: number, cutAfter?: number): Promise<{ work: number; failed: number }> {
    if (!this.replicas.get(from).up || !this.replicas.get(to).up || !this.network.isUp(from, to)) {
      this.trace.record({ k: 'sync-lost', from, to });
      return { work: 0, failed: 0 };
    }
    this.counts.syncs++;
    const source = this.replicas.get(from).store;
    const target = this.replicas.get(to).store;
    if (cutAfter !== undefined) source.cutAfter(cutAfter);
    const drops = source.dropsFired + target.dropsFired;
    let done: { work: number; failed: number };
    try {
      const report = await this.replicators[from]![to]!.sync();
      this.trace.record({ k: 'sync', from, to, copied: report.copied, skipped: report.skipped, resolved: report.resolved.map(actorKey), failed: report.failed.map((x) => actorKey(x.actor)) });
      const failed = report.failed[0];
      if (failed) this.lastFailure = `resolving ${actorKey(failed.actor)} at r${to}: ${(failed.error as Error)?.message ?? String(failed.error)}`;
      done = { work: report.copied + report.resolved.length, failed: report.failed.length };
    } catch (error) {
      if (error instanceof SimulatedReplicatorCrash) {
        // The replicator process died mid-batch: a new one loads the checkpoint (the last cursor
        // saved, before the batch) and has forgotten what it had yet to resolve.
        this.counts.replicatorCrashes++;
        this.replicators[from]![to] = this.replicatorOf(this.replicas.get(from), this.replicas.get(to));
        this.lastFailure = `sync r${from} -> r${to}: ${error.message}`;
        this.trace.record({ k: 'batch-crash', from, to, error: error.message });
        return { work: 0, failed: 1 };
      }
      // An injected fault is expected: the next sync of the link must pick up where this one failed.
      if (source.dropsFired + target.dropsFired > drops) this.noteDropped(error);
      if (error instanceof SimulatedFault || this.isDropError(error)) this.counts.faultedSyncs++;
      else this.counts.errors++;
      this.lastFailure = `sync r${from} -> r${to}: ${(error as Error).message}`;
      this.trace.record({ k: 'sync-error', from, to, error: (error as Error).message });
      return { work: 0, failed: 1 };
    } finally {
      if (cutAfter !== undefined) source.cutAfter(undefined);
    }
    // After the sync, as a region's link does (a cut or failed sync publishes nothing).
    await this.publish(this.replicas.get(from), this.replicas.get(to));
    return done;
  }
}
