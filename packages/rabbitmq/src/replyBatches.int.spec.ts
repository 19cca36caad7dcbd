/**
 * Replies batched per client on a real broker: a client that reads batches gets every reply once,
 * to its own command, when many of its commands finish in one turn; a client that does not say
 * `batchReplies` (an older one, or another language's) gets one plain reply per command.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import amqp, { type ConsumeMessage } from 'amqplib';
import { MemoryStore, type UntypedRef } from '@troupe/runtime';
import { connectBus, type CommandBus } from './client/index.js';
import { startWorker, type Worker } from './worker/index.js';
import type { ReplyBatches } from './worker/replyBatches.js';
import { SequenceLog } from './testing/sequenceActor.js';
import { amqpUrl, deleteTopology, requireRabbitMq, testTopology } from './testing/amqpTest.js';
import { busProtocolVersion, decodeReply, encodeCommand, replyBatchType } from './protocol/messages.js';
import { directReplyTo } from './protocol/replyTo.js';
import { shardOf } from './topology.js';

const available = await requireRabbitMq();
const quiet = pino({ level: 'silent' });

describe.skipIf(!available)('reply batches on RabbitMQ', () => {
  const t = testTopology(4);
  let worker: Worker;
  let bus: CommandBus;
  const batchesOf = (w: Worker) => (w as unknown as { replyBatches: ReplyBatches }).replyBatches.sent;
  const log = (id: string) => ({ type: 'seqlog', id }) as UntypedRef;

  beforeAll(async () => {
    worker = await startWorker({ url: amqpUrl, ...t, actors: [SequenceLog], store: new MemoryStore(), logger: quiet, defaultMetrics: false });
    bus = await connectBus({ url: amqpUrl, ...t, timeoutMs: 10_000 });
  });
  afterAll(async () => {
    await bus?.close();
    await worker?.stop();
    await deleteTopology(t);
  });

  it('answers many concurrent commands of one client in batches, each caller getting its own reply once', async () => {
    const before = { ...batchesOf(worker) };
    const sends = Array.from({ length: 400 }, (_, i) => bus.send(log(`b${i % 100}`), { type: 'record', payload: { client: 'batch', seq: Math.floor(i / 100) } }));
    const replies = await Promise.all(sends);
    expect(replies.every((r) => r.status === 'accepted')).toBe(true);
    expect(new Set(replies.map((r) => r.commandId)).size).toBe(400);
    // Each reply is its command's: the events it carries are that command's.
    for (let i = 0; i < 400; i++) {
      const reply = replies[i]!;
      if (reply.status !== 'accepted') continue;
      expect(reply.events.map((e) => e.data)).toEqual([{ client: 'batch', seq: Math.floor(i / 100) }]);
    }
    const after = batchesOf(worker);
    expect(after.batches).toBeGreaterThan(before.batches);
    expect(after.batched - before.batched + after.single - before.single).toBe(400);
  });

  it('answers a client that does not read batches with one plain reply per command', async () => {
    const connection = await amqp.connect(amqpUrl);
    try {
      const channel = await connection.createChannel();
      const got: ConsumeMessage[] = [];
      await channel.consume(directReplyTo, (message) => message && got.push(message), { noAck: true });
      const count = 50;
      for (let i = 0; i < count; i++) {
        const ref = log(`plain${i % 5}`);
        const body = encodeCommand({ v: busProtocolVersion, type: 'seqlog', id: ref.id, command: 'record', payload: { client: 'plain', seq: Math.floor(i / 5) }, commandId: `plain-${i}`, checkDuplicate: false });
        channel.publish(t.commandsExchange, t.shardQueues[shardOf(ref, t.shards)]!, body, { persistent: true, replyTo: directReplyTo, correlationId: `corr-${i}` });
      }
      const deadline = Date.now() + 10_000;
      while (got.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(got.length).toBe(count);
      for (const message of got) {
        expect(message.properties.type).not.toBe(replyBatchType);
        const reply = decodeReply(message.content)!;
        expect(reply.status).toBe('accepted');
        expect(message.properties.correlationId).toBe(`corr-${reply.commandId.slice('plain-'.length)}`);
      }
    } finally {
      await connection.close();
    }
  });
});
