import type { Channel, ChannelModel } from 'amqplib';
import { type ActorRef, InvalidOptionError } from '@troupe/runtime';
import { fnv1a32 } from '@troupe/runtime/store';
import { TopologyMismatchError } from './errors/index.js';

export interface TopologyOptions {
  /** Prefix of every exchange and queue name. Default 'troupe'. */
  readonly prefix?: string;
  /** Number of shard queues. Every client and worker of one deployment must agree. Default 16. */
  readonly shards?: number;
  /** 'classic' (default, fastest on one node) or 'quorum' (replicated on a RabbitMQ cluster). */
  readonly queueType?: 'classic' | 'quorum';
  /**
   * Quorum queues only: deliveries of one message before the broker dead-letters it (a message
   * that crashes every worker it reaches, instead of taking the fleet down one by one); RabbitMQ's
   * `x-delivery-limit`. Default 20. Classic queues count no deliveries.
   */
  readonly deliveriesMax?: number;
}

/** Every default of `TopologyOptions`. */
export const topologyDefaults = { prefix: 'troupe', shards: 16, queueType: 'classic', deliveriesMax: 20 } as const;

/** Names of every exchange and queue of one deployment. */
export interface Topology {
  readonly prefix: string;
  readonly shards: number;
  readonly queueType: 'classic' | 'quorum';
  readonly deliveriesMax: number;
  /** Direct exchange commands are published to, with the shard queue's name as routing key. */
  readonly commandsExchange: string;
  /** Fanout exchange the shard queues dead-letter into. */
  readonly deadLetterExchange: string;
  /** Where poison messages end up, with the reason in their headers. */
  readonly deadLetterQueue: string;
  /** The shard queues, index = shard. */
  readonly shardQueues: readonly string[];
  /** Fanout exchange of worker heartbeats (auto-delete), for balancing shards. */
  readonly membershipExchange: string;
}

/**
 * Resolves names. A shard queue's name carries the shard count (`troupe.shard.3-of-16`), so
 * processes configured with a different count never share queues by accident: a client checks
 * that its queues exist, and routing into a deployment with another count fails loudly.
 */
export function topology(options: TopologyOptions = {}): Topology {
  const prefix = options.prefix ?? topologyDefaults.prefix;
  const shards = options.shards ?? topologyDefaults.shards;
  const queueType = options.queueType ?? topologyDefaults.queueType;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(prefix)) throw new InvalidOptionError('prefix', `must be 1-64 characters of [A-Za-z0-9_.-], got '${prefix}'`);
  if (!Number.isInteger(shards) || shards < 1 || shards > 1024) throw new InvalidOptionError('shards', `must be an integer in 1..1024, got ${shards}`);
  if (queueType !== 'classic' && queueType !== 'quorum') throw new InvalidOptionError('queueType', `must be 'classic' or 'quorum', got '${String(queueType)}'`);
  const deliveriesMax = options.deliveriesMax ?? topologyDefaults.deliveriesMax;
  if (!Number.isInteger(deliveriesMax) || deliveriesMax < 1) throw new InvalidOptionError('deliveriesMax', `must be a positive integer, got ${deliveriesMax}`);
  return {
    prefix,
    shards,
    queueType,
    deliveriesMax,
    commandsExchange: `${prefix}.commands`,
    deadLetterExchange: `${prefix}.dead`,
    deadLetterQueue: `${prefix}.dead-letter`,
    shardQueues: Array.from({ length: shards }, (_, i) => `${prefix}.shard.${i}-of-${shards}`),
    membershipExchange: `${prefix}.workers`,
  };
}

/** The shard of an actor: a stable hash of `type:id`, the same in every process and release. */
export function shardOf(ref: ActorRef, shards: number): number {
  return fnv1a32(`${ref.type}:${ref.id}`) % shards;
}

/**
 * Declares everything, idempotently: the commands exchange, the dead-letter exchange and queue,
 * and every shard queue (durable, single active consumer, dead-lettering) bound by its name.
 * Workers call it; clients only check (`checkTopology`).
 */
export async function declareTopology(channel: Channel, t: Topology): Promise<void> {
  await channel.assertExchange(t.commandsExchange, 'direct', { durable: true });
  await channel.assertExchange(t.deadLetterExchange, 'fanout', { durable: true });
  await channel.assertQueue(t.deadLetterQueue, { durable: true, arguments: { 'x-queue-type': t.queueType } });
  await channel.bindQueue(t.deadLetterQueue, t.deadLetterExchange, '');
  for (const queue of t.shardQueues) {
    await channel.assertQueue(queue, {
      durable: true,
      arguments: {
        'x-queue-type': t.queueType,
        'x-single-active-consumer': true,
        'x-dead-letter-exchange': t.deadLetterExchange,
        ...(t.queueType === 'quorum' ? { 'x-delivery-limit': t.deliveriesMax } : {}),
      },
    });
    await channel.bindQueue(queue, t.commandsExchange, queue);
  }
}

/**
 * Checks, without declaring anything, that every shard queue of this topology exists (workers
 * declare them). A missing queue means no worker of this prefix and shard count ever ran here.
 */
export async function checkTopology(model: ChannelModel, t: Topology): Promise<void> {
  const channel = await model.createChannel();
  channel.on('error', () => undefined);
  try {
    for (const queue of [t.shardQueues[0]!, t.shardQueues[t.shards - 1]!]) {
      try {
        await channel.checkQueue(queue);
      } catch {
        throw new TopologyMismatchError(
          `queue '${queue}' does not exist: no worker with prefix '${t.prefix}' and ${t.shards} shards has run on this broker (start \`troupe worker\` first, with the same --shards)`,
        );
      }
    }
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/**
 * Deletes every queue and exchange of a topology, with any messages still in them: for tests, and
 * the last step of changing the shard count (README). Deleting what does not exist is a no-op.
 */
export async function deleteTopology(channel: Channel, t: Topology): Promise<{ queues: number; exchanges: number }> {
  const queues = [...t.shardQueues, t.deadLetterQueue];
  for (const queue of queues) await channel.deleteQueue(queue);
  const exchanges = [t.commandsExchange, t.deadLetterExchange, t.membershipExchange];
  for (const exchange of exchanges) await channel.deleteExchange(exchange);
  return { queues: queues.length, exchanges: exchanges.length };
}
