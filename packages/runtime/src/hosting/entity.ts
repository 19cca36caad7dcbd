import {
  type AnyActorDefinition,
  type DecideContext,
  compareEvents,
  fold,
  isRejection,
} from '../actor/index.js';
import { AppendConflictError, LimitExceededError, TroupeError } from '../errors/index.js';
import type { Clock, IdSource } from '../ids/index.js';
import type { ActorRef, EventRecord, Pack, Snapshot } from '../model/index.js';
import { computeMerge, snapshotWeight, stateAt, type AncestryLimits } from '../resolution/index.js';
import { commandPack } from './commandPack.js';
import type { EventStore } from '../store/index.js';
import { VC, type VectorClock } from '../vectorClock/index.js';
import type { ActorView, CommandReply, ResolveReply } from './replies.js';

/** Which of two copies of one command a merge keeps: the one whose first event replays first. */
function preferredCopy(a: { events: EventRecord[]; key: string }, b: { events: EventRecord[]; key: string }): boolean {
  const ea = a.events[0];
  const eb = b.events[0];
  if (ea && eb) return compareEvents(ea, eb) < 0;
  if (ea || eb) return ea !== undefined;
  return a.key < b.key;
}

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
  readonly onResolved?: (actor: ActorRef, reply: ResolveReply) => void;
  /** How heads are merged: `computeMerge` unless a test plugs in another (see RuntimeOptions.mergeStrategy). */
  readonly mergeStrategy: MergeStrategy;
}

/** Computes the merge pack of several heads; `computeMerge` is the one troupe ships. */
export type MergeStrategy = typeof computeMerge;

interface Loaded {
  readonly head?: Pack;
  readonly state: unknown;
  readonly sinceSnapshot: number;
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

  async handle(command: CommandEnvelope): Promise<CommandReply> {
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
        return outcome;
      }
      try {
        await this.env.store.append(outcome.pack, current.head ? [VC.encode(current.head.version)] : [], outcome.snapshot);
      } catch (error) {
        if (!(error instanceof AppendConflictError)) throw error;
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
      this.loaded = {
        head: outcome.pack,
        state: outcome.state,
        sinceSnapshot: outcome.snapshot ? 0 : current.sinceSnapshot + snapshotWeight(outcome.pack),
      };
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
    return { version: current.head?.version, state: current.state, heads: 1 };
  }

  /** Merges the actor's heads if it has several. */
  async resolve(): Promise<ResolveReply> {
    for (let attempt = 0; ; attempt++) {
      const heads = await this.env.store.heads(this.actor);
      if (heads.length <= 1) return { resolved: false, headsMerged: heads.length, compensations: [], version: heads[0]?.version };
      try {
        return await this.mergeHeads(heads);
      } catch (error) {
        if (!(error instanceof AppendConflictError) || attempt >= this.env.conflictRetriesMax) throw error;
      }
    }
  }

  private async mergeHeads(heads: Pack[]): Promise<ResolveReply> {
    const outcome = await this.env.mergeStrategy(this.env.store, this.definition, this.actor, heads, this.env.ancestryLimits);
    await this.env.store.append(outcome.pack, heads.map((h) => VC.encode(h.version)));
    this.loaded = { head: outcome.pack, state: outcome.state, sinceSnapshot: 0 };
    const reply: ResolveReply = {
      resolved: true,
      version: outcome.pack.version,
      headsMerged: outcome.heads.length,
      compensations: outcome.compensations,
    };
    this.env.onResolved?.(this.actor, reply);
    return reply;
  }

  /** Reads the actor from the store, resolving first if it has diverged. */
  private async load(): Promise<Loaded> {
    for (let attempt = 0; ; attempt++) {
      const heads = await this.env.store.heads(this.actor);
      if (heads.length > 1) {
        try {
          await this.mergeHeads(heads);
          return this.loaded!;
        } catch (error) {
          if (!(error instanceof AppendConflictError) || attempt >= this.env.conflictRetriesMax) throw error;
          continue;
        }
      }
      const head = heads[0];
      if (!head) {
        this.loaded = { state: this.definition.initial(), sinceSnapshot: 0 };
        return this.loaded;
      }
      const { state, sinceSnapshot } = await stateAt(this.env.store, this.definition, this.actor, head.version);
      this.loaded = { head, state, sinceSnapshot };
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
      throw new TroupeError('INVALID_DEFINITION', `${this.definition.type}.${command.type} returned neither an array of events nor reject(reason)`);
    }
    if (decision.length > this.env.eventsPerCommandMax) {
      throw new LimitExceededError('eventsPerCommandMax', `${this.definition.type}.${command.type} emitted ${decision.length} events, more than ${this.env.eventsPerCommandMax}`);
    }
    for (const e of decision as { type?: unknown }[]) {
      if (!e || typeof e.type !== 'string' || !Object.hasOwn(this.definition.events, e.type)) {
        throw new TroupeError('INVALID_DEFINITION', `${this.definition.type}.${command.type} emitted an event of unknown type '${e?.type}'`);
      }
    }
    const pack = commandPack({
      actor: this.actor,
      head: current.head,
      replica: this.env.replicaId,
      commandId: command.commandId,
      correlationId: command.correlationId,
      ...(command.initiatedBy === undefined ? {} : { initiatedBy: command.initiatedBy }),
      now,
      ids: this.env.ids,
      emitted: decision as { type: string; data: unknown }[],
    });
    // Fold before persisting: an event handler that throws must not leave a pack behind.
    const state = fold(this.definition, current.state, pack.events);
    const snapshotDue = current.sinceSnapshot + snapshotWeight(pack) >= this.definition.snapshotEvery;
    return { status: 'accepted', pack, state, ...(snapshotDue ? { snapshot: { version: pack.version, state } } : {}) };
  }

  private async headIsCurrent(current: Loaded): Promise<boolean> {
    const heads = await this.env.store.heads(this.actor);
    if (heads.length !== (current.head ? 1 : 0)) return false;
    return !current.head || VC.encode(heads[0]!.version) === VC.encode(current.head.version);
  }

  /**
   * The recorded result of a command id. When it was applied on two branches during a partition,
   * the answer is the copy a merge keeps (the one whose events replay first, as in computeMerge),
   * so every replica that holds both gives the same answer.
   */
  private async earlierResult(commandId: string): Promise<CommandReply | undefined> {
    const versions = await this.env.store.commandVersions(this.actor, commandId);
    if (versions.length === 0) return undefined;
    const keys = versions.map(VC.encode);
    const packs = await this.env.store.getPacks(this.actor, keys);
    let best: { version: VectorClock; events: EventRecord[]; key: string } | undefined;
    packs.forEach((pack, i) => {
      const events = (pack?.events ?? []).filter((e) => e.causationId === commandId);
      const candidate = { version: versions[i]!, events, key: keys[i]! };
      if (!best || preferredCopy(candidate, best)) best = candidate;
    });
    return { status: 'accepted', commandId, version: best!.version, events: best!.events, duplicate: true };
  }
}
