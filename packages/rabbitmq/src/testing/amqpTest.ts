import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import type { CommandReply, UntypedRef } from '@troupe/runtime';
import type { CommandBus } from '../client/index.js';
import { CommandTimeoutError } from '../errors/index.js';
import { requireService } from '@troupe/runtime/testkit';
import { type Topology, deleteTopology as deleteAll, topology } from '../topology.js';

export const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** True when RabbitMQ answers; fails under CI=true when it does not, warns loudly otherwise. */
export function requireRabbitMq(): Promise<boolean> {
  const { hostname, port } = new URL(amqpUrl);
  return requireService({ name: 'RabbitMQ', host: hostname, port: Number(port || 5672) });
}

/** A topology under a fresh prefix, so test runs never share queues. */
export function testTopology(shards = 4): Topology {
  return topology({ prefix: `t-${randomUUID().slice(0, 8)}`, shards });
}

/** Deletes every queue and exchange of a topology. */
export async function deleteTopology(t: Topology): Promise<void> {
  const connection = await amqp.connect(amqpUrl);
  try {
    await deleteAll(await connection.createChannel(), t);
  } finally {
    await connection.close();
  }
}

/** Messages waiting in a queue (not counting unacknowledged ones). */
export async function queueDepth(queue: string): Promise<number> {
  const connection = await amqp.connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await connection.close();
  }
}

/** Takes every message off a queue (acked), with its headers. */
export async function drainQueue(queue: string): Promise<{ content: Buffer; headers: Record<string, unknown> }[]> {
  const connection = await amqp.connect(amqpUrl);
  const out: { content: Buffer; headers: Record<string, unknown> }[] = [];
  try {
    const channel = await connection.createChannel();
    for (;;) {
      const message = await channel.get(queue, { noAck: true });
      if (!message) break;
      out.push({ content: message.content, headers: (message.properties.headers ?? {}) as Record<string, unknown> });
    }
  } finally {
    await connection.close();
  }
  return out;
}

/** Publishes raw bytes to a shard queue, as a broken or hostile client would. */
export async function publishRaw(t: Topology, queue: string, content: Buffer, properties: amqp.Options.Publish = {}): Promise<void> {
  const connection = await amqp.connect(amqpUrl);
  try {
    const channel = await connection.createConfirmChannel();
    channel.publish(t.commandsExchange, queue, content, { persistent: true, ...properties });
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
}

/**
 * Sends a command and, on CommandTimeoutError, sends it again with the same commandId until it is
 * answered (what a careful client does): resolves to the reply and the number of retries.
 */
export async function sendUntilAnswered(
  bus: CommandBus,
  ref: UntypedRef,
  command: { readonly type: string; readonly payload?: unknown },
  timeoutMs?: number,
): Promise<{ reply: CommandReply; retries: number }> {
  let commandId: string | undefined;
  for (let retries = 0; ; retries++) {
    try {
      const reply = await bus.send(ref, command, { ...(timeoutMs === undefined ? {} : { timeoutMs }), ...(commandId ? { commandId } : {}) });
      return { reply, retries };
    } catch (error) {
      if (!(error instanceof CommandTimeoutError)) throw error;
      commandId = error.commandId;
    }
  }
}
