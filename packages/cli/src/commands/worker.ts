import { Command, Option } from 'commander';
import { pino } from 'pino';
import type { EventStore } from '@troupe/runtime';
import { type RedisStore, connectRedisStore } from '@troupe/redis';
import type { Logger } from 'pino';
import { startWorker, workerDefaults } from '@troupe/rabbitmq';
import { loadApp } from '../appModule.js';
import { CliError, type BusFlags, busConnection, type RedisTlsFlags, appOption, busOptions, integer, redisPrefixOption, redisTls, redisTlsOptions } from '../shared.js';

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
  readonly allowVolatileStore: boolean;
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
    .option('--allow-volatile-store', 'run on a Redis that keeps nothing on disk (a restart loses every event): only for throw-away setups and tests', false)
    .addOption(new Option('--log-level <level>', 'pino log level').env('TROUPE_LOG_LEVEL').default('info').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']));
  for (const option of [...busOptions(), ...redisTlsOptions()]) command.addOption(option);
  return command.action(async (flags: WorkerFlags) => {
    const logger = pino({ name: 'troupe-worker', level: flags.logLevel });
    const app = await loadApp(flags.app);
    let store: EventStore | undefined;
    if (flags.redis) {
      const redis = await connectRedisStore({ url: flags.redis, prefix: flags.redisPrefix, ...redisTls(flags) });
      store = redis;
      try {
        await checkPersistence(redis, flags.allowVolatileStore, logger);
      } catch (error) {
        await redis.close();
        throw error;
      }
    } else {
      logger.warn('no --redis: events live in this process\'s memory, are lost when it stops, and only this worker sees them');
    }
    try {
      const worker = await startWorker({
        ...busConnection(flags),
        shards: flags.shards,
        prefix: flags.prefix,
        actors: app.actors,
        ...(store ? { store } : {}),
        replicaId: flags.replica,
        prefetch: flags.prefetch,
        logger,
        ...(flags.metrics && flags.metricsPort !== undefined ? { metricsPort: flags.metricsPort, metricsHost: flags.metricsHost } : {}),
      });
      let stop: (signal: string) => void = () => undefined;
      const signalled = new Promise<void>((resolve) => {
        stop = (signal: string) => {
          logger.info({ signal }, 'signal received');
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      const fatal = await Promise.race([signalled.then(() => undefined), worker.fatal]);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await worker.stop();
      if (fatal) throw fatal;
    } finally {
      await store?.close();
    }
  });
}

/**
 * What protects the store's data on the Redis side (#14): AOF is what troupe's "nothing
 * acknowledged is lost" needs; RDB snapshots alone lose the writes since the last one; nothing at
 * all loses everything on a restart, so the worker refuses it unless told `--allow-volatile-store`.
 */
export async function checkPersistence(store: RedisStore, allowVolatile: boolean, logger: Logger): Promise<void> {
  const report = await store.persistence();
  logger.info({ redis: store.endpoint, persistence: report.protection, nodes: report.nodes }, 'Redis persistence');
  if (report.protection === 'none') {
    const message =
      `Redis at ${store.endpoint} keeps nothing on disk (appendonly no, no save points): a restart would lose every event ` +
      `this worker acknowledges. Turn on AOF (appendonly yes), or pass --allow-volatile-store for a throw-away setup`;
    if (!allowVolatile) throw new CliError(message);
    logger.warn('--allow-volatile-store: ' + message);
  } else if (report.protection === 'rdb-only') {
    logger.warn(`Redis at ${store.endpoint} has RDB snapshots but no AOF: a crash loses the events written since the last snapshot. Turn on appendonly yes`);
  } else if (report.protection === 'unknown') {
    logger.warn(`could not read the persistence settings of Redis at ${store.endpoint} (CONFIG is disabled?): make sure appendonly is on`);
  }
}
