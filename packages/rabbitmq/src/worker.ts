import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, RecoveringChannelModel } from 'amqplib';
import { pino, type Logger } from 'pino';
import {
  type ActorRef,
  type AnyActorDefinition,
  type CommandReply,
  type EventStore,
  Runtime,
  type RuntimeOptions,
  TroupeError,
  actorKey,
  fnv1a32,
} from '@troupe/runtime';
import { connectRecovering, defaultAmqpUrl, redactUrl } from './connection.js';
import { TopologyMismatchError } from './errors.js';
import { countingConflicts } from './countingStore.js';
import { Membership, ownerOf } from './membership.js';
import { WorkerMetrics } from './metrics.js';
import { type CommandMessage, MalformedMessageError, type ReplyMessage, busProtocolVersion, decodeCommand, encodeReply } from './protocol.js';
import { type Topology, type TopologyOptions, declareTopology, topology as resolveTopology } from './topology.js';

/** Called around each execution; the failover test uses them to prove one worker per actor at a time. */
export interface WorkerHooks {
  beforeExecute?(ref: ActorRef, commandId: string): void | Promise<void>;
  afterExecute?(ref: ActorRef, commandId: string): void | Promise<void>;
}

export interface WorkerOptions extends TopologyOptions {
  /** Actor definitions this worker hosts (an app package's exports). */
  readonly actors: readonly AnyActorDefinition[];
  /** Where packs live. Default: a MemoryStore (only sensible for a single worker). */
  readonly store?: EventStore;
  /** Default amqp://guest:guest@127.0.0.1:5672. */
  readonly url?: string;
  /** Replica this worker writes as. Default 'local'. */
  readonly replicaId?: string;
  /** Further runtime options (passivation, limits, clock). */
  readonly runtime?: Omit<RuntimeOptions, 'actors' | 'store' | 'replicaId'>;
  /** Unacknowledged messages per shard queue. Default 64 (see the package README for the measurement). */
  readonly prefetch?: number;
  /** Larger messages are dead-lettered without decoding. Default 1 MiB. */
  readonly maxCommandBytes?: number;
  /** Default: pino at level TROUPE_LOG_LEVEL or 'info', to stdout. */
  readonly logger?: Logger;
  /** Serve Prometheus metrics on this port (0: any free port). Default: no endpoint. */
  readonly metricsPort?: number;
  /** Default 127.0.0.1. */
  readonly metricsHost?: string;
  /** Include Node's process metrics (CPU, memory, event loop lag). Default true. */
  readonly defaultMetrics?: boolean;
  /** Longest pause between retries of a command that met a transient failure, ms. Default 2,000. */
  readonly retryDelayMaxMs?: number;
  /** Connection attempts before `startWorker` gives up. Default 0 (fail fast). */
  readonly connectRetries?: number;
  /**
   * Spread shards over the live workers (default true): workers announce themselves on a fanout
   * exchange, and a worker hands over (drain, then re-subscribe behind the others) every shard
   * that rendezvous hashing gives to another live worker. False: the first worker to subscribe
   * holds every shard and the others stand by.
   */
  readonly balance?: boolean;
  /** Heartbeat interval of the membership used for balancing, ms. Default 1,000. */
  readonly heartbeatMs?: number;
  readonly hooks?: WorkerHooks;
}

/** Counts work in progress and lets callers wait until there is none. */
class InFlight {
  private count = 0;
  private readonly waiters: (() => void)[] = [];

  get size(): number {
    return this.count;
  }

  enter(): void {
    this.count++;
  }

  leave(): void {
    if (--this.count === 0) for (const resolve of this.waiters.splice(0)) resolve();
  }

  /** Resolves once nothing is in progress (at once when nothing is). */
  idle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.waiters.push(resolve));
  }
}

/** One shard queue's consumer in this worker. */
interface ShardState {
  channel: Channel | undefined;
  /** Bumped when the consumer is handed over: deliveries of an older epoch are not started. */
  epoch: number;
  /** Commands of this shard executing, and dead-letterings of its messages. */
  readonly running: InFlight;
  /** The hand-over in progress, so two never overlap. */
  cycling: Promise<void> | undefined;
}

export const workerDefaults = { prefetch: 64, maxCommandBytes: 1 << 20, retryDelayMaxMs: 2_000, heartbeatMs: 1_000 } as const;

/** Codes worth retrying in place: the store was unreachable, or the head kept moving. */
const transientCodes = new Set(['STORE_UNAVAILABLE', 'APPEND_CONFLICT']);

function errorCode(error: unknown): string {
  if (error instanceof TroupeError) return error.code;
  if (error instanceof MalformedMessageError) return error.code;
  return 'ACTOR_FAILED';
}

/**
 * Consumes the shard queues and executes commands on a Runtime. Single active consumer means one
 * worker holds a shard at a time; the others stand by and take over when it dies. A message is
 * answered and acknowledged only after its pack is durable in the store. Commands to one actor
 * run one at a time in queue order, even across transient store failures (retried in place).
 */
export class Worker {
  readonly id = `${hostname()}.${process.pid}.${randomUUID().slice(0, 6)}`;
  readonly runtime: Runtime;
  readonly metrics: WorkerMetrics;
  readonly topology: Topology;
  readonly log: Logger;
  /** Times this worker connected to the broker (1 + reconnections). */
  get connectionCount(): number {
    return this.connections;
  }

  /** URL of the /metrics endpoint when one is served. */
  metricsUrl: string | undefined;
  private model: RecoveringChannelModel | undefined;
  private connection: ChannelModel | undefined;
  private readonly shards: ShardState[];
  private readonly membership: Membership | undefined;
  private confirmChannel: ConfirmChannel | undefined;
  private generation = 0;
  private connections = 0;
  private halted = true;
  private stopping: Promise<void> | undefined;
  private readonly chains = new Map<string, Promise<void>>();
  private readonly background = new Set<Promise<void>>();
  private closeMetrics: (() => Promise<void>) | undefined;
  private setupError: unknown;
  private readonly settings: Required<Pick<WorkerOptions, 'prefetch' | 'maxCommandBytes' | 'retryDelayMaxMs'>>;

  private constructor(private readonly options: WorkerOptions) {
    this.topology = resolveTopology(options);
    this.settings = {
      prefetch: options.prefetch ?? workerDefaults.prefetch,
      maxCommandBytes: options.maxCommandBytes ?? workerDefaults.maxCommandBytes,
      retryDelayMaxMs: options.retryDelayMaxMs ?? workerDefaults.retryDelayMaxMs,
    };
    if (!Number.isInteger(this.settings.prefetch) || this.settings.prefetch < 1 || this.settings.prefetch > 65_535) {
      throw new TroupeError('INVALID_DEFINITION', `prefetch must be an integer in 1..65535, got ${this.settings.prefetch}`);
    }
    this.log = (options.logger ?? pino({ name: 'troupe-worker', level: process.env.TROUPE_LOG_LEVEL ?? 'info' })).child({ worker: this.id });
    let liveActors = () => 0;
    this.metrics = new WorkerMetrics(() => liveActors(), options.defaultMetrics ?? true, () => ({ workers: this.members.length, ownedShards: this.ownedShards.length }));
    const store = options.store && countingConflicts(options.store, () => this.metrics.appendConflicts.inc());
    this.runtime = new Runtime({
      ...options.runtime,
      // Workers of one replica share its replicaId; their flake ids must still differ, or two
      // workers (one taking over the other's actors) could mint the same event id in the same
      // millisecond. Default: a machine id drawn from this worker's random id.
      machineId: options.runtime?.machineId ?? fnv1a32(this.id) % 1024,
      actors: options.actors,
      ...(store ? { store } : {}),
      ...(options.replicaId ? { replicaId: options.replicaId } : {}),
    });
    liveActors = () => this.runtime.liveActors;
    this.shards = this.topology.shardQueues.map(() => ({ channel: undefined, epoch: 0, running: new InFlight(), cycling: undefined }));
    if (options.balance ?? true) {
      this.membership = new Membership(this.id, this.topology.membershipExchange, options.heartbeatMs ?? workerDefaults.heartbeatMs, (members) => this.rebalance(members));
    }
  }

  /** Work in progress over all shards. */
  private get executing(): number {
    return this.shards.reduce((n, state) => n + state.running.size, 0);
  }

  /** Resolves when the shard hand-overs started so far are done. */
  async rebalanced(): Promise<void> {
    await Promise.all(this.shards.map((state) => state.cycling));
  }

  /** Workers this one currently sees (itself included), when balancing. */
  get members(): readonly string[] {
    return this.membership?.members ?? [this.id];
  }

  /** Shards whose owner, by rendezvous hashing over the live workers, is this worker. */
  get ownedShards(): number[] {
    return this.shards.map((_, shard) => shard).filter((shard) => !this.membership || ownerOf(shard, this.membership.members) === this.id);
  }

  static async start(options: WorkerOptions): Promise<Worker> {
    const worker = new Worker(options);
    try {
      if (options.metricsPort !== undefined) {
        const served = await worker.metrics.serve(options.metricsPort, options.metricsHost).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'EADDRINUSE') throw error;
          throw new TroupeError('INVALID_DEFINITION', `metrics port ${options.metricsPort} is already in use (another worker on this host?): choose another port, or 0 for any free one`);
        });
        worker.metricsUrl = served.url;
        worker.closeMetrics = served.close;
      }
      worker.model = await connectRecovering({
        url: options.url ?? defaultAmqpUrl,
        initialRetries: options.connectRetries ?? 0,
        setup: (model) => worker.setup(model),
        onDisconnect: (error) => worker.disconnected(error),
        onReconnectScheduled: ({ attempt, delay, error }) => worker.log.warn({ attempt, delayMs: delay, err: error.message }, 'reconnecting to RabbitMQ'),
      });
    } catch (error) {
      worker.halted = true;
      worker.membership?.detach();
      await worker.settled();
      await worker.runtime.stop();
      await worker.closeMetrics?.();
      // The setup's own error says more than amqplib's wrapping of it (e.g. a queue declared
      // with other arguments: PRECONDITION_FAILED).
      const cause = worker.setupError ?? error;
      if (cause instanceof TroupeError) throw cause;
      const message = (cause as Error)?.message ?? String(cause);
      if (/PRECONDITION_FAILED|inequivalent arg/.test(message)) {
        throw new TopologyMismatchError(`the broker's queues do not match this worker's topology (prefix '${worker.topology.prefix}', ${worker.topology.shards} shards, ${worker.topology.queueType} queues): ${message}`);
      }
      throw cause;
    }
    worker.log.info(
      { amqp: redactUrl(options.url ?? defaultAmqpUrl), shards: worker.topology.shards, prefix: worker.topology.prefix, prefetch: worker.settings.prefetch, actors: worker.runtime.actorTypes, metrics: worker.metricsUrl },
      'worker started',
    );
    return worker;
  }

  /**
   * Graceful shutdown: starts nothing new, lets every command already executing finish (pack
   * durable, ack, reply), then closes the connection, which hands the messages it held but had
   * not started back to the broker for the next worker.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.halted = true;
      this.membership?.leave();
      this.log.info({ executing: this.executing }, 'worker stopping: draining commands in flight');
      await this.settled();
      await this.model?.close().catch(() => undefined);
      await this.runtime.stop();
      await this.closeMetrics?.();
      this.log.info('worker stopped');
    })();
    return this.stopping;
  }

  private async settled(): Promise<void> {
    while (this.chains.size > 0 || this.background.size > 0) {
      await Promise.allSettled([...this.chains.values(), ...this.background]);
    }
  }

  private async setup(model: ChannelModel): Promise<void> {
    try {
      await this.connect(model);
    } catch (error) {
      // amqplib reports no 'disconnect' for a connection whose setup failed: clean up as if.
      this.disconnected(error as Error);
      this.setupError = error;
      throw error;
    }
  }

  private async connect(model: ChannelModel): Promise<void> {
    // Commands of the previous connection still executing finish first, so this worker never
    // runs two commands of one actor at once across a reconnection.
    await Promise.all(this.shards.map((state) => state.running.idle()));
    const generation = ++this.generation;
    this.connections++;
    const confirm = await model.createConfirmChannel();
    confirm.on('error', (error: Error) => this.log.error({ err: error.message }, 'dead-letter channel error'));
    await declareTopology(confirm, this.topology);
    this.confirmChannel = confirm;
    this.connection = model;
    if (!this.stopping) this.halted = false;
    for (const shard of this.shards.keys()) await this.subscribe(model, generation, shard);
    await this.membership?.attach(model);
    if (this.connections > 1) this.log.info({ connections: this.connections }, 'reconnected to RabbitMQ; consuming again');
  }

  /** Opens a channel on the shard queue and consumes; with single active consumer it queues up behind earlier consumers. */
  private async subscribe(model: ChannelModel, generation: number, shard: number): Promise<void> {
    const queue = this.topology.shardQueues[shard]!;
    const state = this.shards[shard]!;
    const epoch = state.epoch;
    const channel = await model.createChannel();
    channel.on('error', (error: Error) => this.log.error({ err: error.message, queue }, 'shard channel error'));
    await channel.prefetch(this.settings.prefetch);
    await channel.consume(queue, (message) => this.onDelivery(generation, shard, epoch, channel, message), { noAck: false });
    state.channel = channel;
    channel.on('close', () => this.unplannedClose(generation, shard, channel));
  }

  /** Hands over every shard another live worker owns; the owners keep theirs. */
  private rebalance(members: readonly string[]): void {
    if (this.halted) return;
    const handedOver = this.shards.map((_, shard) => shard).filter((shard) => ownerOf(shard, members) !== this.id);
    this.log.info({ members: members.length, owned: this.shards.length - handedOver.length }, 'workers changed; rebalancing shards');
    for (const shard of handedOver) void this.handOver(shard);
  }

  /**
   * Gives up a shard's consumer without ever running one actor on two workers: start nothing new
   * from it, let what runs finish (ack, reply), close the channel (the broker requeues what was
   * held, in order, and activates the next consumer), then subscribe again behind the others.
   */
  private handOver(shard: number): Promise<void> {
    const state = this.shards[shard]!;
    const previous = state.cycling ?? Promise.resolve();
    const next = previous.then(async () => {
      const generation = this.generation;
      const model = this.connection;
      if (this.halted || !model) return;
      state.epoch++;
      await state.running.idle();
      const closing = state.channel;
      state.channel = undefined; // before closing: its 'close' event is ours, not the broker's
      try {
        await closing?.close();
      } catch {
        // already closed (by the broker, or with its connection)
      }
      if (this.halted || generation !== this.generation) return; // a reconnection subscribes every shard
      await this.subscribe(model, generation, shard);
    });
    state.cycling = next.catch((error: Error) => this.log.warn({ err: error.message, shard }, 'shard hand-over failed; the next reconnection subscribes again'));
    return state.cycling;
  }

  private disconnected(error: Error): void {
    this.membership?.detach();
    this.connection = undefined;
    for (const state of this.shards) state.channel = undefined;
    this.generation++;
    this.confirmChannel = undefined;
    this.log.warn({ err: error.message, executing: this.executing }, 'lost the RabbitMQ connection; unacknowledged commands return to their queues');
  }

  private onDelivery(generation: number, shard: number, epoch: number, channel: Channel, message: ConsumeMessage | null): void {
    if (!message) {
      // The broker cancelled the consumer (queue deleted, or the consumer timed out).
      this.log.warn({ queue: this.topology.shardQueues[shard] }, 'the broker cancelled the consumer; subscribing again');
      this.unplannedClose(generation, shard, channel);
      return;
    }
    const deliveredAt = performance.now();
    if (message.fields.redelivered) this.metrics.redeliveries.inc();
    let command: CommandMessage;
    if (message.content.length > this.settings.maxCommandBytes) {
      this.track(shard, this.poison(channel, message, 'LIMIT_EXCEEDED', `message of ${message.content.length} bytes exceeds maxCommandBytes ${this.settings.maxCommandBytes}`));
      return;
    }
    try {
      command = decodeCommand(message.content);
    } catch (error) {
      this.track(shard, this.poison(channel, message, errorCode(error), (error as Error).message));
      return;
    }
    const ref: ActorRef = { type: command.type, id: command.id };
    const key = actorKey(ref);
    const previous = this.chains.get(key) ?? Promise.resolve();
    // execute never rejects (it logs what it cannot handle), so the chain of an actor never breaks.
    const next = previous.then(() => this.execute(generation, shard, epoch, channel, message, command, ref, deliveredAt));
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }

  /** Background work on a shard's message (dead-lettering undecodable ones): a hand-over waits for it too. */
  private track(shard: number, work: Promise<void>): void {
    const state = this.shards[shard]!;
    state.running.enter();
    this.background.add(work);
    void work
      .catch((error: Error) => this.log.error({ err: error.message }, 'dead-lettering failed'))
      .then(() => {
        this.background.delete(work);
        state.running.leave();
      });
  }

  /**
   * A shard's channel or consumer went away while the connection stayed up (the broker closed the
   * channel, e.g. after its consumer timeout, or cancelled the consumer): hand the shard over the
   * usual way, which subscribes it again once nothing of it is running.
   */
  private unplannedClose(generation: number, shard: number, channel: Channel): void {
    const state = this.shards[shard]!;
    // Deferred one turn: when the whole connection dropped, its 'disconnect' comes after the
    // channels' 'close' events and a reconnection subscribes every shard anyway.
    setImmediate(() => {
      if (this.halted || generation !== this.generation || state.channel !== channel) return;
      this.log.warn({ queue: this.topology.shardQueues[shard] }, 'shard channel closed by the broker; subscribing again');
      void this.handOver(shard);
    });
  }

  private async execute(generation: number, shard: number, epoch: number, channel: Channel, message: ConsumeMessage, command: CommandMessage, ref: ActorRef, deliveredAt: number): Promise<void> {
    // Not started when stopping, after the connection that delivered it was lost, or once its
    // shard is being handed over: the broker gives it back to a consumer, in its place in the queue.
    const state = this.shards[shard]!;
    const current = () => !this.halted && generation === this.generation && epoch === state.epoch;
    if (!current()) return;
    state.running.enter();
    await this.hook('beforeExecute', ref, command.commandId);
    try {
      let checkDuplicate = command.checkDuplicate || message.fields.redelivered;
      let reply: CommandReply;
      for (let attempt = 0; ; attempt++) {
        try {
          reply = await this.runtime.send(ref, {
            type: command.command,
            payload: command.payload,
            commandId: command.commandId,
            checkDuplicate,
            ...(command.correlationId === undefined ? {} : { correlationId: command.correlationId }),
            ...(command.initiatedBy === undefined ? {} : { initiatedBy: command.initiatedBy }),
          });
          break;
        } catch (error) {
          const code = errorCode(error);
          if (transientCodes.has(code) || code === 'RUNTIME_STOPPED') {
            if (!current()) return; // back to the queue
            this.metrics.transientFailures.inc({ code });
            const delay = Math.min(this.settings.retryDelayMaxMs, 50 * 2 ** Math.min(attempt, 8));
            this.log.warn({ actor: actorKey(ref), commandId: command.commandId, code, attempt, delayMs: delay, err: (error as Error).message }, 'transient failure; retrying the command in place');
            // A timed-out write may have landed: from now on, look the id up first.
            checkDuplicate = true;
            await new Promise((resolve) => setTimeout(resolve, delay));
            if (!current()) return; // stopped, reconnected or handed over while waiting
            continue;
          }
          await this.poison(channel, message, code, (error as Error).message, command.commandId);
          return;
        }
      }
      // The pack is durable. Reply first, then ack, on the same channel: if the connection drops
      // between them, the broker redelivers and the duplicate lookup answers again. Ack first
      // would lose the reply whenever the ack got through and the reply did not (measured with the
      // reconnect test: ack first lost 2-4 replies in 4 runs of 8, reply first none in 8).
      this.reply(channel, message, { v: busProtocolVersion, ...reply });
      this.ack(channel, message);
      const outcome = reply.status === 'rejected' ? 'rejected' : reply.duplicate ? 'duplicate' : 'accepted';
      this.metrics.commands.inc({ outcome });
      this.metrics.latency.observe((performance.now() - deliveredAt) / 1_000);
    } catch (error) {
      // Not expected (runtime.send and poison handle their errors): keep the actor's chain going;
      // the message stays unacknowledged and comes back on the next connection.
      this.log.error({ err: (error as Error).message, actor: actorKey(ref), commandId: command.commandId }, 'unexpected error while executing a command');
    } finally {
      await this.hook('afterExecute', ref, command.commandId);
      state.running.leave();
    }
  }

  /** Runs an instrumentation hook; one that throws is logged and does not disturb the command. */
  private async hook(name: 'beforeExecute' | 'afterExecute', ref: ActorRef, commandId: string): Promise<void> {
    try {
      await this.options.hooks?.[name]?.(ref, commandId);
    } catch (error) {
      this.log.error({ err: (error as Error).message, hook: name }, 'worker hook failed');
    }
  }

  /**
   * Moves a message that can never succeed to the dead-letter queue with the reason in its
   * headers, acknowledges it, and answers the client with the error. Persisted nothing.
   */
  private async poison(channel: Channel, message: ConsumeMessage, code: string, reason: string, commandId?: string): Promise<void> {
    const queue = this.topology.shardQueues.find((q) => q === message.fields.routingKey) ?? message.fields.routingKey;
    this.log.warn({ code, reason, commandId, queue }, 'dead-lettering a command');
    const confirm = this.confirmChannel;
    try {
      if (!confirm) throw new Error('no dead-letter channel (reconnecting)');
      await new Promise<void>((resolve, reject) => {
        confirm.sendToQueue(
          this.topology.deadLetterQueue,
          message.content,
          {
            ...message.properties,
            persistent: true,
            headers: {
              ...message.properties.headers,
              'x-troupe-error-code': code,
              'x-troupe-reason': reason.slice(0, 1_000),
              'x-troupe-queue': queue,
              'x-troupe-worker': this.id,
            },
          },
          (error) => (error ? reject(new Error(String(error))) : resolve()),
        );
      });
      this.ack(channel, message);
    } catch (error) {
      // The queue's own dead-lettering (x-death headers, reason 'rejected') is the fallback.
      this.log.error({ err: (error as Error).message }, 'could not publish to the dead-letter queue; rejecting to the broker DLX');
      try {
        channel.nack(message, false, false);
      } catch {
        return; // channel gone: the message is redelivered and dead-lettered again
      }
    }
    this.metrics.commands.inc({ outcome: 'dead_lettered' });
    this.reply(channel, message, { v: busProtocolVersion, status: 'failed', commandId: commandId ?? String(message.properties.messageId ?? ''), code, message: reason });
  }

  private ack(channel: Channel, message: ConsumeMessage): void {
    try {
      channel.ack(message);
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'could not acknowledge (channel closed); the broker will redeliver and the duplicate lookup answers it');
    }
  }

  private reply(channel: Channel, message: ConsumeMessage, body: ReplyMessage): void {
    const replyTo = message.properties.replyTo as string | undefined;
    if (!replyTo) return;
    try {
      channel.sendToQueue(replyTo, encodeReply(body), { correlationId: message.properties.correlationId });
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'could not send the reply');
    }
  }
}

/** Starts a worker; see WorkerOptions for defaults. */
export function startWorker(options: WorkerOptions): Promise<Worker> {
  return Worker.start(options);
}
