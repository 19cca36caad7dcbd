/**
 * A worker process for the failover tests: a RabbitMQ worker on a Redis store whose hooks keep an
 * "executing" marker per actor in Redis and record a violation whenever a live process other
 * than this one holds the marker of an actor this one is about to execute. Configured by
 * environment; prints one JSON line `{ "ready": true, "metricsUrl": ... }` when consuming.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { connectRedisStore } from '@troupe/redis';
import { startWorker } from '../worker/index.js';
import { SequenceLog } from './sequenceActor.js';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const redisUrl = env('REDIS_URL');
const markers = env('MARKER_PREFIX');
const redis = new Redis(redisUrl);

/**
 * Executions after which this process starts nothing more (its hook waits forever), holding the
 * commands it was given unacknowledged until it is killed: the number at
 * `<MARKER_PREFIX>:stallAfter:<pid>`, read at the first execution; none, never. The failover test
 * kills a worker once its client has seen part of that worker's replies; on a loaded machine the
 * test process can see them so late that the worker has executed and acknowledged everything it
 * was given by then, and dies holding nothing (seen once in ~60 runs: no redelivery at all). The
 * stall keeps some of its share unacknowledged whenever the kill comes.
 */
let stallAfter: Promise<number> | undefined;
let executed = 0;

/**
 * Whether a process still runs. A worker killed with SIGKILL stays a zombie until the test process
 * reaps it, and kill(pid, 0) succeeds on a zombie: read its state from /proc where there is one.
 */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && existsSync('/proc/self/stat')) return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const store = await connectRedisStore({ url: redisUrl, prefix: env('STORE_PREFIX') });
const worker = await startWorker({
  url: env('AMQP_URL'),
  prefix: env('TOPOLOGY_PREFIX'),
  shards: Number(env('SHARDS')),
  prefetch: Number(process.env.PREFETCH ?? 64),
  actors: [SequenceLog],
  store,
  metricsPort: 0,
  defaultMetrics: false,
  logger: pino({ level: process.env.TROUPE_LOG_LEVEL ?? 'warn' }),
  hooks: {
    async beforeExecute(ref) {
      stallAfter ??= redis.get(`${markers}:stallAfter:${process.pid}`).then((limit) => (limit === null ? Number.POSITIVE_INFINITY : Number(limit)));
      if (++executed > (await stallAfter)) await new Promise<never>(() => undefined);
      const key = `${markers}:exec:${ref.type}:${ref.id}`;
      const mine = String(process.pid);
      await redis.incr(`${markers}:executions`);
      if ((await redis.set(key, mine, 'NX')) === 'OK') return;
      const holder = Number(await redis.get(key));
      if (holder !== process.pid && alive(holder)) {
        await redis.rpush(`${markers}:violations`, `${ref.type}:${ref.id} held by live pid ${holder} while pid ${mine} started`);
      }
      await redis.set(key, mine);
    },
    async afterExecute(ref) {
      const key = `${markers}:exec:${ref.type}:${ref.id}`;
      if ((await redis.get(key)) === String(process.pid)) await redis.del(key);
    },
  },
});

process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid, id: worker.id, metricsUrl: worker.metricsUrl })}\n`);

process.on('SIGTERM', () => {
  void worker
    .stop()
    .then(() => store.close())
    .then(() => redis.quit())
    .then(() => process.exit(0));
});
