import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import { Membership, ownerOf } from '../membership.js';
import type { Topology } from '../topology.js';
import { ChannelAcks } from './acks.js';
import type { Delivery } from './delivery.js';
import { InFlight } from './inFlight.js';
import type { Session } from './session.js';

/** One shard queue's consumer in this worker. */
interface ShardState {
  channel: Channel | undefined;
  /** The acknowledgements of `channel`. */
  acks: ChannelAcks | undefined;
  /** Bumped when the consumer is handed over: deliveries of an older epoch are not started. */
  epoch: number;
  /** Commands of this shard executing, and dead-letterings of its messages. */
  readonly running: InFlight;
  /** The hand-over in progress, so two never overlap. */
  cycling: Promise<void> | undefined;
}

export interface ShardConsumersOptions {
  readonly topology: Topology;
  readonly session: Session;
  readonly workerId: string;
  readonly prefetch: number;
  /** Balance shards over the live workers (with this heartbeat interval, ms); undefined: active/standby. */
  readonly heartbeatMs: number | undefined;
  readonly log: Logger;
  readonly onDelivery: (delivery: Delivery) => void;
  /**
   * A shard is being handed over (nothing new of it starts): work of it that could run on for
   * long (replies waiting for replication) should finish now, as the hand-over waits for it.
   */
  readonly onHandOver?: (shard: number) => void;
  /** Publishes the replies batched so far and asks for their acks (before a channel's acks are flushed for its close). */
  readonly flushReplies?: () => void;
}

/**
 * The worker's consumers of the shard queues. Single active consumer means one worker holds a
 * shard at a time; the others stand by and take over when it dies. With balancing, workers
 * announce themselves (`Membership`) and each hands over the shards rendezvous hashing gives to
 * another live worker, without ever running one actor on two workers.
 */
export class ShardConsumers {
  private readonly states: ShardState[];
  private readonly membership: Membership | undefined;

  constructor(private readonly options: ShardConsumersOptions) {
    this.states = options.topology.shardQueues.map(() => ({ channel: undefined, acks: undefined, epoch: 0, running: new InFlight(), cycling: undefined }));
    if (options.heartbeatMs !== undefined) {
      this.membership = new Membership(options.workerId, options.topology.membershipExchange, options.heartbeatMs, (members) => this.rebalance(members));
    }
  }

  /** Work in progress over all shards. */
  get executing(): number {
    return this.states.reduce((n, state) => n + state.running.size, 0);
  }

  /** Workers this one currently sees (itself included), when balancing. */
  get members(): readonly string[] {
    return this.membership?.members ?? [this.options.workerId];
  }

  /** Shards whose owner, by rendezvous hashing over the live workers, is this worker. */
  get owned(): number[] {
    return this.states.map((_, shard) => shard).filter((shard) => !this.membership || ownerOf(shard, this.membership.members) === this.options.workerId);
  }

  /** Commands of this shard executing, and dead-letterings of its messages. */
  running(shard: number): InFlight {
    return this.states[shard]!.running;
  }

  /**
   * Whether a delivery may (still) be started: not when stopping, after the connection that
   * delivered it was lost, or once its shard is being handed over (the broker gives it back to a
   * consumer, in its place in the queue).
   */
  isCurrent(delivery: Delivery): boolean {
    const { session } = this.options;
    return !session.halted && delivery.generation === session.generation && delivery.epoch === this.states[delivery.shard]!.epoch;
  }

  /** Resolves once nothing of any shard runs. */
  async idle(): Promise<void> {
    await Promise.all(this.states.map((state) => state.running.idle()));
  }

  /** Resolves when the shard hand-overs started so far are done. */
  async rebalanced(): Promise<void> {
    await Promise.all(this.states.map((state) => state.cycling));
  }

  /** Consumes every shard queue on a new connection, then joins the membership. */
  async subscribeAll(model: ChannelModel, generation: number): Promise<void> {
    for (const shard of this.states.keys()) await this.subscribe(model, generation, shard);
    await this.membership?.attach(model);
  }

  /** The connection is gone: its channels with it; stop beating until the next connection. */
  disconnected(): void {
    this.membership?.detach();
    for (const state of this.states) {
      state.channel = undefined;
      state.acks = undefined;
    }
  }

  /** Sends the acknowledgements asked for so far on every shard channel (before closing the connection). */
  flushAcks(): void {
    this.options.flushReplies?.();
    for (const state of this.states) state.acks?.flush();
  }

  /** The membership could not be joined (the first connection failed). */
  detach(): void {
    this.membership?.detach();
  }

  /** Tells the other workers this one is leaving, so they take its shards without waiting. */
  leave(): void {
    this.membership?.leave();
  }

  /** Opens a channel on the shard queue and consumes; with single active consumer it queues up behind earlier consumers. */
  private async subscribe(model: ChannelModel, generation: number, shard: number): Promise<void> {
    const { topology, prefetch, log } = this.options;
    const queue = topology.shardQueues[shard]!;
    const state = this.states[shard]!;
    const epoch = state.epoch;
    const channel = await model.createChannel();
    channel.on('error', (error: Error) => log.error({ err: error.message, queue }, 'shard channel error'));
    await channel.prefetch(prefetch);
    const acks = new ChannelAcks(channel, log);
    await channel.consume(queue, (message) => this.delivered(generation, shard, epoch, channel, acks, message), { noAck: false });
    state.channel = channel;
    state.acks = acks;
    channel.on('close', () => this.unplannedClose(generation, shard, channel));
  }

  private delivered(generation: number, shard: number, epoch: number, channel: Channel, acks: ChannelAcks, message: ConsumeMessage | null): void {
    if (!message) {
      // The broker cancelled the consumer (queue deleted, or the consumer timed out).
      this.options.log.warn({ queue: this.options.topology.shardQueues[shard] }, 'the broker cancelled the consumer; subscribing again');
      this.unplannedClose(generation, shard, channel);
      return;
    }
    this.options.onDelivery({ generation, shard, epoch, channel, acks, message, deliveredAt: performance.now() });
  }

  /** Hands over every shard another live worker owns; the owners keep theirs. */
  private rebalance(members: readonly string[]): void {
    if (this.options.session.halted) return;
    const handedOver = this.states.map((_, shard) => shard).filter((shard) => ownerOf(shard, members) !== this.options.workerId);
    this.options.log.info({ members: members.length, owned: this.states.length - handedOver.length }, 'workers changed; rebalancing shards');
    for (const shard of handedOver) void this.handOver(shard);
  }

  /**
   * Gives up a shard's consumer without ever running one actor on two workers: start nothing new
   * from it, let what runs finish (ack, reply), close the channel (the broker requeues what was
   * held, in order, and activates the next consumer), then subscribe again behind the others.
   */
  private handOver(shard: number): Promise<void> {
    const { session, log } = this.options;
    const state = this.states[shard]!;
    const previous = state.cycling ?? Promise.resolve();
    const next = previous.then(async () => {
      const generation = session.generation;
      const model = session.model;
      if (session.halted || !model) return;
      state.epoch++;
      this.options.onHandOver?.(shard);
      await state.running.idle();
      const closing = state.channel;
      // What ran is answered: its replies and acks go before the channel closes, or the broker
      // would hand those messages to the next consumer again.
      this.options.flushReplies?.();
      state.acks?.flush();
      state.channel = undefined; // before closing: its 'close' event is ours, not the broker's
      state.acks = undefined;
      try {
        await closing?.close();
      } catch {
        // already closed (by the broker, or with its connection)
      }
      if (session.halted || generation !== session.generation) return; // a reconnection subscribes every shard
      await this.subscribe(model, generation, shard);
    });
    state.cycling = next.catch((error: Error) => log.warn({ err: error.message, shard }, 'shard hand-over failed; the next reconnection subscribes again'));
    return state.cycling;
  }

  /**
   * A shard's channel or consumer went away while the connection stayed up (the broker closed the
   * channel, e.g. after its consumer timeout, or cancelled the consumer): hand the shard over the
   * usual way, which subscribes it again once nothing of it is running.
   */
  private unplannedClose(generation: number, shard: number, channel: Channel): void {
    const { session, log, topology } = this.options;
    const state = this.states[shard]!;
    // Deferred one turn: when the whole connection dropped, its 'disconnect' comes after the
    // channels' 'close' events and a reconnection subscribes every shard anyway.
    setImmediate(() => {
      if (session.halted || generation !== session.generation || state.channel !== channel) return;
      log.warn({ queue: topology.shardQueues[shard] }, 'shard channel closed by the broker; subscribing again');
      void this.handOver(shard);
    });
  }
}
