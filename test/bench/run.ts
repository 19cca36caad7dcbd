/**
 * troupe benchmarks: `npm run bench` (full, a few minutes at most) or `npm run bench -- --quick`.
 * Options: --quick, --only=ids,throughput,resolution, --out=<file> (default bench/results/latest.json).
 *
 * Every figure is reported next to a raw baseline measured in the same run, and as a ratio to it:
 * the machine is shared and noisy, so absolute numbers alone mean little.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchIds, idSinkLength, type IdResults } from './ids.js';
import { benchResolution, type ResolutionResults } from './resolution.js';
import type { Summary } from './stats.js';
import { benchThroughput, throughputSink, type ThroughputFigure, type ThroughputResults } from './throughput.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const hit = args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  return hit === undefined ? undefined : (hit.split('=')[1] ?? '');
};
const quick = flag('quick') !== undefined;
const only = new Set((flag('only') || 'ids,throughput,resolution').split(','));
const outFile = resolve(flag('out') || resolve(here, 'results/latest.json'));

/** The flakeid rate quoted in the issue, ids/s. */
const claimedFlakeidRate = 80_000;
const resolutionGoal = 1.5;

const config = quick
  ? {
      ids: { passes: 2, timeMs: 200 },
      throughput: { rounds: 5, serialCommands: 5_000, pipelinedCommands: 10_000, window: 1_000, actors: 10_000, warmRounds: 2, rawCommands: 500_000 },
      resolution: { histories: [1_000, 100_000], divergence: 50, passes: 2, timeMs: 150, iterations: 3 },
    }
  : {
      ids: { passes: 5, timeMs: 400 },
      throughput: { rounds: 9, serialCommands: 20_000, pipelinedCommands: 40_000, window: 1_000, actors: 10_000, warmRounds: 3, rawCommands: 2_000_000 },
      resolution: { histories: [1_000, 100_000], divergence: 50, passes: 5, timeMs: 300, iterations: 6 },
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
  },
  ids,
  throughput,
  resolution,
  table: rows,
  sinks: [idSinkLength(), throughputSink()],
};
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, `${JSON.stringify(report, jsonReplacer, 2)}\n`);
console.log(`results written to ${outFile}`);
