import { Command, Option } from 'commander';
import { pino } from 'pino';
import { redactUrl } from '@troupe/runtime/store';
import { type RedisStore, connectRedisStore } from '@troupe/redis';
import { publisherDefaults, startPublisher, topologyDefaults } from '@troupe/rabbitmq';
import { CliError, type BusFlags, type RedisTlsFlags, busConnection, busOptions, integer, redisPrefixOption, redisTls, redisTlsOptions } from '../shared.js';

interface PublishFlags extends Omit<BusFlags, 'shards'>, RedisTlsFlags {
  readonly redis?: string;
  readonly redisPrefix: string;
  readonly exchange?: string;
  readonly name?: string;
  readonly batchSize: number;
  readonly idleMs: number;
  readonly metricsPort: number | undefined;
  readonly metricsHost: string;
  readonly metrics: boolean;
  readonly logLevel: string;
}

export const publishDefaults = { metricsPort: 9466 } as const;

export function publishCommand(): Command {
  const command = new Command('publish')
    .description('publish this region\'s log to a RabbitMQ topic exchange: every event once or more (its id as messageId), in order per actor, merges as markers')
    .addOption(new Option('--redis <url>', 'Redis URL of the event store whose log is published (required)').env('TROUPE_REDIS_URL'))
    .addOption(redisPrefixOption())
    .addOption(new Option('--exchange <name>', 'topic exchange to publish to (default: <prefix>.events)').env('TROUPE_PUBLISH_EXCHANGE'))
    .addOption(new Option('--name <name>', 'checkpoint name: where this publisher keeps its position in the store (default: publish.<exchange>); one per publisher').env('TROUPE_PUBLISH_NAME'))
    .addOption(new Option('--batch-size <n>', 'packs published per batch (one confirm wait and one checkpoint save each)').default(publisherDefaults.batchSize).argParser(integer(1, 100_000)))
    .addOption(new Option('--idle-ms <ms>', 'pause between two reads of a log that had nothing new').default(publisherDefaults.idleMs).argParser(integer(1, 3_600_000)))
    .addOption(new Option('--metrics-port <n>', 'port of the Prometheus /metrics endpoint (0: any free port)').env('TROUPE_METRICS_PORT').default(publishDefaults.metricsPort).argParser(integer(0, 65_535)))
    .addOption(new Option('--metrics-host <host>', 'address the /metrics endpoint listens on (0.0.0.0: every interface)').env('TROUPE_METRICS_HOST').default(publisherDefaults.metricsHost))
    .option('--no-metrics', 'serve no /metrics endpoint')
    .addOption(new Option('--log-level <level>', 'pino log level').env('TROUPE_LOG_LEVEL').default('info').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']));
  // The bus flags but --shards: publishing uses no shard queue.
  for (const option of [...busOptions().filter((o) => o.long !== '--shards'), ...redisTlsOptions()]) command.addOption(option);
  return command.action(async (flags: PublishFlags) => {
    if (!flags.redis) throw new CliError('troupe publish needs --redis (or TROUPE_REDIS_URL): the store whose log it publishes');
    const logger = pino({ name: 'troupe-publish', level: flags.logLevel });
    let store: RedisStore;
    try {
      store = await connectRedisStore({ url: flags.redis, prefix: flags.redisPrefix, ...redisTls(flags) });
    } catch (error) {
      throw new CliError(`the store's Redis at ${redactUrl(flags.redis)} does not answer: ${(error as Error).message}`);
    }
    try {
      const publisher = await startPublisher({
        ...busConnection({ ...flags, shards: topologyDefaults.shards }),
        store,
        prefix: flags.prefix,
        ...(flags.exchange === undefined ? {} : { exchange: flags.exchange }),
        ...(flags.name === undefined ? {} : { checkpointName: flags.name }),
        batchSize: flags.batchSize,
        idleMs: flags.idleMs,
        logger,
        ...(flags.metrics && flags.metricsPort !== undefined ? { metricsPort: flags.metricsPort, metricsHost: flags.metricsHost } : {}),
      });
      if (publisher.metricsUrl) logger.info({ url: publisher.metricsUrl }, 'metrics');
      let stop: (signal: string) => void = () => undefined;
      const signalled = new Promise<string>((resolve) => {
        stop = (signal: string) => resolve(signal);
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      const ended = await Promise.race([signalled.then((signal) => ({ signal })), publisher.fatal.then((error) => ({ error }))]);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if ('signal' in ended) logger.info({ signal: ended.signal }, 'stopping after the batch in flight');
      await publisher.stop();
      if ('error' in ended) throw ended.error;
    } finally {
      await store.close();
    }
  });
}
