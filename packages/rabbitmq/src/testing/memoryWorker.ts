/**
 * A worker process for the memory test: a RabbitMQ worker on a MemoryStore, configured by
 * environment (AMQP_URL, PREFIX, SHARDS). Prints one JSON line `{ "ready": true, "pid": ... }`
 * once consuming; stops on SIGTERM.
 */
import { pino } from 'pino';
import { MemoryStore } from '@troupe/runtime';
import { startWorker } from '../worker/index.js';
import { SequenceLog } from './sequenceActor.js';

const worker = await startWorker({
  url: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  prefix: process.env.PREFIX ?? 'troupe',
  shards: Number(process.env.SHARDS ?? 2),
  actors: [SequenceLog],
  store: new MemoryStore(),
  logger: pino({ level: 'silent' }),
  defaultMetrics: false,
  balance: false,
});
console.log(JSON.stringify({ ready: true, pid: process.pid }));
process.once('SIGTERM', () => {
  void worker.stop().then(() => process.exit(0));
});
