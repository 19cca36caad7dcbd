/**
 * troupe benchmarks: `npm run bench` (full, a few minutes at most) or `npm run bench -- --quick`.
 * Options: --quick, --only=ids,throughput,resolution,redis,sim,bus, --out=<file> (default bench/results/latest.json,
 * overwritten whole: give a partial --only run its own --out).
 *
 * The redis scenario needs the Redis at 127.0.0.1:6379 (database 10, keys under a prefix unique to
 * the run, deleted at the end). Not reachable: it prints a SKIPPED line, and the run fails under CI=true.
 * The bus scenario needs RabbitMQ at 127.0.0.1:5672 (guest/guest; queues and exchanges under a
 * prefix unique to the run, deleted at the end) and that Redis; likewise skipped, failing under CI=true.
 *
 * Every figure is reported next to a raw baseline measured in the same run, and as a ratio to it:
 * the machine is shared and noisy, so absolute numbers alone mean little.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchBus, busBenchAmqpUrl, type BusResults, type BusSkipped, type BusThroughputFigure } from './bus.js';
import { benchIds, idSinkLength, type IdResults } from './ids.js';
import { benchRedis, redisBenchUrl, type RedisResults, type RedisSkipped } from './redis.js';
import { benchResolution, type ResolutionResults } from './resolution.js';
import { benchSim, type SimResults } from './sim.js';
import type { Summary } from './stats.js';
import { benchThroughput, throughputSink, type ThroughputFigure, type ThroughputResults } from './throughput.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const hit = args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  return hit === undefined ? undefined : (hit.split('=')[1] ?? '');
};
const quick = flag('quick') !== undefined;
const only = new Set((flag('only') || 'ids,throughput,resolution,redis,sim,bus').split(','));
const outFile = resolve(flag('out') || resolve(here, 'results/latest.json'));

/** The flakeid rate quoted in the issue, ids/s. */
const claimedFlakeidRate = 80_000;
const resolutionGoal = 1.5;
/** Redis store vs raw ioredis: appends/s at least this fraction of raw EVALSHA's, replay at least this fraction of raw LRANGE + unpack's speed. */
const redisAppendGoal = 0.7;
const redisReplayGoal = 0.5;
/** Simulated commands/s of @troupe/sim on memory stores (the issue's goal). */
const simRateGoal = 100_000;
/** RabbitMQ bus: end-to-end commands/s at least this fraction of raw amqplib's messages/s; serial p50 at most this multiple of raw request/reply + EVALSHA. */
const busThroughputGoal = 0.5;
const busSerialP50Goal = 2;

const config = quick
  ? {
      ids: { passes: 2, timeMs: 200 },
      throughput: { rounds: 5, serialCommands: 5_000, pipelinedCommands: 10_000, window: 1_000, actors: 10_000, warmRounds: 2, rawCommands: 500_000 },
      resolution: { histories: [1_000, 100_000], divergence: 50, passes: 2, timeMs: 150, iterations: 3 },
      redis: {
        append: { rounds: 5, serialAppends: 1_000, actors: 64, appendsPerActor: 30 },
        replay: { events: 10_000, iterations: 7, warmup: 1, chainPacksPerCall: [500, 2_000, 10_000] },
        size: { packs: 1_000 },
      },
      sim: { sizes: [{ steps: 200, seeds: 3 }, { steps: 500, seeds: 3 }, { steps: 1_000, seeds: 2 }], baselineMinCommands: 5_000 },
      bus: {
        shards: 16,
        actors: 1_000,
        window: 1_000,
        throughput: { rounds: 3, commands: 2_000 },
        childProcess: { rounds: 1, commands: 2_000 },
        serial: { rounds: 3, commands: 150, warmup: 20 },
        sweep: { prefetches: [1, 64, 256], rounds: 1, commands: 2_000 },
      },
    }
  : {
      ids: { passes: 5, timeMs: 400 },
      throughput: { rounds: 9, serialCommands: 20_000, pipelinedCommands: 40_000, window: 1_000, actors: 10_000, warmRounds: 3, rawCommands: 2_000_000 },
      resolution: { histories: [1_000, 100_000], divergence: 50, passes: 5, timeMs: 300, iterations: 6 },
      redis: {
        append: { rounds: 11, serialAppends: 2_000, actors: 64, appendsPerActor: 60 },
        replay: { events: 10_000, iterations: 21, warmup: 2, chainPacksPerCall: [500, 1_000, 2_000, 5_000, 10_000] },
        size: { packs: 1_000 },
      },
      sim: { sizes: [{ steps: 200, seeds: 5 }, { steps: 500, seeds: 5 }, { steps: 1_000, seeds: 5 }, { steps: 2_000, seeds: 1 }], baselineMinCommands: 10_000 },
      bus: {
        shards: 16,
        actors: 1_000,
        window: 1_000,
        throughput: { rounds: 7, commands: 5_000 },
        childProcess: { rounds: 3, commands: 5_000 },
        serial: { rounds: 5, commands: 400, warmup: 50 },
        sweep: { prefetches: [1, 8, 32, 64, 128, 256], rounds: 3, commands: 4_000 },
      },
    };

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return undefined;
  }
}

const startedAt = new Date();
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
let bus: BusResults | undefined;
let busSkipped: BusSkipped | undefined;
const redisSkippedLine = (r: RedisSkipped) =>
  `!!!!!!!! REDIS SCENARIO SKIPPED: ${r.url} is not reachable (${r.reason}). Start redis-server on 127.0.0.1:6379 to measure @troupe/redis.${process.env.CI === 'true' ? ' CI=true: the bench FAILS.' : ''} !!!!!!!!`;
const busSkippedLine = (r: BusSkipped) =>
  `!!!!!!!! BUS SCENARIO SKIPPED: ${r.reason}. Start rabbitmq-server on 127.0.0.1:5672 (guest/guest) and redis-server on 127.0.0.1:6379 to measure @troupe/rabbitmq.${process.env.CI === 'true' ? ' CI=true: the bench FAILS.' : ''} !!!!!!!!`;
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
  log(`sim: counter workload, swarm off, 3 replicas, steps ${config.sim.sizes.map((z) => `${z.steps} x ${z.seeds} seeds`).join(', ')}`);
  sim = await benchSim(config.sim, log);
  rssMiB.afterSim = rssNow();
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
const durationSeconds = (performance.now() - started) / 1000;
const peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
log(`done in ${durationSeconds.toFixed(1)} s, peak RSS ${peakRssMiB} MiB`);

// ---------------------------------------------------------------------------------------------
// Table

interface Row {
  readonly scenario: string;
  readonly measured: string;
  readonly median: string;
  readonly spread: string;
  readonly baseline: string;
  readonly ratio: string;
  readonly goal: string;
  readonly met: string;
}

const fmtRate = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k/s` : `${n.toFixed(0)} /s`;
const fmtMs = (n: number): string => (n >= 100 ? `${n.toFixed(0)} ms` : n >= 1 ? `${n.toFixed(2)} ms` : `${(n * 1000).toFixed(0)} µs`);
const fmtRatio = (n: number): string => (n >= 100 ? n.toFixed(0) : n >= 0.1 ? n.toFixed(2) : n.toExponential(2));
const iqrRate = (s: Summary): string => `${fmtRate(s.p25)} – ${fmtRate(s.p75)}`;
const iqrMs = (s: Summary): string => `${fmtMs(s.p25)} – ${fmtMs(s.p75)}`;
const range = (values: readonly number[]): string =>
  values.length === 0 ? '' : `${fmtRatio(Math.min(...values))} – ${fmtRatio(Math.max(...values))}`;

const rows: Row[] = [];
if (ids) {
  const t = ids.tasks;
  const base = `hrtime.bigint().toString() ${fmtRate(t.baseline.idsPerSecond.median)}`;
  rows.push({ scenario: 'ids', measured: 'raw: process.hrtime.bigint().toString()', median: fmtRate(t.baseline.idsPerSecond.median), spread: iqrRate(t.baseline.idsPerSecond), baseline: '(baseline)', ratio: '1', goal: '', met: '' });
  rows.push({ scenario: 'ids', measured: 'raw: (counter++).toString()', median: fmtRate(t.counter.idsPerSecond.median), spread: iqrRate(t.counter.idsPerSecond), baseline: base, ratio: fmtRatio(t.counter.idsPerSecond.median / t.baseline.idsPerSecond.median), goal: '', met: '' });
  const flakeidRate = t.flakeid.idsPerSecond.median;
  rows.push({
    scenario: 'ids',
    measured: 'flakeid gen()',
    median: fmtRate(flakeidRate),
    spread: iqrRate(t.flakeid.idsPerSecond),
    baseline: base,
    ratio: `${fmtRatio(flakeidRate / t.baseline.idsPerSecond.median)} (passes ${range(ids.passRatios.flakeidVsBaseline)})`,
    goal: `issue: ~${claimedFlakeidRate / 1000}k/s`,
    met: `${fmtRatio(flakeidRate / claimedFlakeidRate)}x the claim`,
  });
  rows.push({ scenario: 'ids', measured: 'troupe FlakeIdSource.next()', median: fmtRate(t.troupe.idsPerSecond.median), spread: iqrRate(t.troupe.idsPerSecond), baseline: base, ratio: `${fmtRatio(t.troupe.idsPerSecond.median / t.baseline.idsPerSecond.median)} (passes ${range(ids.passRatios.troupeVsBaseline)})`, goal: '', met: '' });
  rows.push({ scenario: 'ids', measured: 'troupe / flakeid', median: '', spread: '', baseline: `flakeid ${fmtRate(flakeidRate)}`, ratio: `${fmtRatio(t.troupe.idsPerSecond.median / flakeidRate)} (passes ${range(ids.passRatios.troupeVsFlakeid)})`, goal: '', met: '' });
}
if (throughput) {
  const add = (measured: string, f: ThroughputFigure) =>
    rows.push({
      scenario: 'commands',
      measured,
      median: fmtRate(f.runtime.median),
      spread: iqrRate(f.runtime),
      baseline: `raw fold ${fmtRate(f.raw.median)}`,
      ratio: `${fmtRatio(f.ratio.median)} (${range([f.ratio.p25, f.ratio.p75])})`,
      goal: '',
      met: '',
    });
  add(`1 actor, serial (${throughput.serial.commandsPerRound} awaited)`, throughput.serial);
  add(`1 actor, pipelined (${throughput.pipelined.window} in flight)`, throughput.pipelined);
  add(`${throughput.distinctCold.actors} actors, first command (cold)`, throughput.distinctCold);
  add(`${throughput.distinctWarm.actors} actors, later rounds (warm)`, throughput.distinctWarm);
}
if (resolution) {
  for (const c of resolution.cases) {
    rows.push({
      scenario: 'resolution',
      measured: `${c.history.toLocaleString('en-US')} events, ${c.role === 'origin' ? 'origin replica' : 'replicated copy'} (read ${c.packsVisited} + ${c.ancestorChainPacks} packs)`,
      median: fmtMs(c.ms.median),
      spread: iqrMs(c.ms),
      baseline: '',
      ratio: '',
      goal: '',
      met: c.mergedValue === c.expectedValue ? '' : `WRONG STATE ${c.mergedValue} != ${c.expectedValue}`,
    });
  }
  for (const role of ['origin', 'copy'] as const) {
    const r = resolution.ratios[role];
    rows.push({
      scenario: 'resolution',
      measured: `${role === 'origin' ? 'origin replica' : 'replicated copy'}: ${r.longest / 1000}k / ${r.shortest / 1000}k`,
      median: '',
      spread: '',
      baseline: `${r.shortest.toLocaleString('en-US')} events`,
      ratio: `${fmtRatio(r.ratio)} (passes ${range(r.passRatios)})`,
      goal: `<= ${resolutionGoal}`,
      met: r.ratio <= resolutionGoal ? 'yes' : 'NO',
    });
  }
}

if (redis) {
  const a = redis.append;
  const appendRow = (measured: string, f: typeof a.serial) =>
    rows.push({
      scenario: 'redis',
      measured,
      median: fmtRate(f.troupe.median),
      spread: iqrRate(f.troupe),
      baseline: `raw EVALSHA ${fmtRate(f.raw.median)}`,
      ratio: `${fmtRatio(f.ratio.median)} (${range([f.ratio.p25, f.ratio.p75])})`,
      goal: `>= ${redisAppendGoal}`,
      met: f.ratio.median >= redisAppendGoal ? 'yes' : 'NO',
    });
  appendRow(`append, 1 actor serial (${a.serial.appendsPerRound.toLocaleString('en-US')} awaited)`, a.serial);
  appendRow(`append, ${a.parallel.actors} actors in parallel (${a.parallel.appendsPerActor} each, serial)`, a.parallel);
  const r = redis.replay;
  const rawReplay = `raw LRANGE + unpack ${fmtMs(r.raw.median)}`;
  for (const v of r.variants) {
    const isDefault = v.chainPacksPerCall === r.defaultChainPacksPerCall;
    rows.push({
      scenario: 'redis',
      measured: `replay ${r.events.toLocaleString('en-US')} events: loadChain, chainPacksPerCall ${v.chainPacksPerCall.toLocaleString('en-US')}${isDefault ? ' (default)' : ''}, ${v.scriptCalls} call${v.scriptCalls === 1 ? '' : 's'}`,
      median: fmtMs(v.ms.median),
      spread: iqrMs(v.ms),
      baseline: rawReplay,
      ratio: `${fmtRatio(v.ratio.median)} (${range([v.ratio.p25, v.ratio.p75])})`,
      goal: isDefault ? `>= ${redisReplayGoal}` : '',
      met: isDefault ? (v.ratio.median >= redisReplayGoal ? 'yes' : 'NO') : '',
    });
  }
  const z = redis.size;
  const fmtB = (n: number) => `${n.toFixed(0)} B`;
  rows.push({ scenario: 'redis', measured: 'bytes per pack (1 event, 5 data fields): msgpack encoded', median: fmtB(z.msgpackBytes.median), spread: `${fmtB(z.msgpackBytes.p25)} – ${fmtB(z.msgpackBytes.p75)}`, baseline: `JSON ${fmtB(z.jsonBytes.median)}`, ratio: fmtRatio(z.msgpackBytes.median / z.jsonBytes.median), goal: '', met: '' });
  rows.push({ scenario: 'redis', measured: `MEMORY USAGE of the :p hash / ${z.packs.toLocaleString('en-US')} packs`, median: fmtB(z.msgpackHashBytesPerPack), spread: '', baseline: `JSON hash ${fmtB(z.jsonHashBytesPerPack)}`, ratio: fmtRatio(z.msgpackHashBytesPerPack / z.jsonHashBytesPerPack), goal: '', met: '' });
  rows.push({ scenario: 'redis', measured: 'all keys of the actor + its log entries / pack', median: fmtB(z.troupeAllKeysBytesPerPack), spread: '', baseline: `JSON hash ${fmtB(z.jsonHashBytesPerPack)}`, ratio: fmtRatio(z.troupeAllKeysBytesPerPack / z.jsonHashBytesPerPack), goal: '', met: '' });
}

if (sim) {
  for (const z of sim.sizes) {
    rows.push({
      scenario: 'sim',
      measured: `counter, 3 replicas, ${z.steps.toLocaleString('en-US')} steps (~${Math.round(z.commands.median).toLocaleString('en-US')} commands, ${z.runs.length} seeds, ${fmtMs(z.durationMs.median)} per run)`,
      median: fmtRate(z.simRate.median),
      spread: iqrRate(z.simRate),
      baseline: `1 runtime, same commands ${fmtRate(z.baselineRate.median)}`,
      ratio: `${fmtRatio(z.ratio.median)} (${range([z.ratio.p25, z.ratio.p75])})`,
      goal: `>= ${simRateGoal / 1000}k/s`,
      met: z.simRate.median >= simRateGoal ? 'yes' : 'NO',
    });
  }
  const first = sim.sizes[0]!;
  const last = sim.sizes[sim.sizes.length - 1]!;
  rows.push({ scenario: 'sim', measured: `rate at ${last.steps} steps / at ${first.steps} steps`, median: '', spread: '', baseline: `${first.steps} steps`, ratio: fmtRatio(sim.scaling), goal: 'flat (>= 0.8)', met: sim.scaling >= 0.8 ? 'yes' : 'NO' });
  for (const z of sim.sizes) {
    rows.push({ scenario: 'sim', measured: `RSS growth per 1,000 commands, ${z.steps} steps`, median: `${z.rssMiBPer1kCommands.median.toFixed(1)} MiB`, spread: `${z.rssMiBPer1kCommands.p25.toFixed(1)} – ${z.rssMiBPer1kCommands.p75.toFixed(1)} MiB`, baseline: '', ratio: '', goal: '', met: '' });
  }
  const x = sim.extrapolated1M;
  rows.push({ scenario: 'sim', measured: 'EXTRAPOLATED 1M-command run: RSS growth (linear / power law)', median: `${(x.rssMiBLinear / 1024).toFixed(1)} / ${(x.rssMiBPowerLaw / 1024).toFixed(0)} GiB`, spread: '', baseline: '', ratio: '', goal: '', met: '' });
  rows.push({ scenario: 'sim', measured: 'EXTRAPOLATED 1M-command run: wall time (largest rate / power law)', median: `${x.hoursAtLargestRate.toFixed(1)} / ${x.hoursPowerLaw.toFixed(0)} h`, spread: '', baseline: '', ratio: '', goal: '', met: '' });
}

if (bus) {
  const tp = (measured: string, f: BusThroughputFigure, goal: boolean) =>
    rows.push({
      scenario: 'bus',
      measured,
      median: fmtRate(f.troupe.median),
      spread: iqrRate(f.troupe),
      baseline: `raw amqplib ${fmtRate(f.raw.median)}`,
      ratio: `${fmtRatio(f.ratio.median)} (${range([f.ratio.p25, f.ratio.p75])})`,
      goal: goal ? `>= ${busThroughputGoal}` : '',
      met: goal ? (f.ratio.median >= busThroughputGoal ? 'yes' : 'NO') : '',
    });
  tp(`end to end, ${bus.window} in flight over ${bus.actors.toLocaleString('en-US')} actors, prefetch ${bus.defaultPrefetch} (default), ${bus.shards} shards`, bus.throughput, true);
  if (bus.throughputChild) tp('end to end, the same, worker in a child process', bus.throughputChild, false);
  const s = bus.serial;
  rows.push({
    scenario: 'bus',
    measured: `serial round trip, 1 client, p50 (${s.commandsPerRound} per round)`,
    median: fmtMs(s.troupeP50.median),
    spread: iqrMs(s.troupeP50),
    baseline: `raw req/reply + EVALSHA ${fmtMs(s.rawP50.median)}`,
    ratio: `${fmtRatio(s.ratioP50.median)} (${range([s.ratioP50.p25, s.ratioP50.p75])})`,
    goal: `<= ${busSerialP50Goal}`,
    met: s.ratioP50.median <= busSerialP50Goal ? 'yes' : 'NO',
  });
  rows.push({
    scenario: 'bus',
    measured: 'serial round trip, 1 client, p99',
    median: fmtMs(s.troupeP99.median),
    spread: iqrMs(s.troupeP99),
    baseline: `raw req/reply + EVALSHA ${fmtMs(s.rawP99.median)}`,
    ratio: `${fmtRatio(s.ratioP99.median)} (${range([s.ratioP99.p25, s.ratioP99.p75])})`,
    goal: '',
    met: '',
  });
  for (const p of bus.sweep.points) tp(`prefetch sweep: prefetch ${p.prefetch}${p.prefetch === bus.defaultPrefetch ? ' (default)' : ''}${p.prefetch === bus.sweep.bestPrefetch ? ' (best)' : ''}`, p, false);
}

const headers: Row = { scenario: 'scenario', measured: 'measured', median: 'median', spread: 'p25 – p75', baseline: 'baseline (median)', ratio: 'ratio (spread)', goal: 'goal', met: 'met' };
const keys = Object.keys(headers) as (keyof Row)[];
const widths = keys.map((k) => Math.max(headers[k].length, ...rows.map((r) => r[k].length)));
const line = (r: Row) => `| ${keys.map((k, i) => r[k].padEnd(widths[i]!)).join(' | ')} |`;
console.log();
console.log(line(headers));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
console.log();
if (ids) {
  console.log(`ids: flakeid and FlakeIdSource ids bit-compatible: ${ids.bitCompatible} (${ids.sampleIds.flakeid} vs ${ids.sampleIds.troupe}); ` +
    `FlakeIdSource's last id was ${ids.troupeLeadMs.map((l) => Math.round(l)).join(', ')} ms ahead of the wall clock at the end of each pass`);
}
if (resolution) {
  console.log(`resolution: history build ${Object.entries(resolution.buildSeconds).map(([h, s]) => `${h}: ${s.toFixed(1)} s`).join(', ')}; RSS after build ${Math.round(resolution.rssMiBAfterBuild)} MiB`);
}
if (redis) {
  const a = redis.append;
  const us = (n: number | undefined) => (n === undefined ? '?' : `${n.toFixed(1)} µs`);
  const srv = (t: { usecPerCall: number; phases?: number; phasesLeftOut?: number } | undefined) =>
    t ? `${t.usecPerCall.toFixed(1)} µs${t.phasesLeftOut ? ` (${t.phasesLeftOut}/${t.phases} phases left out: other clients)` : ''}` : '? (other clients ran EVALSHA in every phase)';
  for (const [name, f] of [['serial', a.serial], ['parallel', a.parallel]] as const) {
    console.log(`redis append ${name}: per append, troupe vs raw: Redis server ${srv(f.serverTroupe)} vs ${srv(f.serverRaw)} (EVALSHA, INFO commandstats), ` +
      `Node CPU ${us(f.clientCpuTroupe.median)} vs ${us(f.clientCpuRaw.median)}; wall ${us(1e6 / f.troupe.median)} vs ${us(1e6 / f.raw.median)}`);
  }
  const r = redis.replay;
  console.log(`redis replay of ${r.events} packs (${r.packBytes.median} B each): raw = LRANGE ${fmtMs(r.rawLrangeOnly.median)} (server ${r.serverLrange ? fmtMs(r.serverLrange.usecPerCall / 1000) : '?'}) + unpack ${fmtMs(r.rawUnpackOnly.median)}; ` +
    `store decodePack of the same buffers ${fmtMs(r.decodePackOnly.median)}; fold of the ${r.events} events ${fmtMs(r.foldOnly.median)} (not in the ratio); ` +
    `server time per loadChain: ${r.variants.map((v) => `${v.chainPacksPerCall}: ${v.server ? `${v.scriptCalls} x ${fmtMs(v.server.usecPerCall / 1000)}${v.server.phasesLeftOut ? ` (${v.server.phasesLeftOut}/${v.server.phases} left out)` : ''}` : '?'}`).join(', ')}`);
  const z = redis.size;
  console.log(`redis bytes: event data alone ${z.dataMsgpackBytes.median} B msgpack / ${z.dataJsonBytes.median} B JSON; :p hash encoding ${z.hashEncoding}; ` +
    `per pack by key: ${Object.entries(z.troupeKeyBytes).map(([k, v]) => `${k} ${(v / z.packs).toFixed(1)} B`).join(', ')}`);
}
if (sim) {
  console.log(`sim: every run ok (invariants held, no errors): ${sim.allOk}; duration ∝ commands^${sim.durationExponent.toFixed(2)} between the two largest sizes; ` +
    `divergences per run ${sim.sizes.map((z) => `${z.steps}: ${z.runs.map((r) => r.divergences).join('/')}`).join(', ')}`);
}
if (bus) {
  const s = bus.serial;
  const us = (n: number) => `${n.toFixed(0)} µs`;
  console.log(`bus: RabbitMQ ${bus.rabbitmqVersion}, Redis ${bus.redisVersion}; command message ${bus.messageBytes.troupe} B (troupe) / ${bus.messageBytes.raw} B (raw); ` +
    `Node CPU per command, troupe vs raw: throughput ${us(bus.throughput.cpuTroupe.median)} vs ${us(bus.throughput.cpuRaw.median)}` +
    `${bus.throughputChild ? ` (child-process worker: ${us(bus.throughputChild.cpuTroupe.median)}, both processes)` : ''}, serial ${us(s.cpuTroupe.median)} vs ${us(s.cpuRaw.median)}; ` +
    `serial pooled (${s.pooled.troupe.n} each): troupe p50 ${fmtMs(s.pooled.troupe.p50)} p99 ${fmtMs(s.pooled.troupe.p99)}, raw p50 ${fmtMs(s.pooled.raw.p50)} p99 ${fmtMs(s.pooled.raw.p99)}; ` +
    `best prefetch ${bus.sweep.bestPrefetch}; dead-lettered ${bus.deadLettered}`);
}
if (redisSkipped) console.error(redisSkippedLine(redisSkipped));
if (busSkipped) console.error(busSkippedLine(busSkipped));
console.log(`peak RSS ${peakRssMiB} MiB; RSS ${Object.entries(rssMiB).map(([k, v]) => `${k} ${v} MiB`).join(', ')}; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

// ---------------------------------------------------------------------------------------------
// JSON

const jsonReplacer = (_key: string, value: unknown) => (typeof value === 'bigint' ? String(value) : value);
const report = {
  date: startedAt.toISOString(),
  mode: quick ? 'quick' : 'full',
  commit: gitCommit(),
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
    busThroughputRatioMin: busThroughputGoal,
    busSerialP50RatioMax: busSerialP50Goal,
    busThroughputMet: bus ? bus.throughput.ratio.median >= busThroughputGoal : undefined,
    busSerialMet: bus ? bus.serial.ratioP50.median <= busSerialP50Goal : undefined,
    redisReplayMet: redis
      ? redis.replay.variants.find((v) => v.chainPacksPerCall === redis!.replay.defaultChainPacksPerCall)!.ratio.median >= redisReplayGoal
      : undefined,
  },
  ids,
  throughput,
  resolution,
  redis: redis ?? redisSkipped,
  sim,
  bus: bus ?? busSkipped,
  table: rows,
  sinks: [idSinkLength(), throughputSink()],
};
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, `${JSON.stringify(report, jsonReplacer, 2)}\n`);
console.log(`results written to ${outFile}`);
if (redisSkipped && process.env.CI === 'true') {
  console.error('redis scenario skipped under CI=true: failing the bench');
  process.exitCode = 1;
}
if (busSkipped && process.env.CI === 'true') {
  console.error('bus scenario skipped under CI=true: failing the bench');
  process.exitCode = 1;
}
