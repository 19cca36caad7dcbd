/**
 * troupe benchmarks: `npm run bench` (full, about six minutes, plus ~2 for regions, ~1 for views and ~1 for publication) or `npm run bench -- --quick` (under two).
 * Options: --quick, --only=ids,throughput,resolution,redis,sim,bus,curves,peers,regions,views,publication,sim-1m, --out=<file> (default
 * bench/results/latest.json, overwritten whole: give a partial --only run its own --out). Beside the
 * JSON it writes <out minus .json>.md (the table as markdown, the notes) and the SVG plots of the
 * curves: into bench/results/plots/ for a full run with the default --out, else into
 * <out minus .json>-plots/ (so quick or partial runs never overwrite the committed plots).
 *
 * The redis scenario needs the Redis at 127.0.0.1:6379 (database 10, keys under a prefix unique to
 * the run, deleted at the end). Not reachable: it prints a SKIPPED line, and the run fails under CI=true.
 * The bus scenario needs RabbitMQ at 127.0.0.1:5672 (guest/guest; queues and exchanges under a
 * prefix unique to the run, deleted at the end) and that Redis; likewise skipped, failing under CI=true.
 * The curves scenario needs both too (its concurrency curve the broker and Redis, its load curve Redis);
 * the peers scenario needs Redis for its Redis part. Same SKIPPED lines and CI=true failure.
 * The regions scenario starts two throw-away redis-servers on free ports (`redis-server` on the
 * PATH; without it, the same SKIPPED line and CI=true failure) and stops them at the end.
 * The views scenario starts one throw-away redis-server the same way; the publication scenario
 * one too, and needs RabbitMQ at 127.0.0.1:5672 (exchange and queue under a prefix unique to the
 * run, deleted at the end). Same SKIPPED lines and CI=true failure.
 *
 * `sim-1m` (one ~1M-command simulation in a child process, 15-20 minutes, peak RSS ~8 GiB) runs only
 * when named in --only: `npm run bench -- --only=sim-1m --out=$PWD/bench/results/sim-1m.json`.
 *
 * Every figure is reported next to a raw baseline measured in the same run, and as a ratio to it:
 * the machine is shared and noisy, so absolute numbers alone mean little.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchBus, busBenchAmqpUrl, type BusResults, type BusSkipped } from './bus.js';
import { benchCurves, curvePlots, type CurvesOptions, type CurvesResults } from './curves.js';
import { benchIds, idSinkLength, type IdResults } from './ids.js';
import { benchPeers, peerConfig, type PeerResults } from './peers.js';
import { benchRedis, redisBenchUrl, type RedisResults, type RedisSkipped } from './redis.js';
import { benchRegions, defaultBatchSize, regionPlots, type RegionsOptions, type RegionsResults, type RegionsSkipped } from './regions.js';
import { benchResolution, type ResolutionResults } from './resolution.js';
import { benchSim, benchSimMillion, type SimMillionResult, type SimResults } from './sim.js';
import {
  type BenchResults,
  busSerialP50Goal,
  rssBound,
  busThroughputGoal,
  markdownReport,
  markdownTable,
  noteLines,
  redisAppendGoal,
  redisReplayGoal,
  regionConvergenceGoal,
  regionConvergenceScaling,
  regionLagP99GoalMs,
  regionThroughputGoal,
  resolutionGoal,
  rssBoundGoal,
  simRateGoal,
  simMillionRssGoalGiB,
  bytesPerLiveActorGoal,
  peerGoal,
  publicationGoal,
  tableRows,
  viewCatchUpGoal,
} from './table.js';
import { benchThroughput, throughputSink, type ThroughputResults } from './throughput.js';
import { benchPublication, type PublicationOptions, type PublicationResults, type PublicationSkipped } from './publication.js';
import { benchViews, type ViewsOptions, type ViewsResults, type ViewsSkipped } from './views.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const hit = args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  return hit === undefined ? undefined : (hit.split('=')[1] ?? '');
};
const quick = flag('quick') !== undefined;
const scenarios = ['ids', 'throughput', 'resolution', 'redis', 'sim', 'bus', 'curves', 'peers', 'regions', 'views', 'publication'];
/** Run only when named in --only (minutes long). */
const optInScenarios = ['sim-1m'];
const only = new Set((flag('only') || scenarios.join(',')).split(','));
for (const name of only) {
  if (!scenarios.includes(name) && !optInScenarios.includes(name)) throw new Error(`--only: unknown scenario '${name}' (${[...scenarios, ...optInScenarios].join(', ')})`);
}
const defaultOut = resolve(here, 'results/latest.json');
const outFile = resolve(flag('out') || defaultOut);

/** The opt-in `sim-1m` run (the same in quick mode: its point is the size): 22,000 ticks x 50 client steps ≈ 1M commands. */
const simMillionRun = { seed: 1, steps: 22_000, actors: 10_000, commandsPerTick: 50, baselineCommands: 100_000 };

const config = quick
  ? {
      ids: { passes: 2, timeMs: 200 },
      throughput: { rounds: 3, serialCommands: 5_000, pipelinedCommands: 10_000, window: 1_000, actors: 10_000, warmRounds: 2, rawCommands: 500_000 },
      resolution: { histories: [1_000, 10_000, 100_000], divergence: 50, passes: 2, timeMs: 150, iterations: 3 },
      redis: {
        append: { rounds: 3, serialAppends: 1_000, actors: 64, appendsPerActor: 30 },
        replay: { events: 10_000, iterations: 5, warmup: 1, chainPacksPerCall: [500, 2_000] },
        size: { packs: 1_000 },
      },
      sim: { sizes: [{ steps: 40, seeds: 2 }, { steps: 160, seeds: 1 }], actors: 1_000, commandsPerTick: 50, baselineMinCommands: 5_000 },
      simMillion: simMillionRun,
      bus: {
        shards: 16,
        actors: 1_000,
        window: 1_000,
        throughput: { rounds: 3, commands: 2_000 },
        childProcess: { rounds: 0, commands: 2_000 },
        serial: { rounds: 3, commands: 150, warmup: 20 },
        sweep: { prefetches: [1, 256], rounds: 1, commands: 2_000 },
      },
      curves: {
        concurrency: { windows: [1, 16, 256], rounds: 1, commandsPerActor: 10, minCommands: 200, maxCommands: 2_000 },
        load: { histories: [{ events: 100, iterations: 5 }, { events: 1_000, iterations: 5 }, { events: 10_000, iterations: 3 }], warmup: 3 },
        // Smaller than the full run's 100k / 500k / 1M (which take ~1.5 min): the cap (100k live) and 20k beyond it.
        rss: { actors: [100_000, 120_000], window: 1_000, memoryStoreAt: [] },
      } satisfies CurvesOptions,
      peers: peerConfig.quick,
      regions: {
        throughput: { packs: 5_000, actors: 500, rounds: 1, batchSizes: [500] },
        // Preceded by an unrecorded warm-up point (the resolution path's JIT).
        convergence: { actors: [300, 1_000] },
        lag: { rate: 500, seconds: 5, actors: 1_000, idleMs: [250] },
      } satisfies RegionsOptions,
      views: {
        catchUp: { accounts: 500, eventsPerAccount: 20, owners: 100, rounds: 2, batchSize: 500 },
        latency: { rate: 200, seconds: 4, accounts: 500 },
      } satisfies ViewsOptions,
      publication: { accounts: 500, eventsPerAccount: 10, rounds: 2, batchSize: 500 } satisfies PublicationOptions,
    }
  : {
      ids: { passes: 5, timeMs: 400 },
      throughput: { rounds: 9, serialCommands: 20_000, pipelinedCommands: 40_000, window: 1_000, actors: 10_000, warmRounds: 3, rawCommands: 2_000_000 },
      resolution: { histories: [1_000, 10_000, 100_000], divergence: 50, passes: 5, timeMs: 300, iterations: 6 },
      redis: {
        append: { rounds: 11, serialAppends: 2_000, actors: 64, appendsPerActor: 60 },
        replay: { events: 10_000, iterations: 21, warmup: 2, chainPacksPerCall: [500, 1_000, 2_000, 5_000, 10_000] },
        size: { packs: 1_000 },
      },
      sim: { sizes: [{ steps: 50, seeds: 3 }, { steps: 200, seeds: 3 }, { steps: 800, seeds: 1 }], actors: 1_000, commandsPerTick: 50, baselineMinCommands: 10_000 },
      simMillion: simMillionRun,
      bus: {
        shards: 16,
        actors: 1_000,
        window: 1_000,
        throughput: { rounds: 7, commands: 5_000 },
        childProcess: { rounds: 3, commands: 5_000 },
        serial: { rounds: 5, commands: 400, warmup: 50 },
        sweep: { prefetches: [1, 8, 32, 64, 128, 256], rounds: 3, commands: 4_000 },
      },
      curves: {
        concurrency: { windows: [1, 2, 4, 8, 16, 32, 64, 128, 256], rounds: 3, commandsPerActor: 20, minCommands: 400, maxCommands: 5_000 },
        load: {
          histories: [
            { events: 100, iterations: 30 },
            { events: 1_000, iterations: 30 },
            { events: 10_000, iterations: 9 },
            { events: 100_000, iterations: 3 },
          ],
          warmup: 5,
        },
        rss: { actors: [100_000, 500_000, 1_000_000], window: 1_000, memoryStoreAt: [100_000] },
      } satisfies CurvesOptions,
      peers: peerConfig.full,
      regions: {
        throughput: { packs: 50_000, actors: 5_000, rounds: 5, batchSizes: [500, 2_000] },
        // 100,000 actors took 6 min 48 s here (set-up 87 s, heal 297 s, check 14 s; all linear in
        // the actors): measured once on its own (bench/regions.ts convergence 100000), see BENCHMARKS.md "Regions".
        convergence: { actors: [1_000, 3_000, 10_000] },
        lag: { rate: 500, seconds: 15, actors: 1_000, idleMs: [250, 50] },
      } satisfies RegionsOptions,
      views: {
        catchUp: { accounts: 1_000, eventsPerAccount: 50, owners: 200, rounds: 9, batchSize: 500 },
        latency: { rate: 200, seconds: 15, accounts: 1_000 },
      } satisfies ViewsOptions,
      publication: { accounts: 1_000, eventsPerAccount: 20, rounds: 5, batchSize: 500 } satisfies PublicationOptions,
    };

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return undefined;
  }
}

/** Files changed in the working tree and not committed (the packages measured are built from the tree, not from HEAD). */
function gitDirty(): string[] | undefined {
  try {
    const out = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: here, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    return out.split('\n').filter((l) => l.trim() !== '').map((l) => l.slice(3));
  } catch {
    return undefined;
  }
}

const startedAt = new Date();
const dirtyAtStart = gitDirty();
/** HEAD when the run started (the packages were built from the tree then); others may commit while it runs. */
const commitAtStart = gitCommit();
const started = performance.now();
const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cpus: os.cpus().length,
  node: process.version,
  v8: process.versions.v8,
  platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  loadAvgAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
};
console.log(`troupe bench (${quick ? 'quick' : 'full'}) on ${machine.cpu} x${machine.cpus}, node ${machine.node}, load ${machine.loadAvgAtStart.join(' ')}`);

const log = (text: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${text}`);

let ids: IdResults | undefined;
let throughput: ThroughputResults | undefined;
let resolution: ResolutionResults | undefined;
let redis: RedisResults | undefined;
let redisSkipped: RedisSkipped | undefined;
let sim: SimResults | undefined;
let simMillion: SimMillionResult | undefined;
let bus: BusResults | undefined;
let busSkipped: BusSkipped | undefined;
let curves: CurvesResults | undefined;
let peers: PeerResults | undefined;
let regions: RegionsResults | undefined;
let regionsSkipped: RegionsSkipped | undefined;
let views: ViewsResults | undefined;
let viewsSkipped: ViewsSkipped | undefined;
let publication: PublicationResults | undefined;
let publicationSkipped: PublicationSkipped | undefined;
/** Parts of the curves and peers scenarios skipped for want of Redis or RabbitMQ (printed loud, failing under CI=true). */
const partsSkipped: string[] = [];
const redisSkippedLine = (r: RedisSkipped) =>
  `!!!!!!!! REDIS SCENARIO SKIPPED: ${r.url} is not reachable (${r.reason}). Start redis-server on 127.0.0.1:6379 to measure @troupe/redis.${process.env.CI === 'true' ? ' CI=true: the bench FAILS.' : ''} !!!!!!!!`;
const busSkippedLine = (r: BusSkipped) =>
  `!!!!!!!! BUS SCENARIO SKIPPED: ${r.reason}. Start rabbitmq-server on 127.0.0.1:5672 (guest/guest) and redis-server on 127.0.0.1:6379 to measure @troupe/rabbitmq.${process.env.CI === 'true' ? ' CI=true: the bench FAILS.' : ''} !!!!!!!!`;
const regionsSkippedLine = (r: RegionsSkipped) =>
  `!!!!!!!! REGIONS SCENARIO SKIPPED: ${r.reason}. Put redis-server on the PATH to measure region replication.${process.env.CI === 'true' ? ' CI=true: the bench FAILS.' : ''} !!!!!!!!`;
const viewsSkippedLine = (r: ViewsSkipped) =>
  `!!!!!!!! VIEWS SCENARIO SKIPPED: ${r.reason}. Put redis-server on the PATH to measure the views.${process.env.CI === 'true' ? ' CI=true: the bench FAILS.' : ''} !!!!!!!!`;
const publicationSkippedLine = (r: PublicationSkipped) =>
  `!!!!!!!! PUBLICATION SCENARIO SKIPPED: ${r.reason}. Start rabbitmq-server on 127.0.0.1:5672 (guest/guest) and put redis-server on the PATH to measure the event publisher.${process.env.CI === 'true' ? ' CI=true: the bench FAILS.' : ''} !!!!!!!!`;
const partSkippedLine = (what: string) =>
  `!!!!!!!! ${what} SKIPPED. Start redis-server on 127.0.0.1:6379 and rabbitmq-server on 127.0.0.1:5672 (guest/guest) to measure it.${process.env.CI === 'true' ? ' CI=true: the bench FAILS.' : ''} !!!!!!!!`;
const rssMiB: Record<string, number> = {};
const rssNow = () => Math.round(process.memoryUsage().rss / 2 ** 20);

if (only.has('ids')) {
  log(`ids: ${config.ids.passes} passes x 4 tasks x ${config.ids.timeMs} ms`);
  ids = await benchIds(config.ids);
  rssMiB.afterIds = rssNow();
}
if (only.has('throughput')) {
  log(`throughput: ${config.throughput.rounds} rounds (+1 warm-up)`);
  throughput = await benchThroughput(config.throughput);
  rssMiB.afterThroughput = rssNow();
}
if (only.has('resolution')) {
  log(`resolution: histories ${config.resolution.histories.join(', ')}, ${config.resolution.divergence} events per branch, ${config.resolution.passes} passes`);
  resolution = await benchResolution(config.resolution);
  rssMiB.afterResolution = rssNow();
}
if (only.has('redis')) {
  log(`redis: ${redisBenchUrl}, appends ${config.redis.append.rounds} rounds, replay ${config.redis.replay.iterations} iterations`);
  const result = await benchRedis(config.redis, log);
  if (result.skipped) {
    redisSkipped = result;
    console.error(redisSkippedLine(result));
  } else {
    redis = result;
    log(`redis: deleted the run's ${result.keysDeleted} keys (${result.prefix}:*)`);
  }
  rssMiB.afterRedis = rssNow();
}
if (only.has('sim')) {
  log(`sim: counter workload, swarm off, 3 replicas, ${config.sim.actors} actors, ${config.sim.commandsPerTick} client steps per tick, steps ${config.sim.sizes.map((z) => `${z.steps} x ${z.seeds} seeds`).join(', ')}`);
  sim = await benchSim(config.sim, log);
  rssMiB.afterSim = rssNow();
}
if (only.has('sim-1m')) {
  simMillion = await benchSimMillion(config.simMillion, log);
  rssMiB.afterSimMillion = rssNow();
}
if (only.has('bus')) {
  log(`bus: ${busBenchAmqpUrl.replace(/\/\/[^@]*@/, '//')} + ${redisBenchUrl}, worker and client in this process`);
  const result = await benchBus(config.bus, log);
  if (result.skipped) {
    busSkipped = result;
    console.error(busSkippedLine(result));
  } else {
    bus = result;
    log(`bus: deleted the run's ${result.cleanup.queues} queues, ${result.cleanup.exchanges} exchanges (${result.prefix}.*) and ${result.cleanup.redisKeys} Redis keys (${result.prefix}:*)`);
  }
  rssMiB.afterBus = rssNow();
}
if (only.has('curves')) {
  curves = await benchCurves(config.curves, log);
  if (curves.concurrency.skipped) partsSkipped.push(`CURVES: THROUGHPUT VS CONCURRENCY (${curves.concurrency.reason})`);
  if (curves.load.skipped) partsSkipped.push(`CURVES: LOAD VS HISTORY (${curves.load.url}: ${curves.load.reason})`);
  for (const part of partsSkipped) console.error(partSkippedLine(part));
  rssMiB.afterCurves = rssNow();
}
if (only.has('peers')) {
  log('peers: Emmett vs the embedded runtime, eventstore (Redis backend) vs @troupe/redis (peers.ts)');
  peers = await benchPeers(config.peers, log);
  if (peers.redisSkipped) {
    partsSkipped.push(`PEERS: REDIS PART (${peers.redisSkipped})`);
    console.error(partSkippedLine(partsSkipped[partsSkipped.length - 1]!));
  }
  rssMiB.afterPeers = rssNow();
}
if (only.has('regions')) {
  const r = config.regions;
  log(`regions: two throw-away redis-servers; copy of ${r.throughput.packs.toLocaleString('en-US')} packs x ${r.throughput.rounds} rounds, batch ${r.throughput.batchSizes.join(', ')}; converge ${r.convergence.actors.join(', ')} actors; lag at ${r.lag.rate}/s, idle ${r.lag.idleMs.join(', ')} ms`);
  const result = await benchRegions(r, log);
  if (result.skipped) {
    regionsSkipped = result;
    console.error(regionsSkippedLine(result));
  } else {
    regions = result;
  }
  rssMiB.afterRegions = rssNow();
}
if (only.has('views')) {
  const v = config.views;
  log(`views: one throw-away redis-server; catch-up of ${(v.catchUp.accounts * v.catchUp.eventsPerAccount).toLocaleString('en-US')} events x ${v.catchUp.rounds} rounds (raw fold, MemoryView, RedisView); latency at ${v.latency.rate} deposits/s for ${v.latency.seconds} s`);
  const result = await benchViews(v, log);
  if (result.skipped) {
    viewsSkipped = result;
    console.error(viewsSkippedLine(result));
  } else {
    views = result;
  }
  rssMiB.afterViews = rssNow();
}
if (only.has('publication')) {
  const p = config.publication;
  log(`publication: ${(p.accounts * p.eventsPerAccount).toLocaleString('en-US')} events x ${p.rounds} rounds, batch ${p.batchSize}: startPublisher vs raw amqplib with confirms`);
  const result = await benchPublication(p, log);
  if (result.skipped) {
    publicationSkipped = result;
    console.error(publicationSkippedLine(result));
  } else {
    publication = result;
  }
  rssMiB.afterPublication = rssNow();
}
const durationSeconds = (performance.now() - started) / 1000;
const peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
log(`done in ${durationSeconds.toFixed(1)} s, peak RSS ${peakRssMiB} MiB`);

// ---------------------------------------------------------------------------------------------
// Table (table.ts), plots (plot.ts via curves.ts)

const results: BenchResults = { ids, throughput, resolution, redis, sim, simMillion, bus, curves, peers, regions, views, publication };
const rows = tableRows(results);
const table = markdownTable(rows);
console.log();
console.log(table);
console.log();
for (const line of noteLines(results)) console.log(line);
if (redisSkipped) console.error(redisSkippedLine(redisSkipped));
if (busSkipped) console.error(busSkippedLine(busSkipped));
if (regionsSkipped) console.error(regionsSkippedLine(regionsSkipped));
if (viewsSkipped) console.error(viewsSkippedLine(viewsSkipped));
if (publicationSkipped) console.error(publicationSkippedLine(publicationSkipped));
for (const part of partsSkipped) console.error(partSkippedLine(part));
console.log(`peak RSS ${peakRssMiB} MiB; RSS ${Object.entries(rssMiB).map(([k, v]) => `${k} ${v} MiB`).join(', ')}; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

// Plots: the committed ones (results/plots) only from a full run writing the default --out.
const plotDir = !quick && outFile === defaultOut ? resolve(here, 'results/plots') : `${outFile.replace(/\.json$/, '')}-plots`;
const plotNote = `${quick ? 'quick' : 'full'} run ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${commitAtStart ?? ''}`;
const plots = { ...curvePlots(curves, resolution, plotNote), ...regionPlots(regions, plotNote) };
const plotFiles: string[] = [];
if (Object.keys(plots).length > 0) {
  mkdirSync(plotDir, { recursive: true });
  for (const [name, svg] of Object.entries(plots)) {
    writeFileSync(resolve(plotDir, name), svg);
    plotFiles.push(resolve(plotDir, name));
  }
}

// ---------------------------------------------------------------------------------------------
// JSON

const jsonReplacer = (_key: string, value: unknown) => (typeof value === 'bigint' ? String(value) : value);
const report = {
  date: startedAt.toISOString(),
  mode: quick ? 'quick' : 'full',
  commit: commitAtStart,
  /** HEAD when the run ended, if it moved meanwhile (the run measured `commit`). */
  commitAtEnd: gitCommit() === commitAtStart ? undefined : gitCommit(),
  /** Tracked files modified in the working tree when the run started (measured as built from it). */
  uncommitted: dirtyAtStart,
  machine: { ...machine, loadAvgAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100) },
  config,
  durationSeconds: Math.round(durationSeconds * 10) / 10,
  peakRssMiB,
  rssMiB,
  goals: {
    resolutionRatioMax: resolutionGoal,
    resolutionMet: resolution ? Object.values(resolution.ratios).every((r) => r.ratio <= resolutionGoal) : undefined,
    redisAppendRatioMin: redisAppendGoal,
    redisReplayRatioMin: redisReplayGoal,
    redisAppendMet: redis ? redis.append.serial.ratio.median >= redisAppendGoal && redis.append.parallel.ratio.median >= redisAppendGoal : undefined,
    simRateMin: simRateGoal,
    simMet: sim ? sim.sizes.every((z) => z.simRate.median >= simRateGoal) : undefined,
    simMillionRssGiBMax: simMillionRssGoalGiB,
    simMillionRssMet: simMillion ? simMillion.peakRssMiB / 1024 <= simMillionRssGoalGiB : undefined,
    peersMet: peers ? peers.figures.every((f) => f.ratioVsPeer.median >= peerGoal(f.measured)) : undefined,
    bytesPerLiveActorMax: bytesPerLiveActorGoal,
    bytesPerLiveActorMet: curves ? curves.rss.points.every((p) => p.runtime.runtimeBytes / p.runtime.liveActors <= bytesPerLiveActorGoal) : undefined,
    busThroughputRatioMin: busThroughputGoal,
    busSerialP50RatioMax: busSerialP50Goal,
    busThroughputMet: bus ? bus.throughput.ratio.median >= busThroughputGoal : undefined,
    busSerialMet: bus ? bus.serial.ratioP50.median <= busSerialP50Goal : undefined,
    redisReplayMet: redis
      ? redis.replay.variants.find((v) => v.chainPacksPerCall === redis!.replay.defaultChainPacksPerCall)!.ratio.median >= redisReplayGoal
      : undefined,
    rssBoundRatioMax: rssBoundGoal,
    rssBoundMet: curves ? (() => {
      const b = rssBound(curves.rss);
      return b ? b.ratio <= rssBoundGoal : undefined;
    })() : undefined,
    regionThroughputRatioMin: regionThroughputGoal,
    regionConvergenceScalingMax: regionConvergenceGoal,
    regionLagP99MsMax: regionLagP99GoalMs,
    regionThroughputMet: regions ? regions.throughput.figures.find((f) => f.batchSize === defaultBatchSize)!.ratio.median >= regionThroughputGoal : undefined,
    regionConvergenceMet: regions ? (() => {
      const scaling = regionConvergenceScaling(regions);
      return scaling === undefined ? undefined : scaling <= regionConvergenceGoal;
    })() : undefined,
    regionLagMet: regions ? regions.lag.phases.every((p) => p.troupe.p99 < regionLagP99GoalMs) : undefined,
    viewCatchUpRatioMin: viewCatchUpGoal,
    viewMemoryCatchUpMet: views ? views.catchUp.ratioMemory.median >= viewCatchUpGoal : undefined,
    viewRedisCatchUpMet: views ? views.catchUp.ratioRedis.median >= viewCatchUpGoal : undefined,
    publicationRatioMin: publicationGoal,
    publicationMet: publication ? publication.ratio.median >= publicationGoal : undefined,
  },
  ids,
  throughput,
  resolution,
  redis: redis ?? redisSkipped,
  sim,
  simMillion,
  bus: bus ?? busSkipped,
  curves,
  peers,
  regions: regions ?? regionsSkipped,
  views: views ?? viewsSkipped,
  publication: publication ?? publicationSkipped,
  plots: plotFiles,
  table: rows,
  sinks: [idSinkLength(), throughputSink()],
};
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, `${JSON.stringify(report, jsonReplacer, 2)}\n`);
const mdFile = outFile.replace(/\.json$/, '') + '.md';
writeFileSync(
  mdFile,
  markdownReport(
    `Run of ${report.date} (${report.mode}, commit ${report.commit ?? '?'}${dirtyAtStart?.length ? ` + uncommitted changes to ${dirtyAtStart.join(', ')}` : ''}), ${report.durationSeconds} s, ${machine.cpu} x${machine.cpus}, load ${machine.loadAvgAtStart.join(' ')} -> ${report.machine.loadAvgAtEnd.join(' ')}`,
    table,
    results,
  ),
);
console.log(`results written to ${outFile} and ${mdFile}${plotFiles.length ? `; plots: ${plotFiles.join(', ')}` : ''}`);
if (redisSkipped && process.env.CI === 'true') {
  console.error('redis scenario skipped under CI=true: failing the bench');
  process.exitCode = 1;
}
if (busSkipped && process.env.CI === 'true') {
  console.error('bus scenario skipped under CI=true: failing the bench');
  process.exitCode = 1;
}
if (regionsSkipped && process.env.CI === 'true') {
  console.error('regions scenario skipped under CI=true: failing the bench');
  process.exitCode = 1;
}
if (viewsSkipped && process.env.CI === 'true') {
  console.error('views scenario skipped under CI=true: failing the bench');
  process.exitCode = 1;
}
if (publicationSkipped && process.env.CI === 'true') {
  console.error('publication scenario skipped under CI=true: failing the bench');
  process.exitCode = 1;
}
if (partsSkipped.length > 0 && process.env.CI === 'true') {
  console.error(`${partsSkipped.join('; ')} skipped under CI=true: failing the bench`);
  process.exitCode = 1;
}
