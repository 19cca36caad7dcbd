import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { ChannelModel, ConfirmChannel, RecoveringChannelModel } from 'amqplib';
import { pino, type Logger } from 'pino';
import { type ActorRef, InvalidOptionError, LimitExceededError, Runtime, TroupeError } from '@troupe/runtime';
import { fnv1a32 } from '@troupe/runtime/store';
import { connectRecovering, redactUrl } from '../connection.js';
import { InvalidReplyToError, MalformedMessageError, TopologyMismatchError } from '../errors/index.js';
import { type CommandMessage, decodeCommand } from '../protocol/messages.js';
import { isDirectReplyTo } from '../protocol/replyTo.js';
import { type Topology, declareTopology, topology as resolveTopology } from '../topology.js';
import { ActorChains } from './actorChains.js';
import { DeadLetters } from './deadLetters.js';
import type { Delivery } from './delivery.js';
import { CommandExecutor } from './executor.js';
import { WorkerMetrics } from './metrics.js';
import { workerObserver } from './observer.js';
import { type WorkerOptions, type WorkerSettings, workerSettings } from './options.js';
import { Session, replyWaitMs } from './session.js';
import { ShardConsumers } from './shardConsumers.js';
import { ReplicationWaits } from './replicationWaits.js';
import { ReplyBatches } from './replyBatches.js';

const noContent = Buffer.alloc(0);

/** How long after losing its consuming connection the worker answers the replies that waited for replication, ms. */
const connectionLossSettleMs = 250;

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
  /** URL of the /metrics endpoint when one is served. */
  metricsUrl: string | undefined;
  private readonly settings: WorkerSettings;
  private readonly session = new Session();
  private readonly shards: ShardConsumers;
  private readonly chains = new ActorChains();
  private readonly deadLetters: DeadLetters;
  private readonly executor: CommandExecutor;
  private readonly replication: ReplicationWaits;
  private readonly replyBatches: ReplyBatches;
  private recovering: RecoveringChannelModel | undefined;
  /** The connection replies go out on (see `Session.replyChannel`). */
  private replies: RecoveringChannelModel | undefined;
  private stopping: Promise<void> | undefined;
  private closeMetrics: (() => Promise<void>) | undefined;
  private setupError: unknown;

  private constructor(options: WorkerOptions) {
    this.topology = resolveTopology(options);
    this.settings = workerSettings(options);
    this.log = (options.logger ?? pino({ name: 'troupe-worker', level: process.env.TROUPE_LOG_LEVEL ?? 'info' })).child({ worker: this.id });
    let liveActors = () => 0;
    this.metrics = new WorkerMetrics(() => liveActors(), this.settings.defaultMetrics, () => ({ workers: this.members.length, ownedShards: this.ownedShards.length }));
    this.runtime = new Runtime({
      ...options.runtime,
      observer: workerObserver(this.metrics, options.runtime?.observer),
      // Workers of one replica share its replicaId; their flake ids must still differ, or two
      // workers (one taking over the other's actors) could mint the same event id in the same
      // millisecond. Default: a machine id drawn from this worker's random id.
      machineId: options.runtime?.machineId ?? fnv1a32(this.id) % 1024,
      actors: options.actors,
      ...(options.store ? { store: options.store } : {}),
      ...(options.replicaId ? { replicaId: options.replicaId } : {}),
    });
    liveActors = () => this.runtime.liveActors;
    this.replyBatches = new ReplyBatches(this.log, this.settings.replyBytesMax);
    this.shards = new ShardConsumers({
      topology: this.topology,
      session: this.session,
      workerId: this.id,
      prefetch: this.settings.prefetch,
      heartbeatMs: this.settings.heartbeatMs,
      log: this.log,
      onDelivery: (delivery) => this.onDelivery(delivery),
      onHandOver: (shard) => this.replication.cutShard(shard, 'the shard was handed over to another worker'),
      flushReplies: () => this.replyBatches.flush(),
    });
    this.deadLetters = new DeadLetters(this.topology, this.session, this.id, this.metrics, this.log, this.settings.replyBytesMax);
    this.executor = new CommandExecutor({
      runtime: this.runtime,
      shards: this.shards,
      deadLetters: this.deadLetters,
      metrics: this.metrics,
      log: this.log,
      retryDelayMaxMs: this.settings.retryDelayMaxMs,
      replies: this.replyBatches,
      hooks: options.hooks,
      replyChannel: () => this.session.replyChannelWithin(replyWaitMs),
      replyChannelNow: () => this.session.replyChannel,
      onFatal: (error) => this.fail(error),
      waitForReplication: (delivery, ref, result, request) => this.replication.start(delivery, ref, result, request),
    });
    this.replication = new ReplicationWaits({
      runtime: this.runtime,
      metrics: this.metrics,
      log: this.log,
      waitsMax: this.settings.replicationWaitsMax,
      pollMs: this.settings.replicationPollMs,
      running: (shard) => this.shards.running(shard),
      isCurrent: (delivery) => this.shards.isCurrent(delivery),
      track: (work) => this.chains.track(work),
      answer: (delivery, result) => this.executor.answer(delivery, result),
    });
    this.fatal = new Promise((resolve) => (this.reportFatal = resolve));
  }

  /**
   * Resolves (never rejects) with the error when the worker stopped itself because its store can
   * no longer be trusted (`fatalStoreCodes`: the data was lost, or the credentials are refused).
   * `troupe worker` waits on it beside SIGINT/SIGTERM and exits non-zero.
   */
  readonly fatal: Promise<TroupeError>;
  private reportFatal: ((error: TroupeError) => void) | undefined;

  /** Stops on a store error that no command can get past (logged once, then a graceful stop). */
  private fail(error: TroupeError): void {
    if (!this.reportFatal) return;
    const report = this.reportFatal;
    this.reportFatal = undefined;
    this.log.fatal({ code: error.code, err: error.message }, 'the store cannot be used any more: stopping this worker (its unacknowledged commands go back to the queues)');
    this.metrics.fatalErrors.inc({ code: error.code });
    void this.stop().finally(() => report(error));
  }

  /** Times this worker connected to the broker (1 + reconnections). */
  get connectionCount(): number {
    return this.session.connections;
  }

  /** Resolves when the shard hand-overs started so far are done. */
  async rebalanced(): Promise<void> {
    await this.shards.rebalanced();
  }

  /** Workers this one currently sees (itself included), when balancing. */
  get members(): readonly string[] {
    return this.shards.members;
  }

  /** Shards whose owner, by rendezvous hashing over the live workers, is this worker. */
  get ownedShards(): number[] {
    return this.shards.owned;
  }

  static async start(options: WorkerOptions): Promise<Worker> {
    const worker = new Worker(options);
    try {
      const { metricsPort, metricsHost } = worker.settings;
      if (metricsPort !== undefined) {
        const served = await worker.metrics.serve(metricsPort, metricsHost).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'EADDRINUSE') throw error;
          throw new InvalidOptionError('metricsPort', `port ${metricsPort} on ${metricsHost} is already in use (another worker on this host?): choose another port, or 0 for any free one`);
        });
        worker.metricsUrl = served.url;
        worker.closeMetrics = served.close;
      }
      worker.recovering = await connectRecovering({
        url: worker.settings.url,
        ...(worker.settings.tls ? { tls: worker.settings.tls } : {}),
        initialRetries: worker.settings.connectRetriesMax,
        setup: (model) => worker.setup(model),
        onDisconnect: (error) => worker.disconnected(error),
        onReconnectScheduled: ({ attempt, delay, error }) => worker.log.warn({ attempt, delayMs: delay, err: error.message }, 'reconnecting to RabbitMQ'),
      });
      worker.replies = await connectRecovering({
        url: worker.settings.url,
        ...(worker.settings.tls ? { tls: worker.settings.tls } : {}),
        initialRetries: worker.settings.connectRetriesMax,
        setup: (model) => worker.openReplyChannel(model),
        onDisconnect: (error) => {
          worker.session.setReplyChannel(undefined);
          worker.metrics.replyConnectionLosses.inc();
          // RabbitMQ 3.10 closes it (541) for a reply to a direct reply-to name on a node that is
          // not there: a client whose node died, or a name a publisher forged (see the README).
          worker.log.warn({ err: error.message }, 'lost the reply connection; the replies in flight on it are lost (their callers time out and resend with their command ids); replies wait for it to come back');
        },
      });
    } catch (error) {
      worker.session.halted = true;
      worker.shards.detach();
      await worker.recovering?.close().catch(() => undefined);
      await worker.chains.settled();
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
      { amqp: redactUrl(worker.settings.url), shards: worker.topology.shards, prefix: worker.topology.prefix, prefetch: worker.settings.prefetch, actors: worker.runtime.actorTypes, metrics: worker.metricsUrl },
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
      this.session.halted = true;
      this.shards.leave();
      this.replication.cutAll('the worker is stopping');
      this.log.info({ executing: this.shards.executing }, 'worker stopping: draining commands in flight');
      await this.chains.settled();
      this.shards.flushAcks();
      // Closing the reply channel first sends what was published on it: closing the connection
      // alone dropped a reply published just before (amqplib drops the frames still buffered in
      // its channels; seen with a reply answered at stop, src/replication.int.spec.ts).
      await this.session.replyChannel?.close().catch(() => undefined);
      await this.replies?.close().catch(() => undefined);
      await this.recovering?.close().catch(() => undefined);
      await this.runtime.stop();
      await this.closeMetrics?.();
      this.log.info('worker stopped');
    })();
    return this.stopping;
  }

  /** The reply connection's channel; a channel the broker closes alone is opened again. */
  private async openReplyChannel(model: ChannelModel): Promise<void> {
    const channel = await model.createChannel();
    channel.on('error', (error: Error) => this.log.warn({ err: error.message }, 'reply channel error'));
    channel.on('close', () => {
      if (this.session.replyChannel === channel) this.session.setReplyChannel(undefined);
      if (this.stopping) return;
      setTimeout(() => {
        if (!this.stopping && this.session.replyChannel === undefined) this.openReplyChannel(model).catch(() => undefined);
      }, 100).unref();
    });
    this.session.setReplyChannel(channel);
  }

  /**
   * The dead-letter channel (publisher confirms) on the consuming connection `model`. One the
   * broker closes alone (any channel error: the connection stays up) is opened again, as the reply
   * channel is, so later dead letters still carry their x-troupe-* headers; until then a dead
   * letter waits for it (`confirmWaitMs`).
   */
  private async openConfirmChannel(model: ChannelModel): Promise<ConfirmChannel> {
    const channel = await model.createConfirmChannel();
    channel.on('error', (error: Error) => this.log.error({ err: error.message }, 'dead-letter channel error'));
    channel.on('close', () => {
      // Not the current one (a setup that failed), or the connection is lost: `Session.lost` and
      // the next connection's setup take care of it.
      if (this.session.confirmChannel !== channel || this.session.model !== model) return;
      this.session.confirmChannel = undefined;
      if (this.stopping) return;
      this.log.warn('the broker closed the dead-letter channel; opening it again');
      const reopen = () => {
        if (this.stopping || this.session.model !== model || this.session.confirmChannel !== undefined) return;
        this.openConfirmChannel(model).then(
          (next) => {
            if (!this.stopping && this.session.model === model && this.session.confirmChannel === undefined) this.session.setConfirmChannel(next);
            else next.close().catch(() => undefined);
          },
          (error: Error) => {
            this.log.warn({ err: error.message }, 'could not open the dead-letter channel again; retrying');
            setTimeout(reopen, 500).unref();
          },
        );
      };
      setTimeout(reopen, 100).unref();
    });
    return channel;
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
    await this.shards.idle();
    const session = this.session;
    const generation = ++session.generation;
    session.connections++;
    const confirm = await this.openConfirmChannel(model);
    await declareTopology(confirm, this.topology);
    session.model = model;
    session.setConfirmChannel(confirm);
    if (!this.stopping) session.halted = false;
    await this.shards.subscribeAll(model, generation);
    if (session.connections > 1) this.log.info({ connections: session.connections }, 'reconnected to RabbitMQ; consuming again');
  }

  private disconnected(error: Error): void {
    this.shards.disconnected();
    this.session.lost();
    // Their messages go back to the queues with the connection: answer them now (the reply
    // connection is apart), or their clients would hear only after a second wait on redelivery.
    // Not at once: a network cut takes the reply connection too, and its loss is reported just
    // after this one's; a reply published in between went out on a dead channel and was lost (seen
    // in src/replication.int.spec.ts). A moment later the loss is known and the reply waits for the
    // reply connection to come back. (A reconnection waits for them: they count as running.)
    setTimeout(() => this.replication.cutAll('the broker connection was lost'), connectionLossSettleMs);
    this.log.warn({ err: error.message, executing: this.shards.executing }, 'lost the RabbitMQ connection; unacknowledged commands return to their queues');
  }

  /** Checks and decodes a delivery, then queues it behind its actor's earlier commands. */
  private onDelivery(delivery: Delivery): void {
    const { message, shard } = delivery;
    if (message.fields.redelivered) this.metrics.redeliveries.inc();
    // A reply goes where the message says: only a direct reply-to name, which reaches nothing
    // but the publishing client's channel, may say it. Anything else is not executed at all (a
    // command from a publisher that can aim the worker's writes is not a command to trust).
    const replyTo = message.properties.replyTo as unknown;
    if (replyTo !== undefined && replyTo !== null && replyTo !== '' && (typeof replyTo !== 'string' || !isDirectReplyTo(replyTo))) {
      this.track(shard, this.deadLetters.send(delivery, new InvalidReplyToError(String(replyTo)), { answer: false }));
      return;
    }
    if (message.content.length > this.settings.commandBytesMax) {
      const error = new LimitExceededError('commandBytesMax', `message of ${message.content.length} bytes exceeds commandBytesMax ${this.settings.commandBytesMax}`);
      this.track(shard, this.deadLetters.send(delivery, error));
      return;
    }
    let command: CommandMessage;
    try {
      command = decodeCommand(message.content);
    } catch (error) {
      const malformed = error instanceof MalformedMessageError ? error : new MalformedMessageError(String((error as Error)?.message ?? error));
      this.track(shard, this.deadLetters.send(delivery, malformed));
      return;
    }
    const ref: ActorRef = { type: command.type, id: command.id };
    // Decoded: drop the bytes before the command waits behind its actor. A small message's
    // content is a view of amqplib's whole socket read, so keeping it would hold that chunk for
    // as long as the command waits; the ack needs only the delivery tag, and a dead letter gets
    // the command encoded again.
    // (The message object is this worker's alone: amqplib hands each delivery to one consumer.)
    message.content = noContent;
    this.chains.enqueue(ref, () => this.executor.execute({ delivery, command, ref }));
  }

  /** Background work on a shard's message (dead-lettering undecodable ones): a hand-over waits for it too. */
  private track(shard: number, work: Promise<void>): void {
    const running = this.shards.running(shard);
    running.enter();
    this.chains.track(
      work
        .catch((error: Error) => this.log.error({ err: error.message }, 'dead-lettering failed'))
        .finally(() => running.leave()),
    );
  }
}

/** Starts a worker; see WorkerOptions for defaults. */
export function startWorker(options: WorkerOptions): Promise<Worker> {
  return Worker.start(options);
}
