/**
 * The bench's table: one row per figure (median, spread, same-run baseline, ratio, goal, met),
 * printed as markdown so it can be pasted into BENCHMARKS.md as it is, and the notes printed
 * under it. The goals are those of the runtime, Redis, RabbitMQ and simulator issues.
 */
import type { BusResults, BusThroughputFigure } from './bus.js';
import type { CurvesResults } from './curves.js';
import type { IdResults } from './ids.js';
import type { PeerResults } from './peers.js';
import type { RedisResults } from './redis.js';
import type { RegionsResults } from './regions.js';
import type { ResolutionResults } from './resolution.js';
import type { RssPoint, RssResults } from './rss.js';
import type { SimMillionResult, SimResults } from './sim.js';
import type { Summary } from './stats.js';
import type { ThroughputFigure, ThroughputResults } from './throughput.js';
import type { PublicationResults } from './publication.js';
import type { ViewsResults } from './views.js';

/** The flakeid rate quoted in the issue, ids/s. */
export const claimedFlakeidRate = 80_000;
/** Resolution at the longest history / at the shortest, at most this. */
export const resolutionGoal = 1.5;
/** Redis store vs raw ioredis: appends/s at least this fraction of raw EVALSHA's, replay at least this fraction of raw LRANGE + unpack's speed. */
export const redisAppendGoal = 0.7;
export const redisReplayGoal = 0.5;
/** Simulated commands/s of @troupe/sim on memory stores, one core, every checker on (#17: 20k; the first issue's 100k was never in reach). */
export const simRateGoal = 20_000;
/** Peak RSS of the ~1M-command simulation (#17), GiB. */
export const simMillionRssGoalGiB = 4;
/** Heap + external held by the embedded runtime per live actor (#17), bytes. */
export const bytesPerLiveActorGoal = 1024;
/** RabbitMQ bus: end-to-end commands/s at least this fraction of raw amqplib's messages/s; serial p50 at most this multiple of raw request/reply + EVALSHA. */
export const busThroughputGoal = 0.5;
export const busSerialP50Goal = 2;
/**
 * Memory of the embedded runtime must stay bounded through passivation: what the runtime holds
 * after the most actors / after the fewest (all live, at the default liveActorsMax), at most this.
 * (The issue says "bounded"; 1.5 is this bench's reading of it, as for resolution.)
 */
export const rssBoundGoal = 1.5;
/**
 * Regions (#15 item 9): replication throughput at least this fraction of a raw pipelined copy of
 * the same bytes; time to converge per diverged actor at the most actors / at the fewest at most
 * `regionConvergenceGoal` (the issue says "linear"; 1.5 is this bench's reading, as for
 * resolution); replication lag p99 under a steady load below `regionLagP99GoalMs`.
 */
export const regionThroughputGoal = 0.5;
export const regionConvergenceGoal = 1.5;
export const regionLagP99GoalMs = 1_000;
/** Views (#16 item 8): a view's catch-up events/s at least this fraction of a raw fold of the same log (LRANGE + unpack, the same handlers and rows). */
export const viewCatchUpGoal = 0.5;
/** Event publication (#16 item 5): events/s from a store's log to a topic exchange with confirms, at least this fraction of raw amqplib publishing the same messages with confirms. */
export const publicationGoal = 0.5;

export interface Row {
  readonly scenario: string;
  readonly measured: string;
  readonly median: string;
  readonly spread: string;
  readonly baseline: string;
  readonly ratio: string;
  readonly goal: string;
  readonly met: string;
}

/** What a run measured (a scenario not run or skipped is undefined). */
export interface BenchResults {
  readonly ids?: IdResults;
  readonly throughput?: ThroughputResults;
  readonly resolution?: ResolutionResults;
  readonly redis?: RedisResults;
  readonly sim?: SimResults;
  readonly simMillion?: SimMillionResult;
  readonly bus?: BusResults;
  readonly curves?: CurvesResults;
  readonly peers?: PeerResults;
  readonly regions?: RegionsResults;
  readonly views?: ViewsResults;
  readonly publication?: PublicationResults;
}

export const fmtRate = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k/s` : `${n.toFixed(0)} /s`;
export const fmtMs = (n: number): string => (n >= 100 ? `${n.toFixed(0)} ms` : n >= 1 ? `${n.toFixed(2)} ms` : `${(n * 1000).toFixed(0)} µs`);
export const fmtRatio = (n: number): string => (n >= 100 ? n.toFixed(0) : n >= 0.1 ? n.toFixed(2) : n.toExponential(2));
export const iqrRate = (s: Summary): string => `${fmtRate(s.p25)} – ${fmtRate(s.p75)}`;
export const iqrMs = (s: Summary): string => `${fmtMs(s.p25)} – ${fmtMs(s.p75)}`;
export const range = (values: readonly number[]): string =>
  values.length === 0 ? '' : `${fmtRatio(Math.min(...values))} – ${fmtRatio(Math.max(...values))}`;

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const yesNo = (ok: boolean): string => (ok ? 'yes' : 'NO');

export function tableRows(results: BenchResults): Row[] {
  const { ids, throughput, resolution, redis, sim, simMillion, bus, curves, peers, regions, views, publication } = results;
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
        measured: `counter, 3 replicas, ${sim.actors.toLocaleString('en-US')} actors, ${z.steps.toLocaleString('en-US')} ticks x ${sim.commandsPerTick} client steps (~${Math.round(z.commands.median).toLocaleString('en-US')} commands, ${z.runs.length} seeds, ${fmtMs(z.durationMs.median)} per run)`,
        median: fmtRate(z.simRate.median),
        spread: iqrRate(z.simRate),
        baseline: `1 runtime, same commands ${fmtRate(z.baselineRate.median)}`,
        ratio: `${fmtRatio(z.ratio.median)} (${range([z.ratio.p25, z.ratio.p75])})`,
        goal: `>= ${simRateGoal / 1000}k/s`,
        met: z.simRate.median >= simRateGoal ? 'yes' : 'NO',
      });
    }
    // Results written before the phases were measured (retable.ts on an older file) have no such row.
    for (const z of sim.sizes.filter((size) => size.ticksRate !== undefined)) {
      rows.push({
        scenario: 'sim',
        measured: `${z.steps.toLocaleString('en-US')} ticks: the ticks alone (I8 views, I9 on; without converging, collecting, final checks: ${Math.round(100 * z.finalShare.median)} % of the run)`,
        median: fmtRate(z.ticksRate.median),
        spread: iqrRate(z.ticksRate),
        baseline: `1 runtime, same commands ${fmtRate(z.baselineRate.median)}`,
        ratio: fmtRatio(z.ticksRate.median / z.baselineRate.median),
        goal: '',
        met: '',
      });
    }
    const first = sim.sizes[0]!;
    const last = sim.sizes[sim.sizes.length - 1]!;
    rows.push({ scenario: 'sim', measured: `rate at ${last.steps} steps / at ${first.steps} steps`, median: '', spread: '', baseline: `${first.steps} steps`, ratio: fmtRatio(sim.scaling), goal: 'flat (>= 0.8)', met: sim.scaling >= 0.8 ? 'yes' : 'NO' });
    for (const z of sim.sizes) {
      rows.push({ scenario: 'sim', measured: `RSS growth per 1,000 commands, ${z.steps} steps`, median: `${z.rssMiBPer1kCommands.median.toFixed(1)} MiB`, spread: `${z.rssMiBPer1kCommands.p25.toFixed(1)} – ${z.rssMiBPer1kCommands.p75.toFixed(1)} MiB`, baseline: '', ratio: '', goal: '', met: '' });
    }
  }
  if (simMillion) {
    const m = simMillion;
    const o = m.options;
    const shape = `counter, 3 replicas, ${o.actors.toLocaleString('en-US')} actors, ${o.steps.toLocaleString('en-US')} ticks x ${o.commandsPerTick} client steps`;
    rows.push({
      scenario: 'sim-1m',
      measured: `${shape}: ${m.commands.toLocaleString('en-US')} commands, ${m.divergences.toLocaleString('en-US')} divergences, ${m.merges.toLocaleString('en-US')} merges, ${m.ok ? 'every invariant held' : `${m.violations} VIOLATIONS`} (${(m.durationMs / 60_000).toFixed(1)} min, checkers ${(m.checkMs / 60_000).toFixed(1)} min)`,
      median: fmtRate(m.simRate),
      spread: `ticks alone ${fmtRate(m.ticksRate)}`,
      baseline: `1 runtime, same workload ${fmtRate(m.baselineRate)}`,
      ratio: `${fmtRatio(m.simRate / m.baselineRate)} (ticks alone ${fmtRatio(m.ticksRate / m.baselineRate)})`,
      goal: `>= ${simRateGoal / 1000}k/s`,
      met: m.simRate >= simRateGoal ? 'yes' : 'NO',
    });
    rows.push({
      scenario: 'sim-1m',
      measured: 'the same run: peak RSS of its process (at the end of the ticks; live heap after a full GC there)',
      median: `${(m.peakRssMiB / 1024).toFixed(2)} GiB`,
      spread: `${(m.peakRssAtEndOfTicksMiB / 1024).toFixed(2)} GiB; live ${(m.liveHeapAtEndOfTicksMiB / 1024).toFixed(2)} GiB`,
      baseline: '',
      ratio: '',
      goal: `<= ${simMillionRssGoalGiB} GiB`,
      met: m.ok && m.peakRssMiB / 1024 <= simMillionRssGoalGiB ? 'yes' : 'NO',
    });
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
  rows.push(...curveRows(curves));
  rows.push(...peerRows(peers));
  rows.push(...regionRows(regions));
  rows.push(...viewRows(views));
  rows.push(...publicationRows(publication));
  return rows;
}

/** The `.md` written beside a results JSON: its first line, the table, the notes. */
export function markdownReport(firstLine: string, table: string, results: BenchResults): string {
  return `${firstLine}\n\n${table}\n\n${noteLines(results).map((l) => `- ${l}`).join('\n')}\n`;
}

/** Lines printed under the table: what the rows do not show. */
export function noteLines(results: BenchResults): string[] {
  const { ids, resolution, redis, sim, bus, curves, peers, regions, views, publication } = results;
  const lines: string[] = [];
  if (ids) {
    lines.push(`ids: flakeid and FlakeIdSource ids bit-compatible: ${ids.bitCompatible} (${ids.sampleIds.flakeid} vs ${ids.sampleIds.troupe}); ` +
      `FlakeIdSource's last id was ${ids.troupeLeadMs.map((l) => Math.round(l)).join(', ')} ms ahead of the wall clock at the end of each pass`);
  }
  if (resolution) {
    lines.push(`resolution: history build ${Object.entries(resolution.buildSeconds).map(([h, s]) => `${h}: ${s.toFixed(1)} s`).join(', ')}; RSS after build ${Math.round(resolution.rssMiBAfterBuild)} MiB`);
  }
  if (redis) {
    const a = redis.append;
    const us = (n: number | undefined) => (n === undefined ? '?' : `${n.toFixed(1)} µs`);
    const srv = (t: { usecPerCall: number; phases?: number; phasesLeftOut?: number } | undefined) =>
      t ? `${t.usecPerCall.toFixed(1)} µs${t.phasesLeftOut ? ` (${t.phasesLeftOut}/${t.phases} phases left out: other clients)` : ''}` : '? (other clients ran EVALSHA in every phase)';
    for (const [name, f] of [['serial', a.serial], ['parallel', a.parallel]] as const) {
      lines.push(`redis append ${name}: per append, troupe vs raw: Redis server ${srv(f.serverTroupe)} vs ${srv(f.serverRaw)} (EVALSHA, INFO commandstats), ` +
        `Node CPU ${us(f.clientCpuTroupe.median)} vs ${us(f.clientCpuRaw.median)}; wall ${us(1e6 / f.troupe.median)} vs ${us(1e6 / f.raw.median)}`);
    }
    const r = redis.replay;
    lines.push(`redis replay of ${r.events} packs (${r.packBytes.median} B each): raw = LRANGE ${fmtMs(r.rawLrangeOnly.median)} (server ${r.serverLrange ? fmtMs(r.serverLrange.usecPerCall / 1000) : '?'}) + unpack ${fmtMs(r.rawUnpackOnly.median)}; ` +
      `store decodePack of the same buffers ${fmtMs(r.decodePackOnly.median)}; fold of the ${r.events} events ${fmtMs(r.foldOnly.median)} (not in the ratio); ` +
      `server time per loadChain: ${r.variants.map((v) => `${v.chainPacksPerCall}: ${v.server ? `${v.scriptCalls} x ${fmtMs(v.server.usecPerCall / 1000)}${v.server.phasesLeftOut ? ` (${v.server.phasesLeftOut}/${v.server.phases} left out)` : ''}` : '?'}`).join(', ')}`);
    const z = redis.size;
    lines.push(`redis bytes: event data alone ${z.dataMsgpackBytes.median} B msgpack / ${z.dataJsonBytes.median} B JSON; :p hash encoding ${z.hashEncoding}; ` +
      `per pack by key: ${Object.entries(z.troupeKeyBytes).map(([k, v]) => `${k} ${(v / z.packs).toFixed(1)} B`).join(', ')}`);
  }
  if (sim) {
    lines.push(`sim: every run ok (invariants held, no errors): ${sim.allOk}; duration ∝ commands^${sim.durationExponent.toFixed(2)} between the two largest sizes; ` +
      `divergences per run ${sim.sizes.map((z) => `${z.steps}: ${z.runs.map((r) => r.divergences).join('/')}`).join(', ')}`);
  }
  if (bus) {
    const s = bus.serial;
    const us = (n: number) => `${n.toFixed(0)} µs`;
    lines.push(`bus: RabbitMQ ${bus.rabbitmqVersion}, Redis ${bus.redisVersion}; command message ${bus.messageBytes.troupe} B (troupe) / ${bus.messageBytes.raw} B (raw); ` +
      `Node CPU per command, troupe vs raw: throughput ${us(bus.throughput.cpuTroupe.median)} vs ${us(bus.throughput.cpuRaw.median)}` +
      `${bus.throughputChild ? ` (child-process worker: ${us(bus.throughputChild.cpuTroupe.median)}, both processes)` : ''}, serial ${us(s.cpuTroupe.median)} vs ${us(s.cpuRaw.median)}; ` +
      `serial pooled (${s.pooled.troupe.n} each): troupe p50 ${fmtMs(s.pooled.troupe.p50)} p99 ${fmtMs(s.pooled.troupe.p99)}, raw p50 ${fmtMs(s.pooled.raw.p50)} p99 ${fmtMs(s.pooled.raw.p99)}; ` +
      `best prefetch ${bus.sweep.bestPrefetch}; dead-lettered ${bus.deadLettered}`);
  }
  lines.push(...curveNotes(curves));
  if (peers) {
    lines.push(`peers: versions ${Object.entries(peers.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    for (const note of peers.notes) lines.push(`peers: ${note}`);
  }
  lines.push(...regionNotes(regions));
  lines.push(...viewNotes(views));
  lines.push(...publicationNotes(publication));
  return lines;
}

/** The rows as a markdown table, columns padded. */
export function markdownTable(rows: readonly Row[]): string {
  const headers: Row = { scenario: 'scenario', measured: 'measured', median: 'median', spread: 'p25 – p75', baseline: 'baseline (median)', ratio: 'ratio (spread)', goal: 'goal', met: 'met' };
  const keys = Object.keys(headers) as (keyof Row)[];
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const widths = keys.map((k) => Math.max(headers[k].length, ...rows.map((r) => cell(r[k]).length)));
  const line = (r: Row) => `| ${keys.map((k, i) => cell(r[k]).padEnd(widths[i]!)).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/**
 * What the runtime holds at the most actors / at the fewest that already reach liveActorsMax (all
 * live): flat when passivation keeps it bounded.
 */
export function rssBound(r: RssResults): { readonly ratio: number; readonly lo: RssPoint; readonly hi: RssPoint } | undefined {
  const lo = r.points.find((p) => p.actors >= r.liveActorsMax) ?? r.points[0];
  const hi = r.points[r.points.length - 1];
  if (!lo || !hi || lo === hi) return undefined;
  return { ratio: hi.runtime.runtimeBytes / lo.runtime.runtimeBytes, lo, hi };
}

function curveRows(curves: CurvesResults | undefined): Row[] {
  const rows: Row[] = [];
  if (!curves) return rows;
  const c = curves.concurrency;
  if (!c.skipped) {
    for (const p of c.points) {
      rows.push({
        scenario: 'curve: concurrency',
        measured: `end to end, ${p.window} in flight over ${p.actors} actor${p.actors === 1 ? '' : 's'} (${p.commands.toLocaleString('en-US')} commands/round)`,
        median: fmtRate(p.troupe.median),
        spread: iqrRate(p.troupe),
        baseline: `raw amqplib ${fmtRate(p.raw.median)}`,
        ratio: `${fmtRatio(p.ratio.median)} (${range([p.ratio.p25, p.ratio.p75])})`,
        goal: `>= ${busThroughputGoal}`,
        met: yesNo(p.ratio.median >= busThroughputGoal),
      });
    }
  }
  const l = curves.load;
  if (!l.skipped) {
    for (const p of l.points) {
      const raw = `raw LRANGE + unpack + fold ${fmtMs(p.raw.median)}`;
      const goal = p.events === 10_000;
      rows.push({
        scenario: 'curve: load',
        measured: `load ${p.events.toLocaleString('en-US')} events, no snapshot (${p.plain.packsRead.toLocaleString('en-US')} packs read)`,
        median: fmtMs(p.plain.ms.median),
        spread: iqrMs(p.plain.ms),
        baseline: raw,
        ratio: `${fmtRatio(p.plain.ratio.median)} (${range([p.plain.ratio.p25, p.plain.ratio.p75])})`,
        goal: goal ? `>= ${redisReplayGoal}` : '',
        met: goal ? yesNo(p.plain.ratio.median >= redisReplayGoal) : '',
      });
      rows.push({
        scenario: 'curve: load',
        measured: `load ${p.events.toLocaleString('en-US')} events, snapshots every ${l.snapshotEvery} (snapshot + ${p.snapshot.packsRead} packs read)`,
        median: fmtMs(p.snapshot.ms.median),
        spread: iqrMs(p.snapshot.ms),
        baseline: raw,
        ratio: `${fmtRatio(p.snapshot.ratio.median)} (${range([p.snapshot.ratio.p25, p.snapshot.ratio.p75])})`,
        goal: '',
        met: '',
      });
    }
    if (l.points.length > 1) {
      const lo = l.points[0]!;
      const hi = l.points[l.points.length - 1]!;
      rows.push({
        scenario: 'curve: load',
        measured: `with snapshots: load at ${hi.events.toLocaleString('en-US')} / at ${lo.events.toLocaleString('en-US')} events`,
        median: '',
        spread: '',
        baseline: `${lo.events.toLocaleString('en-US')} events ${fmtMs(lo.snapshot.ms.median)}`,
        ratio: fmtRatio(hi.snapshot.ms.median / lo.snapshot.ms.median),
        goal: '',
        met: '',
      });
    }
  }
  const r = curves.rss;
  for (const p of r.points) {
    rows.push({
      scenario: 'curve: memory',
      measured: `${p.actors.toLocaleString('en-US')} actors, 1 command each: RSS after GC (runtime on a store that keeps nothing; ${p.runtime.liveActors.toLocaleString('en-US')} live at the end)`,
      median: mib(p.runtime.rss),
      spread: '',
      baseline: `raw fold Map, RSS ${mib(p.raw.rss)}`,
      ratio: fmtRatio(p.runtime.rss / p.raw.rss),
      goal: '',
      met: '',
    });
    rows.push({
      scenario: 'curve: memory',
      measured: `${p.actors.toLocaleString('en-US')} actors: heap + external held by the runtime (${Math.round(p.runtime.commandsPerSecond).toLocaleString('en-US')} cmd/s)`,
      median: mib(p.runtime.runtimeBytes),
      spread: '',
      baseline: `raw fold Map ${mib(p.raw.mapBytes)}`,
      ratio: fmtRatio(p.runtime.runtimeBytes / p.raw.mapBytes),
      goal: '',
      met: '',
    });
    const perActor = p.runtime.runtimeBytes / p.runtime.liveActors;
    rows.push({
      scenario: 'curve: memory',
      measured: `${p.actors.toLocaleString('en-US')} actors: held by the runtime per live actor (${p.runtime.liveActors.toLocaleString('en-US')} live)`,
      median: `${Math.round(perActor).toLocaleString('en-US')} B`,
      spread: '',
      baseline: `raw fold Map ${Math.round(p.raw.mapBytes / p.actors).toLocaleString('en-US')} B per actor`,
      ratio: fmtRatio(perActor / (p.raw.mapBytes / p.actors)),
      goal: `<= ${bytesPerLiveActorGoal} B`,
      met: yesNo(perActor <= bytesPerLiveActorGoal),
    });
    if (p.memory) {
      rows.push({
        scenario: 'curve: memory',
        measured: `${p.actors.toLocaleString('en-US')} actors on a MemoryStore: held by the runtime / by the store (RSS ${mib(p.memory.rss)})`,
        median: `${mib(p.memory.runtimeBytes)} / ${mib(p.memory.storeBytes)}`,
        spread: '',
        baseline: `raw fold Map ${mib(p.raw.mapBytes)}`,
        ratio: fmtRatio((p.memory.runtimeBytes + p.memory.storeBytes) / p.raw.mapBytes),
        goal: '',
        met: '',
      });
    }
  }
  const bound = rssBound(r);
  if (bound) {
    const { lo, hi, ratio } = bound;
    rows.push({
      scenario: 'curve: memory',
      measured: `held by the runtime at ${hi.actors.toLocaleString('en-US')} / at ${lo.actors.toLocaleString('en-US')} actors (liveActorsMax ${r.liveActorsMax.toLocaleString('en-US')})`,
      median: '',
      spread: '',
      baseline: `${lo.actors.toLocaleString('en-US')} actors ${mib(lo.runtime.runtimeBytes)}`,
      ratio: fmtRatio(ratio),
      goal: `bounded: <= ${rssBoundGoal}`,
      met: yesNo(ratio <= rssBoundGoal),
    });
  }
  return rows;
}

function curveNotes(curves: CurvesResults | undefined): string[] {
  if (!curves) return [];
  const lines: string[] = [];
  const c = curves.concurrency;
  if (!c.skipped) {
    lines.push(`curves: concurrency: prefetch ${c.prefetch}, ${c.shards} shards, ${c.rounds} rounds; deleted ${c.cleanup.queues} queues, ${c.cleanup.exchanges} exchanges, ${c.cleanup.redisKeys} Redis keys; dead-lettered ${c.cleanup.deadLettered}`);
  }
  if (!curves.load.skipped) {
    lines.push(`curves: load: chains written in ${curves.load.points.map((p) => `${p.events}: ${p.writeSeconds.toFixed(1)} s`).join(', ')}; ${curves.load.keysDeleted} keys deleted`);
  }
  for (const p of curves.rss.points) {
    const rt = p.runtime;
    lines.push(
      `curves: memory ${p.actors}: runtime child ${rt.seconds.toFixed(1)} s, peak RSS ${mib(rt.maxRss)}, heap ${mib(rt.heapUsed)}, external ${mib(rt.external)}, floor ${mib(rt.floorBytes)}; ` +
        `raw child ${(p.raw.seconds * 1000).toFixed(0)} ms, peak RSS ${mib(p.raw.maxRss)}` +
        (p.memory ? `; MemoryStore child ${p.memory.seconds.toFixed(1)} s (${Math.round(p.memory.commandsPerSecond)} cmd/s), peak RSS ${mib(p.memory.maxRss)}` : ''),
    );
  }
  return lines;
}

/**
 * #17: troupe at least as fast as the peer on every peer workload, and at least 10 × Emmett on one
 * embedded stream of 10,000 events (Emmett re-reads the stream per command, troupe keeps its state).
 */
export const peerGoal = (measured: string): number => (/^embedded, 1 stream of 10,000/.test(measured) ? peerLongStreamGoal : peerGoalDefault);
export const peerGoalDefault = 1;
export const peerLongStreamGoal = 10;

function peerRows(peers: PeerResults | undefined): Row[] {
  if (!peers) return [];
  return peers.figures.map((f): Row => {
    const value = (s: Summary) => (f.unit === 'rate' ? fmtRate(s.median) : fmtMs(s.median));
    const ratio = (s: Summary) => `${fmtRatio(s.median)} (${range([s.p25, s.p75])})`;
    const goal = peerGoal(f.measured);
    return {
      scenario: 'peers',
      measured: f.measured,
      median: value(f.troupe),
      spread: f.unit === 'rate' ? iqrRate(f.troupe) : iqrMs(f.troupe),
      baseline: `${f.peer.name} ${value(f.peer.summary)}; ${f.baseline.name} ${value(f.baseline.summary)}`,
      ratio: `vs peer ${ratio(f.ratioVsPeer)}; vs baseline ${ratio(f.ratioVsBaseline)}`,
      goal: `vs peer >= ${goal}`,
      met: yesNo(f.ratioVsPeer.median >= goal),
    };
  });
}

const fmtSeconds = (ms: number): string => (ms >= 1_000 ? `${(ms / 1_000).toFixed(2)} s` : fmtMs(ms));

/** Convergence time per actor at the most diverged actors / at the fewest (linear: about 1). */
export function regionConvergenceScaling(r: RegionsResults): number | undefined {
  const points = r.convergence;
  if (points.length < 2) return undefined;
  return points[points.length - 1]!.msPerActor / points[0]!.msPerActor;
}

function regionRows(r: RegionsResults | undefined): Row[] {
  if (!r) return [];
  const rows: Row[] = [];
  const t = r.throughput;
  for (const f of t.figures) {
    const goal = f.batchSize === t.defaultBatchSize;
    rows.push({
      scenario: 'regions',
      measured: `replication throughput: full copy of ${t.packs.toLocaleString('en-US')} packs (${t.actors.toLocaleString('en-US')} accounts) into an empty region, Replicator batchSize ${f.batchSize}${goal ? ' (default)' : ''}`,
      median: fmtRate(f.troupe.median),
      spread: iqrRate(f.troupe),
      baseline: `raw pipelined copy of the bytes ${fmtRate(f.raw.median)}`,
      ratio: `${fmtRatio(f.ratio.median)} (${range([f.ratio.p25, f.ratio.p75])})`,
      goal: goal ? `>= ${regionThroughputGoal}` : '',
      met: goal ? yesNo(f.ratio.median >= regionThroughputGoal) : '',
    });
  }
  const first = r.convergence[0];
  for (const [i, p] of r.convergence.entries()) {
    const last = i === r.convergence.length - 1 && i > 0;
    rows.push({
      scenario: 'regions',
      measured: `converge after a heal: ${p.actors.toLocaleString('en-US')} diverged actors, ${p.packsPerRegion.toLocaleString('en-US')} packs written in each region during the cut (both directions, every actor merged)`,
      median: fmtSeconds(p.healMs),
      spread: `${p.msPerActor.toFixed(2)} ms per actor`,
      baseline: first && i > 0 ? `per actor at ${first.actors.toLocaleString('en-US')}: ${first.msPerActor.toFixed(2)} ms` : '(baseline: per actor)',
      ratio: first ? fmtRatio(p.msPerActor / first.msPerActor) : '',
      goal: last ? `linear: <= ${regionConvergenceGoal}` : '',
      met: last ? yesNo(p.msPerActor / first!.msPerActor <= regionConvergenceGoal) : '',
    });
  }
  for (const p of r.lag.phases) {
    rows.push({
      scenario: 'regions',
      measured: `replication lag p99, ${r.lag.rate} deposits/s for ${r.lag.seconds} s in region A (${p.copier}, idle wait ${p.idleMs} ms, ${p.commands.toLocaleString('en-US')} packs)`,
      median: fmtMs(p.troupe.p99),
      spread: `p50 ${fmtMs(p.troupe.p50)}, p90 ${fmtMs(p.troupe.p90)}`,
      baseline: `raw polling copy p99 ${fmtMs(p.raw.p99)} (p50 ${fmtMs(p.raw.p50)})`,
      ratio: fmtRatio(p.troupe.p99 / p.raw.p99),
      goal: `p99 < ${regionLagP99GoalMs / 1000} s`,
      met: yesNo(p.troupe.p99 < regionLagP99GoalMs),
    });
  }
  return rows;
}

function regionNotes(r: RegionsResults | undefined): string[] {
  if (!r) return [];
  const lines: string[] = [];
  const ms = (n: number) => `${Math.round(n)} ms`;
  const server = (m: Readonly<Record<string, number>>) =>
    Object.entries(m)
      .sort((x, y) => y[1] - x[1])
      .slice(0, 6)
      .map(([k, v]) => `${k} ${ms(v)}`)
      .join(', ');
  lines.push(`regions: redis-server ${r.redisVersion} x2 (throw-away, one per region); a bank pack is ${r.samplePackBytes} B encoded; throughput set-up ${r.throughput.setupSeconds.toFixed(1)} s`);
  for (const f of r.throughput.figures) {
    const p = f.phases;
    lines.push(
      `regions: copy at batchSize ${f.batchSize}, troupe, per copy (medians): wall ${ms((r.throughput.packs / f.troupe.median) * 1000)}; ` +
        `changesSince ${ms(p.changesSinceMs.median)} in flight (${p.troupeCalls.changesSince ?? '?'} calls), ${ms(p.changesSinceExposedMs.median)} of it not behind a merge (the next batch is read while one merges); ` +
        `merge ${ms(p.mergeMs.median)} (${p.troupeCalls.merge ?? '?'} calls), heads checks ${ms(p.headsMs.median)} (${p.troupeCalls.heads ?? 0} calls; ${p.divergedReported < 0 ? 'the merges did not report diverged actors' : `${p.divergedReported} actors reported diverged by the merges`}), ` +
        `checkpoint ${ms(p.checkpointMs.median)}, the rest (replicator between calls) ${ms(p.otherMs.median)}; Node CPU per copy ${ms(p.clientCpuMs.troupe.median)} (raw ${ms(p.clientCpuMs.raw.median)}); client codec alone on the same packs: decodePack ${ms(p.decodeMs)}, encodePack ${ms(p.encodeMs)}; ` +
        `Redis server time (INFO commandstats, commands inside scripts counted in the script and again on their own): ${server(p.serverMs)}; ` +
        `of B's EVALSHA, heads ${p.headsServerUs.median.toFixed(1)} µs per call (measured apart) x ${p.troupeCalls.heads ?? 0} = ${ms((p.headsServerUs.median * (p.troupeCalls.heads ?? 0)) / 1000)}, ` +
        `so the merge script ≈ ${ms((p.serverMs['B evalsha'] ?? 0) - (p.headsServerUs.median * (p.troupeCalls.heads ?? 0)) / 1000)}; raw copy (${p.troupeCalls.rawPipelines ?? '?'} round trips): ${server(p.serverRawMs)}`,
    );
  }
  for (const p of r.convergence) {
    lines.push(
      `regions: converge ${p.actors}: ${p.rounds} rounds, copied A→B ${p.copied.aToB}, B→A ${p.copied.bToA}, merges written by A ${p.resolved.a}, by B ${p.resolved.b}; ` +
        `store calls per actor (both regions): ${Object.entries(p.storeCallsPerActor).map(([k, v]) => `${k} ${v.calls} (${v.ms} ms)`).join(', ')}; set-up ${p.setupSeconds.toFixed(1)} s, check ${p.checkSeconds.toFixed(1)} s`,
    );
  }
  for (const p of r.lag.phases) {
    lines.push(
      `regions: lag, idle wait ${p.idleMs} ms: ${p.achievedRate.toFixed(0)} deposits/s achieved; troupe ${p.syncs} syncs, ${p.batches} batches, max ${fmtMs(p.troupe.max)}; ` +
        `until troupe's batch callback (heads checks, checkpoint, frontier entry done): p50 ${fmtMs(p.troupeBatch.p50)}, p99 ${fmtMs(p.troupeBatch.p99)}; raw ${p.rawPolls} polls, max ${fmtMs(p.raw.max)}`,
    );
  }
  return lines;
}

function viewRows(v: ViewsResults | undefined): Row[] {
  if (!v) return [];
  const c = v.catchUp;
  const rows: Row[] = [];
  const what = `${c.events.toLocaleString('en-US')} events (${c.accounts.toLocaleString('en-US')} accounts x ${(c.events / c.accounts).toFixed(0)}, ${c.rowKeys.toLocaleString('en-US')} owners), batch ${c.batchSize}`;
  for (const [name, side, ratio] of [
    ['MemoryView', c.memory, c.ratioMemory],
    ['RedisView', c.redis, c.ratioRedis],
  ] as const) {
    rows.push({
      scenario: 'views',
      measured: `catch-up of a ${name} of balancesByOwner from nothing: ${what}`,
      median: fmtRate(side.rate.median),
      spread: iqrRate(side.rate),
      baseline: `raw fold (LRANGE + HGET + unpack, handlers, rows) ${fmtRate(c.raw.rate.median)}`,
      ratio: `${fmtRatio(ratio.median)} (${range([ratio.p25, ratio.p75])})`,
      goal: `>= ${viewCatchUpGoal}`,
      met: yesNo(ratio.median >= viewCatchUpGoal),
    });
  }
  const l = v.latency;
  for (const q of ['p50', 'p99'] as const) {
    rows.push({
      scenario: 'views',
      measured: `latency ${q}, append (reply) to a MemoryView subscriber told: ${l.rate} deposits/s for ${l.seconds} s, start() polling every ${l.pollMs} ms (the floor), ${l.deposits.toLocaleString('en-US')} deposits`,
      median: fmtMs(l.memory[q]),
      spread: q === 'p50' ? `p90 ${fmtMs(l.memory.p90)}` : `max ${fmtMs(l.memory.max)}`,
      baseline: `raw polling reader ${q} ${fmtMs(l.raw[q])}`,
      ratio: fmtRatio(l.memory[q] / l.raw[q]),
      goal: '',
      met: '',
    });
  }
  return rows;
}

function viewNotes(v: ViewsResults | undefined): string[] {
  if (!v) return [];
  const c = v.catchUp;
  const ms = (n: number) => `${Math.round(n)} ms`;
  const calls = (r: Readonly<Record<string, { calls: number; ms: number }>>) =>
    Object.entries(r).map(([k, x]) => `${k} ${x.calls} x ${ms(x.ms)}`).join(', ');
  const server = (m: Readonly<Record<string, number>>) =>
    Object.entries(m)
      .sort((x, y) => y[1] - x[1])
      .slice(0, 6)
      .map(([k, x]) => `${k} ${ms(x)}`)
      .join(', ');
  const wall = (rate: number) => ms((c.events / rate) * 1000);
  const lines = [
    `views: redis-server ${v.redisVersion} (throw-away); a bank pack is ${c.packBytes} B encoded; catch-up set-up ${c.setupSeconds.toFixed(1)} s; per catch-up (medians): ` +
      `raw ${wall(c.raw.rate.median)} (${c.raw.roundTrips ?? '?'} round trips, Node CPU ${ms(c.raw.cpuMs.median)}; server ${server(c.raw.serverMs)})`,
    `views: MemoryView catch-up ${wall(c.memory.rate.median)}: store calls ${calls(c.memory.storeCalls)} (awaited one by one); Node CPU ${ms(c.memory.cpuMs.median)}; server ${server(c.memory.serverMs)}`,
    `views: RedisView catch-up ${wall(c.redis.rate.median)}: store calls ${calls(c.redis.storeCalls)} (heads and loads up to 32 in flight: their ms overlap); Node CPU ${ms(c.redis.cpuMs.median)}; server ${server(c.redis.serverMs)}`,
  ];
  const l = v.latency;
  lines.push(
    `views: latency at ${l.achievedRate.toFixed(0)} deposits/s achieved: MemoryView p50 ${fmtMs(l.memory.p50)}, p90 ${fmtMs(l.memory.p90)}, p99 ${fmtMs(l.memory.p99)}, max ${fmtMs(l.memory.max)} ` +
      `(from send: p50 ${fmtMs(l.memoryFromSend.p50)}, p99 ${fmtMs(l.memoryFromSend.p99)}; ${l.notifications} notifications); raw reader p50 ${fmtMs(l.raw.p50)}, p90 ${fmtMs(l.raw.p90)}, p99 ${fmtMs(l.raw.p99)} (${l.rawPolls} polls); ` +
      `the appends themselves p50 ${fmtMs(l.append.p50)}, p99 ${fmtMs(l.append.p99)}; poll interval ${l.pollMs} ms: a deposit waits up to that for the next poll`,
  );
  return lines;
}

function publicationRows(p: PublicationResults | undefined): Row[] {
  if (!p) return [];
  return [
    {
      scenario: 'publication',
      measured: `startPublisher: ${p.events.toLocaleString('en-US')} events of a Redis store's log to a topic exchange (durable queue bound to #), confirms per batch of ${p.batchSize}, position saved`,
      median: fmtRate(p.troupe.median),
      spread: iqrRate(p.troupe),
      baseline: `raw amqplib, same messages, confirms per ${p.batchSize} ${fmtRate(p.raw.median)}`,
      ratio: `${fmtRatio(p.ratio.median)} (${range([p.ratio.p25, p.ratio.p75])})`,
      goal: `>= ${publicationGoal}`,
      met: yesNo(p.ratio.median >= publicationGoal),
    },
  ];
}

function publicationNotes(p: PublicationResults | undefined): string[] {
  if (!p) return [];
  const ms = (n: number) => `${Math.round(n)} ms`;
  return [
    `publication: RabbitMQ ${p.rabbitmqVersion}, redis-server ${p.redisVersion} (throw-away); message body ${p.bodyBytes} B (median); set-up ${p.setupSeconds.toFixed(1)} s; per publication of ${p.events.toLocaleString('en-US')} events (medians): ` +
      `troupe ${ms((p.events / p.troupe.median) * 1000)} in ${p.batches} batches, store calls ${Object.entries(p.storeCalls).map(([k, x]) => `${k} ${x.calls} x ${ms(x.ms)}`).join(', ')} (the next batch is read while the broker confirms one: reads overlap the waits), Node CPU ${ms(p.cpuMs.troupe.median)}; ` +
      `raw ${ms((p.events / p.raw.median) * 1000)}, of which waiting for confirms ${ms(p.rawConfirmWaitMs.median)}, Node CPU ${ms(p.cpuMs.raw.median)}`,
  ];
}
