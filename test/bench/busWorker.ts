/**
 * A bus worker in its own process, for the bus scenario's child-process variant (bus.ts spawns it
 * with `node --import tsx`). Configured by environment: BUS_PREFIX, BUS_SHARDS, BUS_PREFETCH,
 * BUS_AMQP_URL, BUS_REDIS_URL. Prints one JSON line `{"ready":true}` once consuming; then reads
 * lines on stdin: `cpu` -> `{"cpu":<µs of user+system CPU so far>}`, `stop` -> stops gracefully,
 * prints `{"stopped":true}` and exits.
 */
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { connectRedisStore } from '@troupe/redis';
import { startWorker } from '@troupe/rabbitmq';
import { Counter } from './counter.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`busWorker: ${name} is not set`);
  return value;
};

const store = await connectRedisStore({ url: env('BUS_REDIS_URL'), prefix: env('BUS_PREFIX') });
const worker = await startWorker({
  url: env('BUS_AMQP_URL'),
  prefix: env('BUS_PREFIX'),
  shards: Number(env('BUS_SHARDS')),
  actors: [Counter],
  store,
  prefetch: Number(env('BUS_PREFETCH')),
  logger: pino({ level: 'silent' }),
  defaultMetrics: false,
});
const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
say({ ready: true, pid: process.pid });

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'cpu') {
    const u = process.cpuUsage();
    say({ cpu: u.user + u.system });
  } else if (line === 'stop') {
    break;
  }
}
// stdin closed (the bench died) or `stop`: drain and leave.
await worker.stop();
await store.close();
say({ stopped: true });
process.exit(0);
