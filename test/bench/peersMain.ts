/**
 * The peers scenario alone: `npx tsx bench/peersMain.ts [--quick] [--embedded-only] [--out=<file>]` from test/
 * (after building the packages). `--embedded-only`: the Emmett part only (no Redis). Prints the figures as a table, the notes and the versions.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { benchPeers, peerConfig, type PeerFigure } from './peers.js';
import type { Summary } from './stats.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const out = args.find((a) => a.startsWith('--out='))?.slice('--out='.length);
const config = quick ? peerConfig.quick : peerConfig.full;
const started = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}`);
console.log(`troupe bench, peers (${quick ? 'quick' : 'full'}) on ${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

const embeddedOnly = args.includes('--embedded-only');
const results = await benchPeers(config, log, { embeddedOnly });
const seconds = (performance.now() - started) / 1000;

const fmtRate = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k/s` : `${n.toFixed(0)} /s`);
const fmtMs = (n: number): string => (n >= 100 ? `${n.toFixed(0)} ms` : n >= 1 ? `${n.toFixed(2)} ms` : `${(n * 1000).toFixed(0)} µs`);
const fmtRatio = (n: number): string => (n >= 100 ? n.toFixed(0) : n >= 0.1 ? n.toFixed(2) : n.toExponential(2));
const value = (f: PeerFigure, s: Summary) => (f.unit === 'rate' ? fmtRate(s.median) : fmtMs(s.median));
const spread = (f: PeerFigure, s: Summary) => (f.unit === 'rate' ? `${fmtRate(s.p25)} – ${fmtRate(s.p75)}` : `${fmtMs(s.p25)} – ${fmtMs(s.p75)}`);
const ratio = (s: Summary) => `**${fmtRatio(s.median)}** (${fmtRatio(s.p25)} – ${fmtRatio(s.p75)})`;

const header = ['measured', 'troupe (median)', 'troupe p25 – p75', 'peer (median)', 'baseline (median)', 'troupe vs peer', 'troupe vs baseline', 'peer vs baseline'];
const rows = results.figures.map((f) => [
  f.measured,
  value(f, f.troupe),
  spread(f, f.troupe),
  `${f.peer.name}: ${value(f, f.peer.summary)}`,
  `${f.baseline.name}: ${value(f, f.baseline.summary)}`,
  ratio(f.ratioVsPeer),
  ratio(f.ratioVsBaseline),
  ratio(f.peerVsBaseline),
]);
console.log();
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log();
console.log('Ratios: > 1 means troupe is faster (rates: troupe / other; ms: other / troupe), median (p25 – p75) of the per-round ratios.');
for (const n of results.notes) console.log(`- ${n}`);
console.log(`versions: ${Object.entries(results.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`);
if (results.redisSkipped && !embeddedOnly) console.error(`!!!!!!!! PEERS: REDIS PART SKIPPED: ${results.redisSkipped} !!!!!!!!`);
console.log(`done in ${seconds.toFixed(1)} s, peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
if (out) {
  writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), mode: quick ? 'quick' : 'full', config, durationSeconds: Math.round(seconds * 10) / 10, ...results }, null, 2)}\n`);
  console.log(`results written to ${out}`);
}
