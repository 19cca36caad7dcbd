import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import amqp from 'amqplib';
import { MemoryStore, Runtime, type RuntimeObserver, type UntypedRef } from '@troupe/runtime';
import { encodeValue } from '@troupe/runtime/store';
import { connectBus, type CommandBus } from './client/index.js';
import { CommandFailedError, CommandTimeoutError, TopologyMismatchError, BusUnavailableError } from './errors/index.js';
import { startWorker, type Worker } from './worker/index.js';
import { SequenceLog } from './testing/sequenceActor.js';
import { amqpUrl, deleteTopology, drainQueue, publishRaw, queueDepth, requireRabbitMq, testTopology } from './testing/amqpTest.js';
import { encodeCommand, busProtocolVersion } from './protocol/messages.js';
import { shardOf, topology } from './topology.js';

const available = await requireRabbitMq();
const quiet = pino({ level: 'silent' });

describe.skipIf(!available)('command bus on RabbitMQ', () => {
  const t = testTopology(4);
  const store = new MemoryStore();
  let worker: Worker;
  let bus: CommandBus;

  beforeAll(async () => {
    worker = await startWorker({ url: amqpUrl, ...t, actors: [SequenceLog], store, logger: quiet, metricsPort: 0, defaultMetrics: false });
    bus = await connectBus({ url: amqpUrl, ...t, timeoutMs: 10_000 });
  });
  afterAll(async () => {
    await bus?.close();
    await worker?.stop();
    await deleteTopology(t);
  });

  const log = (id: string) => ({ type: 'seqlog', id }) as UntypedRef;

  it('answers accepted with version and events, and rejected with the reason', async () => {
    const accepted = await bus.send(log('a'), { type: 'record', payload: { client: 'c', seq: 1 } });
    expect(accepted.status).toBe('accepted');
    if (accepted.status !== 'accepted') return;
    expect(accepted.duplicate).toBe(false);
    expect(accepted.events.map((e) => e.data)).toEqual([{ client: 'c', seq: 1 }]);
    expect(Object.values(accepted.version)).toEqual([1]);
    const rejected = await bus.send(log('a'), { type: 'refuse', payload: { why: 'not today' } });
    expect(rejected).toMatchObject({ status: 'rejected', reason: 'not today' });
  });

  it('keeps per-actor order for many concurrent commands over few actors', async () => {
    const actors = ['o1', 'o2', 'o3', 'o4', 'o5'];
    const perActor = 60;
    const sends = [];
    for (let seq = 0; seq < perActor; seq++) {
      for (const id of actors) sends.push(bus.send(log(id), { type: 'record', payload: { client: 'order', seq } }));
    }
    const replies = await Promise.all(sends);
    expect(replies.every((r) => r.status === 'accepted')).toBe(true);
    for (const id of actors) {
      const view = await worker.runtime.inspect<{ seen: [string, number][] }>(log(id));
      expect(view.state.seen.map(([, seq]) => seq)).toEqual(Array.from({ length: perActor }, (_, i) => i));
    }
  });

  it('answers a repeated commandId with the first result and applies nothing twice', async () => {
    const first = await bus.send(log('idem'), { type: 'record', payload: { client: 'c', seq: 7 } }, { commandId: 'cmd-idem-1' });
    const again = await bus.send(log('idem'), { type: 'record', payload: { client: 'c', seq: 7 } }, { commandId: 'cmd-idem-1' });
    expect(first).toMatchObject({ status: 'accepted', duplicate: false });
    expect(again).toMatchObject({ status: 'accepted', duplicate: true });
    if (first.status !== 'accepted' || again.status !== 'accepted') return;
    expect(again.version).toEqual(first.version);
    expect(again.events.map((e) => e.id)).toEqual(first.events.map((e) => e.id));
    const view = await worker.runtime.inspect<{ seen: unknown[] }>(log('idem'));
    expect(view.state.seen).toHaveLength(1);
  });

  it('dead-letters bad input with the reason, answers the client with a typed error, and keeps going', async () => {
    const unknownType = bus.send({ type: 'nope', id: 'x' } as UntypedRef, { type: 'record', payload: {} });
    await expect(unknownType).rejects.toBeInstanceOf(CommandFailedError);
    await expect(unknownType).rejects.toMatchObject({ remoteCode: 'UNKNOWN_ACTOR_TYPE' });
    await expect(bus.send(log('bad'), { type: 'fly', payload: {} })).rejects.toMatchObject({ remoteCode: 'UNKNOWN_COMMAND' });
    await expect(bus.send(log('bad'), { type: 'record', payload: { seq: 'x' } })).rejects.toMatchObject({ remoteCode: 'INVALID_PAYLOAD' });
    await expect(bus.send(log('bad'), { type: 'explode', payload: {} })).rejects.toMatchObject({ remoteCode: 'ACTOR_FAILED' });
    // Raw garbage and an oversize message, straight into a shard queue.
    await publishRaw(t, t.shardQueues[0]!, Buffer.from('not msgpack at all'), { messageId: 'garbage-1' });
    const wrongVersion = encodeValue({ v: 99, type: 'seqlog', id: 'q', command: 'record', commandId: 'v99', checkDuplicate: false });
    await publishRaw(t, t.shardQueues[0]!, wrongVersion);
    // Over the worker's commandBytesMax (1 MiB), under the broker's max_message_size (2 MiB).
    await publishRaw(t, t.shardQueues[1]!, Buffer.alloc((1 << 20) + 1, 1), { messageId: 'huge-1' });
    // The worker keeps going: a good command after all of them is accepted.
    const after = await bus.send(log('bad'), { type: 'record', payload: { client: 'c', seq: 1 } });
    expect(after.status).toBe('accepted');
    await waitFor(async () => (await queueDepth(t.deadLetterQueue)) >= 7);
    const dead = await drainQueue(t.deadLetterQueue);
    const codes = dead.map((m) => m.headers['x-troupe-error-code']).sort();
    expect(codes).toEqual(['ACTOR_FAILED', 'INVALID_PAYLOAD', 'LIMIT_EXCEEDED', 'MALFORMED_MESSAGE', 'MALFORMED_MESSAGE', 'UNKNOWN_ACTOR_TYPE', 'UNKNOWN_COMMAND']);
    for (const m of dead) expect(String(m.headers['x-troupe-reason']).length).toBeGreaterThan(5);
    // Nothing was persisted for the bad ones: 'bad' holds only the good command.
    const view = await worker.runtime.inspect<{ seen: unknown[] }>(log('bad'));
    expect(view.state.seen).toHaveLength(1);
  });

  it('refuses an oversize command before publishing', async () => {
    const small = await connectBus({ url: amqpUrl, ...t, commandBytesMax: 1_000 });
    try {
      await expect(small.send(log('big'), { type: 'record', payload: { client: 'x'.repeat(2_000), seq: 1 } })).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' });
    } finally {
      await small.close();
    }
  });

  it('counts outcomes in its Prometheus metrics', async () => {
    const text = await (await fetch(worker.metricsUrl!)).text();
    expect(text).toMatch(/troupe_commands_total\{outcome="accepted"\} [1-9]\d*/);
    expect(text).toMatch(/troupe_commands_total\{outcome="duplicate"\} 1/);
    expect(text).toMatch(/troupe_commands_total\{outcome="rejected"\} 1/);
    expect(text).toMatch(/troupe_commands_total\{outcome="dead_lettered"\} 7/);
    expect(text).toMatch(/troupe_command_duration_seconds_count [1-9]/);
    expect(text).toMatch(/troupe_live_actors [1-9]/);
  });
});

describe.skipIf(!available)('worker metrics from the runtime observer', () => {
  it('counts an append conflict (another writer moved the head) and calls the user observer too', async () => {
    const t = testTopology(2);
    const store = new MemoryStore();
    const conflicts: string[] = [];
    const loaded: string[] = [];
    const observer: RuntimeObserver = {
      appendConflict: ({ actor }) => conflicts.push(actor.id),
      loaded: ({ actor }) => loaded.push(actor.id),
    };
    const worker = await startWorker({ url: amqpUrl, ...t, actors: [SequenceLog], store, logger: quiet, defaultMetrics: false, runtime: { observer } });
    const bus = await connectBus({ url: amqpUrl, ...t, timeoutMs: 10_000 });
    const other = new Runtime({ actors: [SequenceLog], store, replicaId: 'other' });
    try {
      const ref = { type: 'seqlog', id: 'moved' } as UntypedRef;
      expect((await bus.send(ref, { type: 'record', payload: { client: 'c', seq: 1 } })).status).toBe('accepted');
      expect((await other.send(ref, { type: 'record', payload: { client: 'o', seq: 1 } })).status).toBe('accepted');
      expect((await bus.send(ref, { type: 'record', payload: { client: 'c', seq: 2 } })).status).toBe('accepted');
      expect(conflicts).toContain('moved');
      expect(loaded).toContain('moved');
      expect((await worker.metrics.appendConflicts.get()).values[0]?.value).toBeGreaterThanOrEqual(1);
    } finally {
      await other.stop();
      await bus.close();
      await worker.stop();
      await deleteTopology(t);
    }
  });
});

describe.skipIf(!available)('command bus without a worker', () => {
  it('fails to connect with a clear error when the topology is not there', async () => {
    await expect(connectBus({ url: amqpUrl, ...testTopology(3) })).rejects.toBeInstanceOf(TopologyMismatchError);
  });

  it('fails fast with BusUnavailableError when no broker answers', async () => {
    await expect(connectBus({ url: 'amqp://guest:guest@127.0.0.1:1' })).rejects.toBeInstanceOf(BusUnavailableError);
  });

  it('times out with the commandId, and a retry with that id gets the one result once a worker runs', async () => {
    const t = testTopology(2);
    const store = new MemoryStore();
    // Declare the topology with a worker, then stop it so commands wait in the queue.
    const first = await startWorker({ url: amqpUrl, ...t, actors: [SequenceLog], store, logger: quiet, defaultMetrics: false });
    await first.stop();
    const bus = await connectBus({ url: amqpUrl, ...t });
    try {
      const ref = { type: 'seqlog', id: 'late' } as UntypedRef;
      const error = await bus.send(ref, { type: 'record', payload: { client: 'c', seq: 1 } }, { timeoutMs: 200 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommandTimeoutError);
      const commandId = (error as CommandTimeoutError).commandId;
      const worker = await startWorker({ url: amqpUrl, ...t, actors: [SequenceLog], store, logger: quiet, defaultMetrics: false });
      try {
        const retry = await bus.send(ref, { type: 'record', payload: { client: 'c', seq: 1 } }, { commandId });
        expect(retry).toMatchObject({ status: 'accepted', duplicate: true, commandId });
        const view = await worker.runtime.inspect<{ seen: unknown[] }>(ref);
        expect(view.state.seen).toHaveLength(1);
      } finally {
        await worker.stop();
      }
    } finally {
      await bus.close();
      await deleteTopology(t);
    }
  });

  it('routes by a stable hash that spreads actors over every shard', () => {
    const t = topology({ shards: 8 });
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 4_000; i++) counts[shardOf({ type: 'account', id: `acc-${i}` }, 8)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(350);
    expect(shardOf({ type: 'account', id: 'alice' }, 8)).toBe(shardOf({ type: 'account', id: 'alice' }, 8));
    expect(t.shardQueues[3]).toBe('troupe.shard.3-of-8');
  });

  it('encodes command messages the worker decodes', () => {
    expect(encodeCommand({ v: busProtocolVersion, type: 'a', id: 'b', command: 'c', payload: { x: 1 }, commandId: 'd', checkDuplicate: false })[0]).toBe(1);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!available)('worker channel lost while the connection stays up', () => {
  it('subscribes the shard again when the broker closes its channel, and its actors keep being served', async () => {
    const t = testTopology(2);
    const worker = await startWorker({ url: amqpUrl, ...t, actors: [SequenceLog], logger: quiet, defaultMetrics: false, balance: false });
    const bus = await connectBus({ url: amqpUrl, ...t, timeoutMs: 5_000 });
    try {
      const id = Array.from({ length: 50 }, (_, i) => `c${i}`).find((candidate) => shardOf({ type: 'seqlog', id: candidate }, 2) === 0)!;
      const ref = { type: 'seqlog', id } as UntypedRef;
      expect((await bus.send(ref, { type: 'record', payload: { client: 'c', seq: 0 } })).status).toBe('accepted');
      // Make the broker close shard 0's channel: acknowledge a delivery tag it never gave out.
      const shard0 = (worker as unknown as { shards: { states: { channel: { ack(m: unknown): void } }[] } }).shards.states[0]!.channel;
      shard0.ack({ fields: { deliveryTag: 987_654 } });
      await new Promise((r) => setTimeout(r, 300));
      expect(worker.connectionCount).toBe(1); // the connection itself stayed up
      expect((await bus.send(ref, { type: 'record', payload: { client: 'c', seq: 1 } })).status).toBe('accepted');
      const view = await worker.runtime.inspect<{ seen: [string, number][] }>(ref);
      expect(view.state.seen.map(([, seq]) => seq)).toEqual([0, 1]);
    } finally {
      await bus.close();
      await worker.stop();
      await deleteTopology(t);
    }
  });
});

describe.skipIf(!available)('worker start against a mismatched broker', () => {
  it('fails with TopologyMismatchError when a shard queue exists with other arguments, and leaves nothing running', async () => {
    const t = testTopology(2);
    const connection = await amqp.connect(amqpUrl);
    try {
      const channel = await connection.createChannel();
      await channel.assertQueue(t.shardQueues[1]!, { durable: true }); // no single active consumer
      const started = Date.now();
      const error = await startWorker({ url: amqpUrl, ...t, actors: [SequenceLog], logger: quiet, defaultMetrics: false }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TopologyMismatchError);
      expect((error as Error).message).toMatch(/PRECONDITION_FAILED|inequivalent arg/);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await connection.close();
      await deleteTopology(t);
    }
  });
});

describe.skipIf(!available)('quorum shard queues', () => {
  it('serve commands, and dead-letter a message redelivered more than deliveryLimit times (a worker-crashing poison pill)', async () => {
    const t = topology({ prefix: testTopology().prefix, shards: 2, queueType: 'quorum', deliveriesMax: 3 });
    const worker = await startWorker({ url: amqpUrl, ...t, actors: [SequenceLog], logger: quiet, defaultMetrics: false });
    const bus = await connectBus({ url: amqpUrl, ...t });
    const ref = { type: 'seqlog', id: 'q1' } as UntypedRef;
    try {
      expect((await bus.send(ref, { type: 'record', payload: { client: 'q', seq: 0 } })).status).toBe('accepted');
      await bus.close();
      await worker.stop();
      // A consumer that "crashes" on every delivery (requeues it) stands in for dying workers.
      await publishRaw(t, t.shardQueues[0]!, Buffer.from('pill'), { messageId: 'pill' });
      const connection = await amqp.connect(amqpUrl);
      try {
        const channel = await connection.createChannel();
        let deliveries = 0;
        await channel.consume(t.shardQueues[0]!, (m) => {
          if (!m) return;
          deliveries++;
          channel.nack(m, false, true);
        });
        for (let i = 0; i < 100 && (await queueDepth(t.deadLetterQueue)) === 0; i++) await new Promise((r) => setTimeout(r, 50));
        expect(deliveries).toBeGreaterThanOrEqual(3);
        expect(deliveries).toBeLessThanOrEqual(5);
        const dead = await drainQueue(t.deadLetterQueue);
        expect(dead.map((m) => m.content.toString())).toEqual(['pill']);
      } finally {
        await connection.close();
      }
    } finally {
      await deleteTopology(t);
    }
  });
});
