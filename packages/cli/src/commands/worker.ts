import { Command, Option } from 'commander';
import { pino } from 'pino';
import type { EventStore } from '@troupe/runtime';
import { connectRedisStore } from '@troupe/redis';
import { startWorker, workerDefaults } from '@troupe/rabbitmq';
import { loadApp } from '../appModule.js';
import { type BusFlags, type RedisTlsFlags, appOption, busOptions, integer, redisPrefixOption, redisTls, redisTlsOptions } from '../shared.js';

interface WorkerFlags extends BusFlags, RedisTlsFlags {
  readonly app: string;
  readonly redis?: string;
  readonly redisPrefix: string;
  readonly prefetch: number;
  readonly replica: string;
  readonly metricsPort: number | undefined;
  readonly metricsHost: string;
  readonly metrics: boolean;
  readonly logLevel: string;
}

export function workerCommand(): Command {
  const command = new Command('worker')
    .description('run a worker: consume the shard queues and execute commands on the app\'s actors')
    .addOption(appOption())
    .addOption(new Option('--redis <url>', 'Redis URL of the event store (default: in memory, lost on exit, one worker only)').env('TROUPE_REDIS_URL'))
    .addOption(redisPrefixOption())
    .addOption(new Option('--prefetch <n>', 'unacknowledged messages per shard queue').default(workerDefaults.prefetch).argParser(integer(1, 65_535)))
    .addOption(new Option('--replica <id>', 'replica this worker writes as').env('TROUPE_REPLICA').default('local'))
    .addOption(new Option('--metrics-port <n>', 'port of the Prometheus /metrics endpoint (0: any free port)').env('TROUPE_METRICS_PORT').default(9464).argParser(integer(0, 65_535)))
    .addOption(new Option('--metrics-host <host>', 'address the /metrics endpoint listens on (0.0.0.0: every interface)').env('TROUPE_METRICS_HOST').default(workerDefaults.metricsHost))
    .option('--no-metrics', 'serve no /metrics endpoint')
    .addOption(new Option('--log-level <level>', 'pino log level').env('TROUPE_LOG_LEVEL').default('info').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']));
  for (const option of [...busOptions(), ...redisTlsOptions()]) command.addOption(option);
  return command.action(async (flags: WorkerFlags) => {
    const logger = pino({ name: 'troupe-worker', level: flags.logLevel });
    const app = await loadApp(flags.app);
    let store: EventStore | undefined;
    if (flags.redis) {
      store = await connectRedisStore({ url: flags.redis, prefix: flags.redisPrefix, ...redisTls(flags) });
    } else {
      logger.warn('no --redis: events live in this process\'s memory, are lost when it stops, and only this worker sees them');
    }
    try {
      const worker = await startWorker({
        url: flags.amqp,
        shards: flags.shards,
        prefix: flags.prefix,
        actors: app.actors,
        ...(store ? { store } : {}),
        replicaId: flags.replica,
        prefetch: flags.prefetch,
        logger,
        ...(flags.metrics && flags.metricsPort !== undefined ? { metricsPort: flags.metricsPort, metricsHost: flags.metricsHost } : {}),
      });
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          logger.info({ signal }, 'signal received');
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await worker.stop();
    } finally {
      await store?.close();
    }
  });
}
