import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import amqp from 'amqplib';
import { MemoryStore, type UntypedRef } from '@troupe/runtime';
import { connectBus } from './client/index.js';
import { startWorker } from './worker/index.js';
import { SequenceLog, type SequenceState } from './testing/sequenceActor.js';
import { amqpUrl, deleteTopology, drainQueue, publishRaw, queueDepth, requireRabbitMq, testTopology } from './testing/amqpTest.js';
import { busProtocolVersion, encodeCommand } from './protocol/messages.js';
import { shardOf } from './topology.js';

const available = await requireRabbitMq();
const quiet = pino({ level: 'silent' });

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!available)('hostile messages on a shard queue', () => {
  // Issue #14 defect 2: the worker published its reply into whatever queue `replyTo` named.
  it('dead-letters a command whose replyTo is not a direct reply-to name, executes nothing and publishes nothing to the named queue', async () => {
    const t = testTopology(2);
    const victim = `${t.prefix}.victim-queue`;
    const store = new MemoryStore();
    const worker = await startWorker({ url: amqpUrl, ...t, actors: [SequenceLog], store, logger: quiet, defaultMetrics: false });
    const connection = await amqp.connect(amqpUrl);
    try {
      const channel = await connection.createChannel();
      await channel.assertQueue(victim, { durable: false, autoDelete: false });
      const ref = { type: 'seqlog', id: 'hijack' } as UntypedRef;
      const body = encodeCommand({ v: busProtocolVersion, type: 'seqlog', id: 'hijack', command: 'record', payload: { client: 'h', seq: 1 }, commandId: 'hijack-1', checkDuplicate: true });
      const queue = t.shardQueues[shardOf(ref, t.shards)]!;
      await publishRaw(t, queue, body, { messageId: 'hijack-1', replyTo: victim, correlationId: 'x' });
      await waitFor(async () => (await queueDepth(t.deadLetterQueue)) >= 1);
      // A command from the real client afterwards is served (the worker kept going), and by then
      // any reply to the victim would have been published.
      const bus = await connectBus({ url: amqpUrl, ...t, timeoutMs: 10_000 });
      try {
        expect((await bus.send(ref, { type: 'record', payload: { client: 'c', seq: 2 } })).status).toBe('accepted');
      } finally {
        await bus.close();
      }
      expect(await queueDepth(victim)).toBe(0);
      const dead = await drainQueue(t.deadLetterQueue);
      expect(dead).toHaveLength(1);
      expect(dead[0]!.headers['x-troupe-error-code']).toBe('INVALID_REPLY_TO');
      expect(String(dead[0]!.headers['x-troupe-reason'])).toContain(victim);
      // Not executed: the actor holds only the real client's command.
      const view = await worker.runtime.inspect<SequenceState>(ref);
      expect(view.state.seen).toEqual([['c', 2]]);
    } finally {
      await connection.close();
      await worker.stop();
      const cleanup = await amqp.connect(amqpUrl);
      await (await cleanup.createChannel()).deleteQueue(victim);
      await cleanup.close();
      await deleteTopology(t);
    }
  });
});
