/**
 * A publisher process for the publisher's SIGKILL test: `startPublisher` on a Redis store,
 * configured by environment; prints one JSON line `{ "ready": true, "cursor": ... }` once it has
 * loaded its checkpoint and started. SIGTERM stops it gracefully.
 */
import { pino } from 'pino';
import { connectRedisStore } from '@troupe/redis';
import { startPublisher } from '../publisher/index.js';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const store = await connectRedisStore({ url: env('REDIS_URL'), prefix: env('STORE_PREFIX') });
const publisher = await startPublisher({
  store,
  url: env('AMQP_URL'),
  exchange: env('EXCHANGE'),
  batchSize: Number(process.env.BATCH_SIZE ?? 500),
  idleMs: 20,
  defaultMetrics: false,
  logger: pino({ level: process.env.TROUPE_LOG_LEVEL ?? 'warn' }),
});

process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid, cursor: publisher.status().cursor ?? null })}\n`);

process.on('SIGTERM', () => {
  void publisher
    .stop()
    .then(() => store.close())
    .then(() => process.exit(0));
});
