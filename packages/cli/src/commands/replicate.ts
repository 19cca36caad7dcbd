import { Command, Option } from 'commander';
import { pino } from 'pino';
import { type EventStore, type MergeRecord, type RegionLog, RegionReplication, type RegionReplicationObserver, combineObservers, createRuntime } from '@troupe/runtime';
import { redactUrl } from '@troupe/runtime/store';
import { type RedisStore, connectRedisStore } from '@troupe/redis';
import { loadApp } from '../appModule.js';
import { lazyRegionStore, type LazyRegionStore } from '../lazyRegionStore.js';
import { type RegionEndpoint, resolveRegions } from '../regionsConfig.js';
import { ReplicationMetrics } from '../replicationMetrics.js';
import { CliError, type RedisTlsFlags, appOption, integer, redisPrefixOption, redisTls, redisTlsOptions } from '../shared.js';
import { checkPersistence } from './worker.js';

interface ReplicateFlags extends RedisTlsFlags {
  readonly app: string;
  readonly region?: string;
  readonly redis?: string;
  readonly redisPrefix: string;
  readonly regionsFile?: string;
  readonly source: string[];
  readonly batchSize: number;
  readonly idleMs: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly allowUnreachableSources: boolean;
  readonly metricsPort: number | undefined;
  readonly metricsHost: string;
  readonly metrics: boolean;
  readonly logLevel: string;
  readonly allowVolatileStore: boolean;
}

export const replicateDefaults = { batchSize: 500, idleMs: 250, backoffInitialMs: 200, backoffMaxMs: 30_000, metricsPort: 9465 } as const;

const collect = (value: string, previous: string[]) => [...previous, value];

export function replicateCommand(): Command {
  const command = new Command('replicate')
    .description('copy every other region\'s log into this region\'s Redis, resolve what diverged, and publish how far each region got')
    .addOption(appOption())
    .addOption(new Option('--region <id>', 'this region\'s id (the --replica its workers write as)').env('TROUPE_REGION'))
    .addOption(new Option('--redis <url>', 'this region\'s Redis (default: its entry in --regions-file)').env('TROUPE_REDIS_URL'))
    .addOption(redisPrefixOption())
    .addOption(new Option('--regions-file <path>', 'JSON file naming every region and its Redis: {"regions": {"eu": {"redis": "redis://…"}, …}}').env('TROUPE_REGIONS_FILE'))
    .addOption(new Option('--source <region=url>', 'another region to copy from, e.g. us=redis://10.0.0.2:6379 (repeat for each; #prefix after the URL for another key prefix)').argParser(collect).default([]))
    .addOption(new Option('--batch-size <n>', 'packs copied per round trip').default(replicateDefaults.batchSize).argParser(integer(1, 100_000)))
    .addOption(new Option('--idle-ms <ms>', 'wait between two syncs of a link that is caught up').default(replicateDefaults.idleMs).argParser(integer(0, 3_600_000)))
    .addOption(new Option('--backoff-initial-ms <ms>', 'first wait after a failed sync (doubles up to --backoff-max-ms, with jitter)').default(replicateDefaults.backoffInitialMs).argParser(integer(1, 3_600_000)))
    .addOption(new Option('--backoff-max-ms <ms>', 'longest wait between two tries of a failing link').default(replicateDefaults.backoffMaxMs).argParser(integer(1, 3_600_000)))
    .option('--allow-unreachable-sources', 'start even when a source region does not answer (its link retries until it does)', false)
    .addOption(new Option('--metrics-port <n>', 'port of the Prometheus /metrics endpoint (0: any free port)').env('TROUPE_METRICS_PORT').default(replicateDefaults.metricsPort).argParser(integer(0, 65_535)))
    .addOption(new Option('--metrics-host <host>', 'address the /metrics endpoint listens on (0.0.0.0: every interface)').env('TROUPE_METRICS_HOST').default('127.0.0.1'))
    .option('--no-metrics', 'serve no /metrics endpoint')
    .option('--allow-volatile-store', 'replicate into a Redis that keeps nothing on disk: only for throw-away setups and tests', false)
    .addOption(new Option('--log-level <level>', 'pino log level').env('TROUPE_LOG_LEVEL').default('info').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']));
  for (const option of redisTlsOptions()) command.addOption(option);
  return command.action(async (flags: ReplicateFlags) => {
    const regions = resolveRegions({ region: flags.region, redis: flags.redis, redisPrefix: flags.redisPrefix, regionsFile: flags.regionsFile, sources: flags.source });
    if (flags.backoffMaxMs < flags.backoffInitialMs) throw new CliError(`--backoff-max-ms ${flags.backoffMaxMs} is below --backoff-initial-ms ${flags.backoffInitialMs}`);
    const logger = pino({ name: 'troupe-replicate', level: flags.logLevel, base: { region: regions.here.id } });
    const app = await loadApp(flags.app);
    const connect = (region: RegionEndpoint) => connectRedisStore({ url: region.redis, prefix: region.prefix, ...redisTls(flags) });
    const own = await connectOwn(regions.here, connect);
    const sources: { region: string; store: LazyRegionStore }[] = [];
    try {
      await checkPersistence(own, flags.allowVolatileStore, logger);
      for (const source of regions.others) {
        const store = lazyRegionStore(() => connectSource(source, connect));
        sources.push({ region: source.id, store });
        try {
          await store.regions();
        } catch (error) {
          const why = `region ${source.id} at ${redactUrl(source.redis)} (prefix '${source.prefix}') does not answer: ${(error as Error).message.replace(/\.+$/, '')}`;
          if (!flags.allowUnreachableSources) throw new CliError(`${why}. Start it, fix its URL, or pass --allow-unreachable-sources to start anyway and retry it`);
          logger.warn({ source: source.id }, `${why}; its link retries until it does`);
        }
      }
      let replication: RegionReplication | undefined;
      const metrics = new ReplicationMetrics(() => replication?.status() ?? []);
      const runtime = createRuntime({
        actors: app.actors,
        store: own,
        replicaId: regions.here.id,
        observer: combineObservers(metrics.runtimeObserver(), {
          resolved: ({ record }) => logger.info({ merge: summarize(record) }, 'merged a diverged actor'),
          resolutionFailed: ({ actor, error }) => logger.warn({ actor, err: error }, 'resolution failed (retried on the next sync)'),
        }),
      });
      replication = new RegionReplication({
        region: regions.here.id,
        store: own,
        resolve: (actor) => runtime.resolve(actor),
        sources,
        batchSize: flags.batchSize,
        idleMs: flags.idleMs,
        backoff: { initialMs: flags.backoffInitialMs, maxMs: flags.backoffMaxMs },
        observer: combineLinkObservers(metrics.linkObserver(), {
          linkUp: ({ source }) => logger.info({ source }, 'link up'),
          linkDown: ({ source, error, failures, retryInMs }) => logger.warn({ source, failures, retryInMs, err: error }, 'link down: retrying after a backoff'),
          linkBroken: ({ source, error }) => logger.error({ source, err: error }, 'link broken: nothing more is copied from this region until the cause is fixed and the replicator restarted'),
          synced: ({ source, report, lagPacks }) => {
            if (report.copied > 0 || report.resolved.length > 0) logger.info({ source, copied: report.copied, skipped: report.skipped, resolved: report.resolved.length, lagPacks }, 'synced');
          },
        }),
      });
      await replication.start();
      logger.info({ regions: [regions.here.id, ...regions.others.map((r) => r.id)], redis: own.endpoint }, 'replicating');
      const server = flags.metrics && flags.metricsPort !== undefined ? await metrics.serve(flags.metricsPort, flags.metricsHost) : undefined;
      if (server) logger.info({ url: server.url }, 'metrics');
      let stop: (name: string) => void = () => undefined;
      const signalled = new Promise<string>((resolve) => {
        stop = (name: string) => resolve(name);
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      const ended = await Promise.race([signalled.then((signal) => ({ signal })), replication.fatal.then((error) => ({ error }))]);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if ('signal' in ended) logger.info({ signal: ended.signal }, 'stopping after the current batches');
      else logger.fatal({ err: ended.error }, 'this region\'s store cannot be used any more: stopping');
      await replication.stop();
      await runtime.stop();
      await server?.close();
      logger.info('stopped');
      if ('error' in ended) throw ended.error;
    } finally {
      await Promise.all(sources.map((s) => s.store.close().catch(() => undefined)));
      await own.close();
    }
  });
}

async function connectOwn(region: RegionEndpoint, connect: (r: RegionEndpoint) => Promise<RedisStore>): Promise<RedisStore & RegionLog> {
  let store: RedisStore;
  try {
    store = await connect(region);
  } catch (error) {
    throw new CliError(`this region's Redis (${region.id} at ${redactUrl(region.redis)}) does not answer: ${(error as Error).message}`);
  }
  return store;
}

function connectSource(region: RegionEndpoint, connect: (r: RegionEndpoint) => Promise<RedisStore>): Promise<EventStore & RegionLog> {
  return connect(region);
}

function summarize(record: MergeRecord) {
  return {
    actor: `${record.actor.type}:${record.actor.id}`,
    heads: record.heads.length,
    replayed: record.replayed,
    compensations: record.compensations,
    divergedForMs: Math.max(0, record.mergedAt - record.divergedAt),
  };
}

/** Calls every observer's callbacks in turn; one that throws becomes a process warning. */
function combineLinkObservers(...observers: RegionReplicationObserver[]): RegionReplicationObserver {
  const call =
    <K extends keyof RegionReplicationObserver>(name: K) =>
    (o: Parameters<NonNullable<RegionReplicationObserver[K]>>[0]) => {
      for (const observer of observers) {
        try {
          (observer[name] as ((arg: typeof o) => void) | undefined)?.(o);
        } catch (error) {
          process.emitWarning(`a replication observer threw: ${(error as Error)?.message ?? String(error)}`);
        }
      }
    };
  return { linkUp: call('linkUp'), linkDown: call('linkDown'), linkBroken: call('linkBroken'), batch: call('batch'), synced: call('synced') };
}
