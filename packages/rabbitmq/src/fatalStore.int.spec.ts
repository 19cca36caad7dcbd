import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { UntypedRef } from '@troupe/runtime';
import { type RedisStore, connectRedisStore } from '@troupe/redis';
import { RedisServer } from '@troupe/redis/testing';
import { connectBus } from './client/index.js';
import { CommandTimeoutError } from './errors/index.js';
import { startWorker } from './worker/index.js';
import { SequenceLog } from './testing/sequenceActor.js';
import { amqpUrl, deleteTopology, queueDepth, requireRabbitMq, testTopology } from './testing/amqpTest.js';

const available = await requireRabbitMq();

/**
 * #14 defect 6 through the worker: a Redis restarted without persistence comes back empty. The
 * store refuses to read or write it (StoreDataLostError, @troupe/redis); the worker must not
 * dead-letter every command one by one, nor answer them from an empty store: it stops, reports
 * the error on `worker.fatal`, and leaves the command in its queue for a worker with sound data.
 */
describe.skipIf(!available)('a worker whose store lost its data', () => {
  const t = testTopology(2);
  let server: RedisServer | undefined;
  let store: RedisStore | undefined;
  afterAll(async () => {
    await store?.close().catch(() => undefined);
    await server?.destroy();
    await deleteTopology(t);
  });

  it('stops with STORE_DATA_LOST on worker.fatal and dead-letters nothing; the command stays queued', async () => {
    server = await RedisServer.start({ args: ['--appendonly', 'no'] });
    store = await connectRedisStore({ url: server.url, prefix: 'fatal' });
    const worker = await startWorker({ url: amqpUrl, ...t, actors: [SequenceLog], store, logger: pino({ level: 'silent' }), defaultMetrics: false });
    const bus = await connectBus({ url: amqpUrl, ...t, timeoutMs: 3_000 });
    try {
      const ref = { type: SequenceLog.type, id: 's1' } as UntypedRef;
      expect(await bus.send(ref, { type: 'record', payload: { client: 'c', seq: 1 } })).toMatchObject({ status: 'accepted' });
      await server.kill(); // no AOF, no RDB: the restart comes back empty
      await server.boot();
      const error = await bus.send(ref, { type: 'record', payload: { client: 'c', seq: 2 } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommandTimeoutError); // never answered from an empty store
      const fatal = await worker.fatal;
      expect(fatal).toMatchObject({ code: 'STORE_DATA_LOST' });
      expect(await queueDepth(t.deadLetterQueue)).toBe(0);
      const queued = await Promise.all(t.shardQueues.map((q) => queueDepth(q)));
      expect(queued.reduce((a, b) => a + b, 0)).toBe(1);
    } finally {
      await bus.close();
      await worker.stop();
    }
  }, 60_000);
});
