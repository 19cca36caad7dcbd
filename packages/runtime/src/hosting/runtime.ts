import { isRegionLog } from '../store/regionLog.js';
import { type AwaitReplicatedOptions, type ReplicationState, awaitReplicated } from '../replication/stability.js';
import nact from 'nact';
import type { AnyActorDefinition, CommandOf, CommandOptions, TypedRef, UntypedRef } from '../actor/index.js';
import {
  InvalidActorIdError,
  InvalidDefinitionError,
  InvalidOptionError,
  InvalidPayloadError,
  LimitExceededError,
  RuntimeStoppedError,
  UnknownActorTypeError,
  UnknownCommandError,
} from '../errors/index.js';
import { type Clock, FlakeIdSource, type IdSource, machineIdFor, systemClock } from '../ids/index.js';
import { canonicalInput, canonicalInputBounded } from '../codec/index.js';
import { type ActorRef, actorKey } from '../model/index.js';
import { type AncestryLimits, computeMerge, defaultAncestryLimits } from '../resolution/index.js';
import { type EventStore, MemoryStore } from '../store/index.js';
import { VC, type VectorClock } from '../vectorClock/index.js';
import { type CommandEnvelope, Entity } from './entity.js';
import { mergeStrategyOf } from './mergeStrategyOption.js';
import { type RuntimeObserver, guardedObserver } from './observer.js';
import type { ActorView, CommandReply, ResolveReply } from './replies.js';

export interface RuntimeOptions {
  /** Actor definitions this runtime hosts. */
  readonly actors: readonly AnyActorDefinition[];
  /** Where packs live. Default: a new MemoryStore. */
  readonly store?: EventStore;
  /** This replica's id, written into versions and events. Default 'local'. */
  readonly replicaId?: string;
  /** Flake machine id 0..1023, unique among replicas. Default: derived from replicaId. */
  readonly machineId?: number;
  /** Wall clock. Default: the system clock. */
  readonly clock?: Clock;
  /** Event id source. Default: FlakeIdSource on `clock` and `machineId`. */
  readonly idSource?: IdSource;
  /** Passivate an actor idle this long, ms on `clock`. Default 60,000. */
  readonly idleTimeoutMs?: number;
  /**
   * How often a timer looks for idle actors, in real ms. Default: half of `idleTimeoutMs`, within
   * 10..5,000. 0 = no timer: call `passivateIdle()` yourself (a simulator on a virtual clock does).
   */
  readonly idleSweepEveryMs?: number;
  /** Passivate least recently used idle actors beyond this many live ones. Default 100,000. */
  readonly liveActorsMax?: number;
  /** Most messages queued for one actor; more are refused with LimitExceededError. Default 10,000. */
  readonly mailboxMax?: number;
  /** Re-decide this many times after append conflicts before failing. Default 16. */
  readonly conflictRetriesMax?: number;
  /** Most events one command may emit. Default 1,000. */
  readonly eventsPerCommandMax?: number;
  /** Most bytes a command's payload may encode to (as the bus's limit of the same name). Default 1 MiB. */
  readonly commandBytesMax?: number;
  /** Most bytes the events of one command may encode to. Default 1 MiB. */
  readonly packBytesMax?: number;
  /** Limits of divergence resolution. */
  readonly ancestryLimits?: Partial<AncestryLimits>;
  /**
   * Told of append conflicts, resolutions (with their merge details), loads and passivations:
   * for metrics, logs and simulators. Default: none. See `RuntimeObserver`.
   */
  readonly observer?: RuntimeObserver;
  /**
   * What to do when `onMerge` is not idempotent (applied to the state its compensations produced
   * it emits more: a delta that a later merge would book twice). 'warn' (default): one process
   * warning per actor type, the merge goes on. 'throw': the resolution fails with
   * OnMergeNotIdempotentError (tests and simulations). 'off': no check.
   */
  readonly onMergeCheck?: 'warn' | 'throw' | 'off';
}

export const runtimeDefaults = {
  replicaId: 'local',
  idleTimeoutMs: 60_000,
  liveActorsMax: 100_000,
  mailboxMax: 10_000,
  conflictRetriesMax: 16,
  eventsPerCommandMax: 1_000,
  commandBytesMax: 1 << 20,
  packBytesMax: 1 << 20,
  onMergeCheck: 'warn',
} as const;

type Message =
  | { readonly kind: 'command'; readonly command: CommandEnvelope; readonly resolve: (reply: CommandReply) => void; readonly reject: (error: unknown) => void }
  | { readonly kind: 'resolve'; readonly command: undefined; readonly resolve: (reply: ResolveReply) => void; readonly reject: (error: unknown) => void }
  | { readonly kind: 'view'; readonly command: undefined; readonly resolve: (view: ActorView) => void; readonly reject: (error: unknown) => void };

/** A live entity with its mailbox: one object per live actor. */
class Live extends Entity {
  /** The message to handle next, once the entity's turn comes (see `running`). */
  first: Message | undefined = undefined;
  /**
   * Messages waiting behind it, from `queueHead` on (an array used as a queue); none while a
   * single message at a time comes (an idle entity holds no array).
   */
  queue: Message[] | undefined = undefined;
  queueHead = 0;
  /** A message of this entity is being handled (or is scheduled to be): the others wait in `queue`. */
  running = false;
  pending = 0;
  /** On the runtime's clock. */
  lastUsedMs = 0;
}

/**
 * Messages handled one after another without giving the event loop a turn (across entities), at
 * most: every this many, the next one waits for the runtime's nact actor, which takes one turn of
 * the event loop per message, so timers and I/O run between slices. A count, not a time: the
 * interleaving stays deterministic (the simulator relies on it).
 */
export const messagesPerSlice = 64;

const resolved = Promise.resolve();

/**
 * Hosts actors: one mailbox per live entity, so one actor's messages run strictly one at a time
 * and in order while different actors run concurrently. Idle entities are passivated (after
 * `idleTimeoutMs`, or least recently used first beyond `liveActorsMax`) and reloaded from the store
 * on their next message.
 *
 * The mailboxes are the runtime's own (a queue and a flag per entity: a nact actor per entity held
 * about 1.3 KiB and cost an event-loop turn, a context object and a Map copy per message). nact is
 * the runtime's root: its actor system, and one nact actor that schedules the entities that gave
 * the event loop a turn (`messagesPerSlice`) and runs the passivation sweeps.
 */
export class Runtime {
  readonly store: EventStore;
  readonly replicaId: string;
  private readonly definitions = new Map<string, AnyActorDefinition>();
  private readonly system: nact.ActorSystemRef;
  /** The runtime's nact actor: resumes entities after an event-loop turn, runs sweeps. */
  private readonly host: nact.Ref<'resume' | 'sweep'>;
  private readonly live = new Map<string, Live>();
  private readonly options: Required<Pick<RuntimeOptions, 'idleTimeoutMs' | 'liveActorsMax' | 'mailboxMax'>>;
  private readonly environment: ConstructorParameters<typeof Entity>[2];
  private readonly sweeper: NodeJS.Timeout | undefined;
  private readonly clock: Clock;
  private readonly commandBytesMax: number;
  private readonly observer: ReturnType<typeof guardedObserver>;
  private pendingTotal = 0;
  private drained: (() => void) | undefined;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  /** Messages that may still start before the event loop gets a turn (see `messagesPerSlice`). */
  private sliceLeft = messagesPerSlice;

  constructor(options: RuntimeOptions) {
    for (const definition of options.actors) {
      if (this.definitions.has(definition.type)) throw new InvalidDefinitionError(`actor type '${definition.type}' is registered twice`);
      this.definitions.set(definition.type, definition);
    }
    this.replicaId = options.replicaId ?? runtimeDefaults.replicaId;
    if (!VC.isValidReplicaId(this.replicaId)) {
      throw new InvalidOptionError('replicaId', `must be 1-64 characters of [A-Za-z0-9_.-], got '${this.replicaId}'`);
    }
    this.store = options.store ?? new MemoryStore();
    const clock = options.clock ?? systemClock;
    this.clock = clock;
    this.observer = guardedObserver(options.observer);
    const machineId = options.machineId ?? machineIdFor(this.replicaId);
    const ancestryLimits = { ...defaultAncestryLimits, ...options.ancestryLimits };
    if (!Number.isInteger(ancestryLimits.headsMax) || ancestryLimits.headsMax < 2 || ancestryLimits.headsMax > 30) {
      throw new InvalidOptionError('ancestryLimits.headsMax', `must be an integer in 2..30, got ${ancestryLimits.headsMax}`);
    }
    this.environment = {
      store: this.store,
      replicaId: this.replicaId,
      clock,
      ids: options.idSource ?? new FlakeIdSource({ machineId, clock }),
      conflictRetriesMax: integerAtLeast('conflictRetriesMax', options.conflictRetriesMax ?? runtimeDefaults.conflictRetriesMax, 0),
      eventsPerCommandMax: integerAtLeast('eventsPerCommandMax', options.eventsPerCommandMax ?? runtimeDefaults.eventsPerCommandMax, 1),
      ancestryLimits,
      mergeStrategy: mergeStrategyOf(options) ?? computeMerge,
      observer: this.observer,
      onMergeCheck: options.onMergeCheck ?? runtimeDefaults.onMergeCheck,
      packBytesMax: positiveInteger('packBytesMax', options.packBytesMax ?? runtimeDefaults.packBytesMax),
    };
    this.commandBytesMax = positiveInteger('commandBytesMax', options.commandBytesMax ?? runtimeDefaults.commandBytesMax);
    if (!['warn', 'throw', 'off'].includes(this.environment.onMergeCheck)) {
      throw new InvalidOptionError('onMergeCheck', `must be 'warn', 'throw' or 'off', got '${String(this.environment.onMergeCheck)}'`);
    }
    this.options = {
      idleTimeoutMs: msAtLeastZero('idleTimeoutMs', options.idleTimeoutMs ?? runtimeDefaults.idleTimeoutMs),
      liveActorsMax: integerAtLeast('liveActorsMax', options.liveActorsMax ?? runtimeDefaults.liveActorsMax, 1),
      mailboxMax: integerAtLeast('mailboxMax', options.mailboxMax ?? runtimeDefaults.mailboxMax, 1),
    };
    const sweepEveryMs = options.idleSweepEveryMs ?? Math.max(10, Math.min(this.options.idleTimeoutMs / 2, 5_000));
    if (!Number.isFinite(sweepEveryMs) || sweepEveryMs < 0) {
      throw new InvalidOptionError('idleSweepEveryMs', `must be 0 (no timer) or a positive number of ms, got ${sweepEveryMs}`);
    }
    this.system = nact.start();
    this.host = nact.spawnStateless(
      this.system,
      (message: 'resume' | 'sweep') => {
        if (message === 'sweep') {
          if (!this.stopped) this.passivateIdle();
          return;
        }
        // A turn of the event loop went by: a new slice, for the entities waiting in order.
        this.sliceLeft = messagesPerSlice;
        const waiting = this.waiting;
        this.waiting = [];
        for (let i = 0; i < waiting.length; i++) {
          if (this.sliceLeft-- > 0) this.next(waiting[i]!);
          else this.resumeLater(waiting[i]!);
        }
      },
      'host',
    ) as nact.Ref<'resume' | 'sweep'>;
    if (sweepEveryMs > 0) {
      this.sweeper = setInterval(() => nact.dispatch(this.host, 'sweep'), sweepEveryMs);
      this.sweeper.unref();
    }
  }

  /** Types of the actors this runtime hosts. */
  get actorTypes(): string[] {
    return [...this.definitions.keys()];
  }

  /** Number of entities currently in memory. */
  get liveActors(): number {
    return this.live.size;
  }

  /**
   * Sends a command and resolves to accepted (version, events) or rejected (reason).
   * Rejects with UnknownActorTypeError, InvalidActorIdError, UnknownCommandError or InvalidPayloadError for bad input
   * (nothing is persisted), with AppendConflictError after too many conflicts, and with the
   * store's errors.
   */
  send<Def>(ref: TypedRef<Def>, command: CommandOf<Def>): Promise<CommandReply>;
  send(ref: UntypedRef, command: { readonly type: string; readonly payload?: unknown } & CommandOptions): Promise<CommandReply>;
  send(ref: ActorRef, command: { readonly type: string; readonly payload?: unknown } & CommandOptions): Promise<CommandReply> {
    try {
      const envelope = this.validate(ref, command);
      return this.enqueue<CommandReply>(ref, 'command', envelope);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Merges the actor's heads if it has diverged; serialized with its commands. */
  resolve(ref: ActorRef): Promise<ResolveReply> {
    try {
      this.checkedDefinitionOf(ref);
      return this.enqueue<ResolveReply>(ref, 'resolve', undefined);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Waits until `options.regions` regions (default all, this one included) hold the actor's
   * version, as this region's frontier table says (see `awaitReplicated`). The store must take
   * part in region replication (`RegionLog`: MemoryStore, RedisStore) and a region replicator must
   * have declared the regions.
   */
  awaitReplicated(ref: ActorRef, version: VectorClock, options: AwaitReplicatedOptions = {}): Promise<ReplicationState> {
    const store = this.store;
    if (!isRegionLog(store)) return Promise.reject(new InvalidOptionError('store', 'this runtime\'s store does not take part in region replication (it does not implement RegionLog)'));
    return awaitReplicated(store, this.replicaId, ref, version, options);
  }

  /** Current version and state of an actor, read through its mailbox (resolving first if diverged). */
  inspect<State = unknown>(ref: ActorRef): Promise<ActorView<State>> {
    try {
      this.checkedDefinitionOf(ref);
      return this.enqueue<ActorView>(ref, 'view', undefined) as Promise<ActorView<State>>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Stops accepting commands, waits for every queued one to finish, then stops the actors. */
  stop(): Promise<void> {
    this.stopping ??= this.drainAndStop();
    return this.stopping;
  }

  private async drainAndStop(): Promise<void> {
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
    if (this.pendingTotal > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    nact.stop(this.system);
    this.live.clear();
  }

  private validate(ref: ActorRef, command: { readonly type: string; readonly payload?: unknown } & CommandOptions): CommandEnvelope {
    const definition = this.checkedDefinitionOf(ref);
    if (!command || typeof command.type !== 'string' || !Object.hasOwn(definition.commands, command.type)) {
      throw new UnknownCommandError(definition.type, String(command?.type), definition.commandNames);
    }
    // The entity decides later (after a turn of the event loop): keep a private copy, so a caller
    // mutating its object after send() cannot change what was validated; and the codec's canonical
    // form of it, which is what every replica will read back.
    // Plain data is copied without a trip through msgpack (the same value, see canonicalInputBounded).
    let payload: unknown;
    let payloadBytes: number;
    try {
      ({ value: payload, bound: payloadBytes } = canonicalInputBounded(command.payload));
      // A bound above the limit: the exact size decides (and is what the error reports).
      if (payloadBytes > this.commandBytesMax) payloadBytes = canonicalInput(command.payload).bytes;
    } catch (error) {
      throw new InvalidPayloadError(definition.type, command.type, `payload must be plain data (${(error as Error).message})`);
    }
    if (payloadBytes > this.commandBytesMax) {
      throw new LimitExceededError('commandBytesMax', `the payload of ${definition.type}.${command.type} encodes to ${payloadBytes} bytes, more than ${this.commandBytesMax}`);
    }
    const validator = definition.validate?.[command.type];
    const problem = validator ? validator(payload) : undefined;
    if (problem !== undefined) throw new InvalidPayloadError(definition.type, command.type, problem);
    const callerChoseId = command.commandId !== undefined && command.checkDuplicate !== false;
    // Ids travel in packs: one that does not read back the same (a lone surrogate comes back as
    // U+FFFD) would make the copy another replica holds a different pack under the same version.
    for (const field of ['commandId', 'correlationId', 'initiatedBy'] as const) {
      if (command[field] !== undefined && !isIdentifier(command[field])) {
        throw new InvalidPayloadError(definition.type, command.type, `${field} must be a string of 1-256 characters of well-formed Unicode`);
      }
    }
    // Default ids come from the replica's id source: unique across replicas (machine id) and
    // reproducible under a manual clock, which the simulator relies on.
    const commandId = command.commandId ?? `${this.replicaId}.${this.environment.ids.next()}`;
    const envelope: CommandEnvelope = {
      type: command.type,
      payload,
      commandId,
      callerChoseId,
      idFromCaller: command.commandId !== undefined,
      correlationId: command.correlationId ?? commandId,
    };
    // No initiatedBy key unless given (replies and events carry none then).
    return command.initiatedBy === undefined ? envelope : { ...envelope, initiatedBy: command.initiatedBy };
  }

  /** The definition of a ref's type, after checking the id too: bad refs never reach an entity. */
  private checkedDefinitionOf(ref: ActorRef): AnyActorDefinition {
    const definition = this.definitionOf(ref);
    if (!isIdentifier(ref.id)) throw new InvalidActorIdError(definition.type, ref.id);
    return definition;
  }

  private definitionOf(ref: ActorRef): AnyActorDefinition {
    if (this.stopped) throw new RuntimeStoppedError();
    const definition = ref && this.definitions.get(ref.type);
    if (!definition) throw new UnknownActorTypeError(String(ref?.type), this.actorTypes);
    return definition;
  }

  private enqueue<T>(ref: ActorRef, kind: Message['kind'], command: CommandEnvelope | undefined): Promise<T> {
    const live = this.entityFor(ref);
    if (live.pending >= this.options.mailboxMax) {
      return Promise.reject(
        new LimitExceededError('mailboxMax', `${actorKey(ref)} already has ${live.pending} queued messages`),
      );
    }
    live.pending++;
    live.lastUsedMs = this.clock.now();
    this.pendingTotal++;
    return new Promise<T>((resolve, reject) => {
      const message = { kind, command, resolve, reject } as Message;
      if (live.running) {
        (live.queue ??= []).push(message);
        return;
      }
      live.running = true;
      live.first = message;
      // Never handled inside send(): the caller's code after send() runs first, as with any mailbox.
      if (--this.sliceLeft > 0) this.startSoon(live);
      else this.resumeLater(live);
    });
  }

  /** Entities that wait for the next turn of the event loop (the slice was used up), in order. */
  private waiting: Live[] = [];

  /** One nact message for all the entities that wait: the host actor resumes them after a turn of the event loop. */
  private resumeLater(live: Live): void {
    if (this.waiting.push(live) === 1) nact.dispatch(this.host, 'resume');
  }

  /** Entities to start in the next microtask, in order (one microtask for all, no closure each). */
  private ready: Live[] = [];
  private readyCount = 0;
  /** The other list: the two swap at every start, so no array is allocated per microtask. */
  private readySpare: Live[] = [];

  private startSoon(live: Live): void {
    this.ready[this.readyCount++] = live;
    if (this.readyCount === 1) void resolved.then(this.startReady);
  }

  private readonly startReady = (): void => {
    const ready = this.ready;
    const count = this.readyCount;
    this.ready = this.readySpare;
    this.readyCount = 0;
    this.readySpare = ready;
    for (let i = 0; i < count; i++) {
      const live = ready[i]!;
      ready[i] = undefined as never;
      this.next(live);
    }
  };

  /** Handles the entity's queued messages one at a time, giving the event loop a turn every `messagesPerSlice`. */
  private next(live: Live): void {
    const message = live.first!;
    live.first = undefined;
    void this.handle(live, message);
  }

  private async handle(live: Live, message: Message): Promise<void> {
    let failed = false;
    let result: unknown;
    try {
      switch (message.kind) {
        case 'command':
          result = await live.handle(message.command);
          break;
        case 'resolve':
          result = await live.resolve();
          break;
        case 'view':
          result = await live.view();
          break;
      }
    } catch (error) {
      failed = true;
      result = error;
    }
    live.pending--;
    if (--this.pendingTotal === 0 && this.drained) this.drained();
    if (failed) message.reject(result);
    else (message.resolve as (value: unknown) => void)(result);
    const queue = live.queue;
    if (queue !== undefined) {
      live.first = queue[live.queueHead]!;
      queue[live.queueHead++] = undefined as never;
      if (live.queueHead === queue.length) {
        live.queue = undefined;
        live.queueHead = 0;
      }
      if (--this.sliceLeft > 0) this.next(live);
      else this.resumeLater(live);
    } else {
      live.running = false;
    }
  }

  private entityFor(ref: ActorRef): Live {
    const key = actorKey(ref);
    const existing = this.live.get(key);
    if (existing) {
      // Keep the map in least-recently-used order.
      this.live.delete(key);
      this.live.set(key, existing);
      return existing;
    }
    if (this.live.size >= this.options.liveActorsMax) this.passivateLeastRecentlyUsed();
    // Frozen: every pack and event of the entity shares it (see commandPack).
    const actor = Object.freeze({ type: ref.type, id: ref.id });
    const live = new Live(actor, this.definitionOf(ref), this.environment);
    live.lastUsedMs = this.clock.now();
    this.live.set(key, live);
    return live;
  }

  private passivateLeastRecentlyUsed(): void {
    let toFree = Math.max(1, Math.floor(this.options.liveActorsMax / 100));
    for (const [key, live] of this.live) {
      if (toFree === 0) break;
      if (live.pending > 0) continue;
      this.passivate(key, live, 'capacity');
      toFree--;
    }
  }

  /**
   * Passivates every actor with no queued message that was last used `idleTimeoutMs` or more ago
   * on the runtime's clock; returns how many. A timer calls it (`idleSweepEveryMs`); with the timer
   * off, the host calls it at points of its choosing (a simulator, deterministically).
   */
  passivateIdle(): number {
    const cutoff = this.clock.now() - this.options.idleTimeoutMs;
    let passivated = 0;
    for (const [key, live] of this.live) {
      // LRU order by use, so the first one used after the cutoff ends the scan. A clock that
      // stepped back can leave an older entry with a later time: it waits for a later sweep.
      if (live.lastUsedMs > cutoff) break;
      if (live.pending === 0) {
        this.passivate(key, live, 'idle');
        passivated++;
      }
    }
    return passivated;
  }

  /** Removes the entity (it has no message: the next one for its actor loads a new one). */
  private passivate(key: string, live: Live, reason: 'idle' | 'capacity'): void {
    this.live.delete(key);
    this.observer.passivated({ actor: live.actor, replica: this.replicaId, reason });
  }
}

/** 1-256 characters of well-formed Unicode: ids are keys in stores and must read back the same. */
function isIdentifier(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= 256 && id.isWellFormed();
}

function positiveInteger(option: string, value: number): number {
  return integerAtLeast(option, value, 1);
}

function integerAtLeast(option: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new InvalidOptionError(option, `must be an integer >= ${min}, got ${value}`);
  return value;
}

function msAtLeastZero(option: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new InvalidOptionError(option, `must be a number of ms >= 0, got ${value}`);
  return value;
}

/** Creates a runtime; see RuntimeOptions for defaults (memory store, local replica). */
export function createRuntime(options: RuntimeOptions): Runtime {
  return new Runtime(options);
}
