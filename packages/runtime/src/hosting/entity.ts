import { type AnyActorDefinition, type DecideContext, fold, isRejection } from '../actor/index.js';
import { AppendConflictError, DuplicateCommandError, InvalidDecisionError, LimitExceededError, OnMergeNotIdempotentError } from '../errors/index.js';
import type { Clock, IdSource } from '../ids/index.js';
import { type ActorRef, type Pack, type Snapshot, actorKey } from '../model/index.js';
import { type AncestryLimits, copiesOf, snapshotWeight, stateAt, survivingCopy } from '../resolution/index.js';
import type { MergeStrategy } from './mergeStrategyOption.js';
import { commandPack } from './commandPack.js';
import type { EventStore } from '../store/index.js';
import { isMergeLog, type MergeRecord } from '../store/regionLog.js';
import type { MergeOutcome } from '../resolution/index.js';
import { VC, type VectorClock } from '../vectorClock/index.js';
import type { guardedObserver } from './observer.js';
import type { ActorView, CommandReply, ResolveReply } from './replies.js';

/** A command as it reaches an entity, validated. */
export interface CommandEnvelope {
  readonly type: string;
  readonly payload: unknown;
  readonly commandId: string;
  /** True when the caller chose the id, so it may be a retry worth looking up. */
  readonly callerChoseId: boolean;
  /**
   * True when the id came from the caller at all (even with checkDuplicate: false): another
   * process may have been given the same command, so an append conflict warrants a lookup. Ids
   * the runtime generates itself are never sent twice.
   */
  readonly idFromCaller: boolean;
  readonly correlationId: string;
  readonly initiatedBy?: string;
}

export interface EntityEnvironment {
  readonly store: EventStore;
  readonly replicaId: string;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly conflictRetriesMax: number;
  readonly eventsPerCommandMax: number;
  readonly ancestryLimits: AncestryLimits;
  /** How heads are merged: `computeMerge` unless a test plugs one in (`withMergeStrategy` of the testkit). */
  readonly mergeStrategy: MergeStrategy;
  readonly observer: ReturnType<typeof guardedObserver>;
  readonly onMergeCheck: 'warn' | 'throw' | 'off';
  readonly packBytesMax: number;
}

const warnedTypes = new Set<string>();
/** One process warning per actor type: a misbehaving onMerge would otherwise warn on every merge. */
function warnOnce(actorType: string, message: string): void {
  if (warnedTypes.has(actorType)) return;
  warnedTypes.add(actorType);
  process.emitWarning(message, 'TroupeOnMergeWarning');
}

/**
 * What a live entity keeps between messages: its head's version, key and ts (what the next
 * command needs, not the head pack itself), the state there, and the weight folded since the last
 * snapshot. One object, changed in place by each accepted command (no allocation per command).
 */
interface Loaded {
  /** Undefined for an actor without packs. */
  version: VectorClock | undefined;
  /** `VC.encode(version)`: the expected head of the next append. */
  key: string | undefined;
  /** The head's ts (0 without a head: never read then). */
  ts: number;
  state: unknown;
  sinceSnapshot: number;
}

function loadedAt(pack: Pack | undefined, state: unknown, sinceSnapshot: number): Loaded {
  return pack
    ? { version: pack.version, key: VC.encode(pack.version), ts: pack.ts, state, sinceSnapshot }
    : { version: undefined, key: undefined, ts: 0, state, sinceSnapshot };
}

/**
 * The logic of one live actor: load, decide, append, resolve. It holds the cached state between
 * messages; the host guarantees one message at a time. Pure deciding and folding live in the
 * definition; the store is the only I/O.
 */
export class Entity {
  private loaded: Loaded | undefined;

  constructor(
    readonly actor: ActorRef,
    private readonly definition: AnyActorDefinition,
    private readonly env: EntityEnvironment,
  ) {}

  async handle(envelope: CommandEnvelope): Promise<CommandReply> {
    let command = envelope;
    if (command.callerChoseId) {
      const earlier = await this.earlierResult(command.commandId);
      if (earlier) return earlier;
    }
    for (let attempt = 0; ; attempt++) {
      const cached = this.loaded !== undefined;
      const current = this.loaded ?? (await this.load());
      const outcome = this.decide(current, command);
      if (outcome.status === 'rejected') {
        // A rejection writes nothing, so no append conflict would reveal a stale cache (packs
        // replicated in, another writer): make sure it was decided on the store's head.
        if (cached && attempt < this.env.conflictRetriesMax && !(await this.headIsCurrent(current))) {
          this.loaded = undefined;
          continue;
        }
        // A resend that claimed to be new (checkDuplicate: false) of a command already applied is
        // decided on a state that includes it, so it may be refused: answer with the first result.
        // It costs a lookup on rejections of caller ids only (the bus's first deliveries).
        if (command.idFromCaller && !command.callerChoseId) {
          const earlier = await this.earlierResult(command.commandId);
          if (earlier) return earlier;
        }
        return outcome;
      }
      try {
        await this.env.store.append(outcome.pack, current.key !== undefined ? [current.key] : [], outcome.snapshot);
      } catch (error) {
        if (error instanceof DuplicateCommandError) {
          // The store checks command ids after the expected heads, so the cached state is still
          // the head's: no reload.
          if (!command.idFromCaller) {
            // An id this runtime drew itself is never a retry: another runtime with the same
            // replica id and machine id drew the same one (e.g. two processes of one region left
            // on the default machineId). Draw a new id and decide again; answering with the
            // other command's result would lose this one.
            if (attempt >= this.env.conflictRetriesMax) throw error;
            const commandId = `${this.env.replicaId}.${this.env.ids.next()}`;
            const defaulted = command.correlationId === command.commandId;
            command = { ...command, commandId, correlationId: defaulted ? commandId : command.correlationId };
            continue;
          }
          // The store holds this command id already (a resend that claimed to be new): answer
          // with the recorded result, as for any retry.
          const earlier = await this.earlierResult(command.commandId);
          if (earlier) return earlier;
          throw error;
        }
        if (!(error instanceof AppendConflictError)) throw error;
        this.conflicted(error, attempt);
        this.loaded = undefined;
        if (attempt >= this.env.conflictRetriesMax) throw error;
        // Whoever moved the head may have applied this very command (another worker given the
        // same message after a connection drop): look a caller's id up here, even when the
        // caller said it was new. It costs a read only on this path.
        if (command.idFromCaller) {
          const earlier = await this.earlierResult(command.commandId);
          if (earlier) return earlier;
        }
        continue;
      }
      // `current` is `this.loaded` (one message at a time): moved to the new head in place.
      current.sinceSnapshot = outcome.snapshot ? 0 : current.sinceSnapshot + snapshotWeight(outcome.pack);
      current.version = outcome.pack.version;
      current.key = VC.encode(outcome.pack.version);
      current.ts = outcome.pack.ts;
      current.state = outcome.state;
      this.loaded = current;
      return {
        status: 'accepted',
        commandId: command.commandId,
        version: outcome.pack.version,
        events: outcome.pack.events,
        duplicate: false,
      };
    }
  }

  async view(): Promise<ActorView> {
    const current = await this.load();
    return { version: current.version, state: current.state, heads: 1 };
  }

  /** Merges the actor's heads if it has several. */
  async resolve(): Promise<ResolveReply> {
    for (let attempt = 0; ; attempt++) {
      const heads = await this.env.store.heads(this.actor);
      if (heads.length <= 1) return { resolved: false, headsMerged: heads.length, compensations: [], version: heads[0]?.version };
      try {
        return await this.mergeHeads(heads, attempt);
      } catch (error) {
        if (!(error instanceof AppendConflictError) || attempt >= this.env.conflictRetriesMax) throw error;
      }
    }
  }

  private async mergeHeads(heads: Pack[], attempt: number): Promise<ResolveReply> {
    const observation = { actor: this.actor, replica: this.env.replicaId };
    const startedMs = this.env.clock.now();
    this.env.observer.resolving({ ...observation, heads });
    let outcome: Awaited<ReturnType<MergeStrategy>>;
    try {
      outcome = await this.env.mergeStrategy(this.env.store, this.definition, this.actor, heads, this.env.ancestryLimits);
      this.checkOnMerge(outcome);
      await this.env.store.append(outcome.pack, heads.map((h) => VC.encode(h.version)));
    } catch (error) {
      if (error instanceof AppendConflictError) this.conflicted(error, attempt);
      else this.env.observer.resolutionFailed({ ...observation, error });
      throw error;
    }
    const mergedAt = this.env.clock.now();
    const durationMs = Math.max(0, mergedAt - startedMs);
    const record = mergeRecord(outcome, this.env.replicaId, mergedAt, durationMs);
    let recordError: unknown;
    // Best effort: the merge pack is durable; a record that could not be kept must not fail it.
    if (isMergeLog(this.env.store)) await this.env.store.recordMerge(record).catch((error: unknown) => (recordError = error ?? new Error('recordMerge failed')));
    this.env.observer.resolved({ ...observation, outcome, durationMs, record, ...(recordError !== undefined ? { recordError } : {}) });
    this.loaded = loadedAt(outcome.pack, outcome.state, 0);
    const reply: ResolveReply = {
      resolved: true,
      version: outcome.pack.version,
      headsMerged: outcome.heads.length,
      compensations: outcome.compensations,
    };
    return reply;
  }

  /** Reads the actor from the store, resolving first if it has diverged. */
  private async load(): Promise<Loaded> {
    for (let attempt = 0; ; attempt++) {
      const heads = await this.env.store.heads(this.actor);
      if (heads.length > 1) {
        try {
          await this.mergeHeads(heads, attempt);
          return this.loaded!;
        } catch (error) {
          if (!(error instanceof AppendConflictError) || attempt >= this.env.conflictRetriesMax) throw error;
          continue;
        }
      }
      const head = heads[0];
      if (!head) {
        this.loaded = loadedAt(undefined, this.definition.initial(), 0);
        this.env.observer.loaded({ actor: this.actor, replica: this.env.replicaId, version: undefined, packsRead: 0, fromSnapshot: false });
        return this.loaded;
      }
      const { state, sinceSnapshot, packsRead, fromSnapshot } = await stateAt(this.env.store, this.definition, this.actor, head.version);
      this.loaded = loadedAt(head, state, sinceSnapshot);
      this.env.observer.loaded({ actor: this.actor, replica: this.env.replicaId, version: head.version, packsRead, fromSnapshot });
      return this.loaded;
    }
  }

  private decide(
    current: Loaded,
    command: CommandEnvelope,
  ): { status: 'accepted'; pack: Pack; state: unknown; snapshot?: Snapshot } | (CommandReply & { status: 'rejected' }) {
    const handler = this.definition.commands[command.type] as (s: unknown, p: unknown, c: DecideContext) => unknown;
    const now = this.env.clock.now();
    const decision = handler(current.state, command.payload, {
      actor: this.actor,
      commandId: command.commandId,
      now,
      replica: this.env.replicaId,
    });
    if (isRejection(decision)) return { status: 'rejected', commandId: command.commandId, reason: decision.reason };
    if (!Array.isArray(decision)) {
      throw new InvalidDecisionError(this.definition.type, command.type, 'the command handler returned neither an array of events nor reject(reason)');
    }
    if (decision.length > this.env.eventsPerCommandMax) {
      throw new LimitExceededError('eventsPerCommandMax', `${this.definition.type}.${command.type} emitted ${decision.length} events, more than ${this.env.eventsPerCommandMax}`);
    }
    for (const e of decision as { type?: unknown }[]) {
      if (!e || typeof e.type !== 'string' || !Object.hasOwn(this.definition.events, e.type)) {
        throw new InvalidDecisionError(this.definition.type, command.type, `emitted an event of unknown type '${String(e?.type)}' (declare it in the definition's events)`);
      }
    }
    const pack = commandPack({
      actor: this.actor,
      head: current.version === undefined ? undefined : (current as { readonly version: VectorClock; readonly ts: number }),
      replica: this.env.replicaId,
      commandId: command.commandId,
      correlationId: command.correlationId,
      initiatedBy: command.initiatedBy,
      now,
      ids: this.env.ids,
      emitted: decision as { type: string; data: unknown }[],
      dataBytesMax: this.env.packBytesMax,
    });
    // Fold before persisting: an event handler that throws must not leave a pack behind.
    const state = fold(this.definition, current.state, pack.events);
    const snapshotDue = current.sinceSnapshot + snapshotWeight(pack) >= this.definition.snapshotEvery;
    return snapshotDue ? { status: 'accepted', pack, state, snapshot: { version: pack.version, state } } : { status: 'accepted', pack, state };
  }

  private async headIsCurrent(current: Loaded): Promise<boolean> {
    const heads = await this.env.store.heads(this.actor);
    if (heads.length !== (current.key !== undefined ? 1 : 0)) return false;
    return current.key === undefined || VC.encode(heads[0]!.version) === current.key;
  }

  /**
   * The recorded result of a command id. When it was applied on two branches during a partition,
   * the answer is the copy a merge keeps (the one whose events replay first, as in computeMerge),
   * so every replica that holds both gives the same answer.
   */
  private async earlierResult(commandId: string): Promise<CommandReply | undefined> {
    const versions = await this.env.store.commandVersions(this.actor, commandId);
    if (versions.length === 0) return undefined;
    const packs = await this.env.store.getPacks(this.actor, versions.map(VC.encode));
    const held = packs.filter((pack): pack is Pack => pack !== undefined);
    if (held.length === 0) return undefined;
    const survivor = survivingCopy(copiesOf(commandId, held));
    return { status: 'accepted', commandId, version: survivor.pack.version, events: [...survivor.events], duplicate: true };
  }

  /** `onMerge` applied to its own result must emit nothing (see MergeOutcome.compensationsOnRecheck). */
  private checkOnMerge(outcome: { readonly compensationsOnRecheck: readonly { readonly type: string }[] }): void {
    if (outcome.compensationsOnRecheck.length === 0 || this.env.onMergeCheck === 'off') return;
    const error = new OnMergeNotIdempotentError(this.definition.type, actorKey(this.actor), outcome.compensationsOnRecheck);
    if (this.env.onMergeCheck === 'throw') throw error;
    warnOnce(this.definition.type, error.message);
  }

  private conflicted(error: AppendConflictError, attempt: number): void {
    this.env.observer.appendConflict({
      actor: this.actor,
      replica: this.env.replicaId,
      attempt,
      expectedHeads: error.expected,
      actualHeads: error.actual,
    });
  }
}

/** What a merge leaves for operators: built from the merge's outcome when its pack is durable. */
export function mergeRecord(outcome: MergeOutcome, region: string, mergedAt: number, durationMs: number): MergeRecord {
  // The earliest event after the ancestor (a loop, not Math.min(...): a long partition replays many).
  let divergedAt = Infinity;
  for (const e of outcome.replayed) divergedAt = Math.min(divergedAt, e.ts);
  for (const e of outcome.droppedDuplicates) divergedAt = Math.min(divergedAt, e.ts);
  if (divergedAt === Infinity) for (const h of outcome.heads) divergedAt = Math.min(divergedAt, h.ts);
  if (divergedAt === Infinity) divergedAt = mergedAt;
  return {
    actor: outcome.pack.actor,
    version: outcome.pack.version,
    ...(outcome.ancestor ? { ancestor: outcome.ancestor.version } : {}),
    heads: outcome.heads.map((h) => h.version),
    replayed: outcome.replayed.length,
    droppedDuplicates: outcome.droppedDuplicates.length,
    compensations: outcome.compensations.map((e) => e.type),
    region,
    divergedAt,
    mergedAt,
    durationMs,
  };
}
