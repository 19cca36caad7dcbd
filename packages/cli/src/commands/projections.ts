import { Command, Option } from 'commander';
import { pino } from 'pino';
import type { ProjectionDefinition } from '@troupe/runtime';
import { redactUrl } from '@troupe/runtime/store';
import { type RedisStore, type RedisViewObserver, type RedisViewStatus, connectRedisStore, openRedisView, redisViewDefaults } from '@troupe/redis';
import { loadApp } from '../appModule.js';
import { CliError, type RedisTlsFlags, appOption, integer, json, redisPrefixOption, redisTls, redisTlsOptions } from '../shared.js';

interface ProjectionsFlags extends RedisTlsFlags {
  readonly app: string;
  readonly redis?: string;
  readonly redisPrefix: string;
  readonly json: boolean;
}

interface RunFlags extends ProjectionsFlags {
  readonly batchSize: number;
  readonly pollMs: number;
  readonly leaseTtlMs: number;
  readonly holder?: string;
  readonly logLevel: string;
}

/** One view as `troupe projections` lists it: its status, or why it could not be read. */
export type ProjectionListing = { readonly projection: string; readonly version: number } & ({ readonly status: RedisViewStatus } | { readonly error: string });

/** The options every `troupe projections` command takes (after the subcommand's name for `run` and `rebuild`). */
function commonOptions(command: Command): Command {
  command
    .addOption(appOption())
    .addOption(new Option('--redis <url>', 'the Redis of the region: its store, whose log the views follow, and the views').env('TROUPE_REDIS_URL'))
    .addOption(redisPrefixOption())
    .option('--json', 'print JSON', false);
  for (const option of redisTlsOptions()) command.addOption(option);
  return command;
}

/**
 * `troupe projections` (list), `troupe projections run NAME`, `troupe projections rebuild NAME`:
 * the app's views kept in Redis (`RedisView` of @troupe/redis), one runner per view per region.
 */
export function projectionsCommand(): Command {
  const list = commonOptions(
    new Command('projections').description('list the app\'s views kept in Redis: position, lag, readiness, rows and lease holder (subcommands: run NAME, rebuild NAME)'),
  );
  const run = commonOptions(new Command('run').argument('<name>', 'the view: its projection name, or name-version').description('run a view: follow the region\'s log into it until SIGINT/SIGTERM (one runner per view per region: others wait in standby)'))
    .addOption(new Option('--batch-size <n>', 'packs per batch (one write script per batch)').default(redisViewDefaults.batchSize).argParser(integer(1, 100_000)))
    .addOption(new Option('--poll-ms <ms>', 'wait between two reads of the log once caught up').default(redisViewDefaults.pollMs).argParser(integer(1, 3_600_000)))
    .addOption(new Option('--lease-ttl-ms <ms>', 'how long the lease outlives a runner that stops renewing it (a standby runner takes over after it)').default(redisViewDefaults.leaseTtlMs).argParser(integer(3, 3_600_000)))
    .addOption(new Option('--holder <name>', 'how the lease names this runner (default host:pid:random)'))
    .addOption(new Option('--log-level <level>', 'pino log level').env('TROUPE_LOG_LEVEL').default('info').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']));
  const rebuild = commonOptions(
    new Command('rebuild').argument('<name>', 'the view: its projection name, or name-version').description('build the view again into its shadow keys, then swap it in atomically (readers see the old or the new view)'),
  );
  list.addCommand(run.action((name: string, _flags: RunFlags, command: Command) => runView(name, withParentFlags<RunFlags>(command))));
  list.addCommand(rebuild.action((name: string, _flags: ProjectionsFlags, command: Command) => rebuildView(name, withParentFlags<ProjectionsFlags>(command))));
  // The shared options before `run`/`rebuild` are the list's, after it the subcommand's (see withParentFlags).
  list.enablePositionalOptions();
  // Usage errors throw (program.ts does this for the top-level commands).
  run.exitOverride();
  rebuild.exitOverride();
  return list.action((flags: ProjectionsFlags) => listViews(flags));
}

/**
 * A subcommand's flags, with those given to `troupe projections` before the subcommand's name
 * (`troupe projections --redis url run NAME`) where the subcommand only has its default.
 */
function withParentFlags<Flags>(command: Command): Flags {
  const flags: Record<string, unknown> = { ...command.opts() };
  const parent = command.parent!;
  for (const [key, value] of Object.entries(parent.opts())) {
    const own = command.getOptionValueSource(key);
    const given = parent.getOptionValueSource(key);
    if ((own === undefined || own === 'default') && given !== undefined && given !== 'default') flags[key] = value;
  }
  return flags as Flags;
}

async function connect(flags: ProjectionsFlags): Promise<RedisStore> {
  if (flags.redis === undefined) throw new CliError('--redis is required: the Redis of the region whose views to read or run (or set TROUPE_REDIS_URL)');
  try {
    return await connectRedisStore({ url: flags.redis, prefix: flags.redisPrefix, ...redisTls(flags) });
  } catch (error) {
    throw new CliError(`the Redis at ${redactUrl(flags.redis)} (prefix '${flags.redisPrefix}') does not answer: ${(error as Error).message}`);
  }
}

async function appProjections(specifier: string): Promise<readonly ProjectionDefinition[]> {
  const app = await loadApp(specifier);
  if (app.projections.length === 0) throw new CliError(`app '${specifier}' exports no projection definitions (export what defineProjection returns, or an array of them as \`projections\`)`);
  return app.projections;
}

/** The projection `name` names: by name, or by id (`name-version`) when the app exports several versions. */
export function findProjection(projections: readonly ProjectionDefinition[], name: string): ProjectionDefinition {
  const byId = projections.find((p) => p.id === name);
  if (byId) return byId;
  const byName = projections.filter((p) => p.name === name);
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) throw new CliError(`the app exports ${byName.length} versions of '${name}': name one of ${byName.map((p) => p.id).join(', ')}`);
  throw new CliError(`no view '${name}' in the app (views: ${projections.map((p) => p.id).join(', ')})`);
}

async function listViews(flags: ProjectionsFlags): Promise<void> {
  const projections = await appProjections(flags.app);
  const store = await connect(flags);
  try {
    const listings: ProjectionListing[] = [];
    for (const projection of projections) {
      const base = { projection: projection.name, version: projection.version };
      try {
        const view = await openRedisView({ store, projection });
        listings.push({ ...base, status: await view.status() });
      } catch (error) {
        listings.push({ ...base, error: (error as Error).message });
      }
    }
    console.log(flags.json ? json(listings) : formatListings(listings));
  } finally {
    await store.close();
  }
}

/** Packs read so far: the sum of a store cursor's offsets (`<identity>:<n0>.<n1>…`). */
function packsRead(position: string | undefined): number {
  if (position === undefined) return 0;
  return position.slice(position.lastIndexOf(':') + 1).split('.').reduce((sum, n) => sum + Number(n), 0);
}

export function formatListings(listings: readonly ProjectionListing[], now = Date.now()): string {
  const lines = ['view                              read   lag (packs)  ready  rows    lease'];
  for (const l of listings) {
    const id = `${l.projection}-${l.version}`.padEnd(30);
    if ('error' in l) {
      lines.push(`${id}  ERROR: ${l.error}`);
      continue;
    }
    const s = l.status;
    const lag = s.lagPacks === null ? `? (${s.lagError ?? 'unknown'})` : String(s.lagPacks);
    const ready = s.ready ? `yes${s.readyAt !== undefined ? ` (since ${new Date(s.readyAt).toISOString()})` : ''}` : 'no';
    const lease = s.lease ? `${s.lease.holder} (token ${s.lease.token}, expires in ${(s.lease.expiresInMs / 1000).toFixed(1)} s)` : 'none (no runner)';
    const updated = s.updatedAt !== undefined ? `, last batch ${((now - s.updatedAt) / 1000).toFixed(1)} s ago` : '';
    lines.push(`${id}  ${String(packsRead(s.position)).padStart(6)}   ${lag.padStart(11)}  ${(s.ready ? 'yes' : 'no').padEnd(5)}  ${String(s.rows).padStart(6)}  ${lease}`);
    if (s.ready || updated) lines.push(`${''.padEnd(30)}  ready: ${ready}${updated}`);
  }
  return lines.join('\n');
}

async function runView(name: string, flags: RunFlags): Promise<void> {
  const projection = findProjection(await appProjections(flags.app), name);
  const logger = pino({ name: 'troupe-projections', level: flags.logLevel, base: { view: projection.id } });
  const store = await connect(flags);
  try {
    let standby = false;
    const observer: RedisViewObserver = {
      leaseAcquired: ({ lease }) => {
        standby = false;
        logger.info({ lease }, 'lease acquired: running the view');
      },
      standby: ({ heldBy, expiresInMs }) => {
        if (!standby) logger.info({ heldBy, expiresInMs }, 'another runner holds the lease: standing by');
        standby = true;
      },
      leaseLost: ({ lease, current }) => logger.warn({ lease, current }, 'lease lost (a pause longer than its TTL?): nothing more written until it is taken again'),
      batch: ({ packs, actors, keys }) => logger.debug({ packs, actors, keys }, 'batch written'),
      caughtUp: ({ position }) => logger.info({ packsRead: packsRead(position) }, 'caught up'),
      retrying: ({ error, retryInMs }) => logger.warn({ err: error, retryInMs }, 'batch failed: retrying'),
    };
    const view = await openRedisView({
      store,
      projection,
      batchSize: flags.batchSize,
      pollMs: flags.pollMs,
      leaseTtlMs: flags.leaseTtlMs,
      ...(flags.holder !== undefined ? { holder: flags.holder } : {}),
      observer,
    });
    let stop: (signal: string) => void = () => undefined;
    const signalled = new Promise<string>((resolve) => {
      stop = (signal: string) => resolve(signal);
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    const running = view.start();
    logger.info({ redis: store.endpoint }, 'started');
    const ended = await Promise.race([signalled.then((signal) => ({ signal })), running.then(() => ({ signal: 'stopped' }), (error: unknown) => ({ error }))]);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if ('error' in ended) {
      logger.fatal({ err: ended.error }, 'the view stopped');
      throw ended.error;
    }
    logger.info({ signal: ended.signal }, 'stopping after the current batch');
    await view.stop();
    logger.info('stopped');
  } finally {
    await store.close();
  }
}

async function rebuildView(name: string, flags: ProjectionsFlags): Promise<void> {
  const projection = findProjection(await appProjections(flags.app), name);
  const store = await connect(flags);
  try {
    const view = await openRedisView({ store, projection });
    const report = await view.rebuild();
    console.log(
      flags.json
        ? json({ view: projection.id, ...report })
        : `view ${projection.id} rebuilt from ${report.packs} packs in ${report.batches} batches (${(report.durationMs / 1000).toFixed(1)} s) and swapped in; its runner goes on from there`,
    );
  } finally {
    await store.close();
  }
}
