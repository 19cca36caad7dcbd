import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type SimReport, shapeText } from './report.js';
import type { SimTrace, TraceEvent } from './trace.js';

/**
 * A self-contained HTML page for one run (inline CSS and SVG, no scripts, no external reference):
 * a header with the verdicts, an SVG timeline (one lane per replica over the ticks, partitions as
 * shaded bands on the lanes they cut off, writes, divergences, merges, crashes and clock steps as
 * marks, then the heal-and-converge phase) and the counts table. Stable ids and classes:
 * `svg#timeline`, `g.lane[data-replica]`, `g.partition`, `rect.down`, `.write.accepted`,
 * `.write.rejected`, `.write.duplicate`, `.write.unavailable`, `.write.lost`, `.write.faulted`,
 * `.divergence`, `.merge`, `.crash`, `.restart`, `.clock`, `.passivate`, `.fault`.
 */
export function renderHtml(report: SimReport, trace: SimTrace): string {
  const o = report.options;
  const invariantRows = Object.entries(report.invariants)
    .map(([name, r]) => {
      const violations = r.violations.slice(0, 10).map((v) => `<li><code>${esc(v.actor)}</code>: ${esc(v.detail)}</li>`).join('');
      return `<tr class="invariant ${r.ok ? 'ok' : 'fail'}" data-invariant="${esc(name)}"><th>${esc(name)}</th><td>${r.ok ? 'ok' : 'FAIL'}</td><td>${r.checked}</td><td>${r.violations.length ? `<ul>${violations}</ul>` : ''}</td></tr>`;
    })
    .join('\n');
  const countRows = Object.entries(report.counts).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join('\n');
  const replicaRows = report.replicas
    .map((r) => `<tr><th>${esc(r.id)}</th><td>${r.packs}</td><td>${r.crashes}</td><td>${r.clockSkewMs}</td></tr>`)
    .join('\n');
  const faults = Object.entries(o.faults).map(([k, v]) => `${esc(k)}=${v}`).join(' ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>troupe sim seed ${report.seed}: ${report.ok ? 'OK' : 'FAILED'}</title>
<style>${css}</style>
</head>
<body>
<header id="summary">
<h1>troupe sim seed <span id="seed">${report.seed}</span> <span id="verdict" class="${report.ok ? 'ok' : 'fail'}">${report.ok ? 'OK' : 'FAILED'}</span></h1>
<p>trace <code id="trace-hash">${esc(report.traceHash)}</code> &middot; ${report.traceLength} trace events &middot; converged in ${report.convergenceRounds} round(s) &middot; ${report.durationMs} ms</p>
<p>workload=${esc(o.workload)}${esc(shapeText(o))} replicas=${o.replicas} actors=${o.actors} steps=${o.steps} partition=${esc(o.partitionMode)} idle-timeout=${o.idleTimeoutMs === 0 ? 'off' : `${o.idleTimeoutMs}ms`} merge=${esc(o.mergeStrategy)}${o.swarm ? ' (swarm)' : ''} store=<span id="store">${esc(report.store.kind)}</span><br><small>${faults}</small></p>
<table id="invariants"><thead><tr><th>invariant</th><th>verdict</th><th>checked</th><th>violations</th></tr></thead><tbody>
${invariantRows}
</tbody></table>
</header>
<section>
<h2>Timeline</h2>
${renderTimeline(report, trace)}
${legend}
</section>
<section class="tables">
<div><h2>Counts</h2><table id="counts"><tbody>
${countRows}
</tbody></table></div>
<div><h2>Replicas</h2><table id="replicas"><thead><tr><th>replica</th><th>packs</th><th>crashes</th><th>clock skew ms</th></tr></thead><tbody>
${replicaRows}
</tbody></table></div>
</section>
</body>
</html>
`;
}

/** Writes `renderHtml(report, trace)` to `file` (creating its directory). */
export async function writeHtmlReport(report: SimReport, trace: SimTrace, file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, renderHtml(report, trace), 'utf8');
}

const width = 1200;
const left = 56;
const right = 16;
const top = 28;
const laneHeight = 44;

/** The SVG timeline: x is the tick (the heal-and-converge phase gets a zone of its own at the end), one lane per replica. */
export function renderTimeline(report: SimReport, trace: SimTrace): string {
  const steps = Math.max(1, report.options.steps);
  const n = report.options.replicas;
  const events = trace.events;
  const healAll = events.find((e) => e.k === 'heal-all');
  const lastIndex = events.length - 1;
  const plot = width - left - right;
  const convergeWidth = Math.max(60, Math.round(plot * 0.08));
  const scale = (plot - convergeWidth) / steps;
  const convergeStart = left + steps * scale;
  /** x of an event: its tick, or its place among the events after the heal. */
  const x = (t: number, i: number): number => {
    if (t < steps || !healAll) return round(left + Math.min(t, steps) * scale + scale / 2);
    const span = Math.max(1, lastIndex - healAll.i);
    return round(convergeStart + 4 + ((i - healAll.i) / span) * (convergeWidth - 8));
  };
  const laneY = (r: number): number => top + r * laneHeight;
  const mid = (r: number): number => laneY(r) + laneHeight / 2;
  const height = top + n * laneHeight + 30;
  const out: string[] = [];

  out.push(`<svg id="timeline" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="timeline of seed ${report.seed}">`);
  out.push(
    '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f2f2f2"/><line x1="0" y1="0" x2="0" y2="6" stroke="#999" stroke-width="2"/></pattern></defs>',
  );
  // Lanes.
  for (let r = 0; r < n; r++) {
    const id = report.replicas[r]?.id ?? `r${r}`;
    out.push(
      `<g class="lane" id="lane-${esc(id)}" data-replica="${esc(id)}"><rect class="lane-bg" x="${left}" y="${laneY(r) + 2}" width="${plot}" height="${laneHeight - 4}"/><line class="lane-axis" x1="${left}" y1="${mid(r)}" x2="${left + plot}" y2="${mid(r)}"/><text class="lane-label" x="${left - 8}" y="${mid(r) + 4}">${esc(id)}</text></g>`,
    );
  }
  // Converge zone and time axis.
  const bottom = top + n * laneHeight;
  out.push(`<g class="converge-zone"><rect x="${round(convergeStart)}" y="${top}" width="${convergeWidth}" height="${n * laneHeight}"/><text x="${round(convergeStart + convergeWidth / 2)}" y="${top - 8}">heal + converge</text></g>`);
  const every = steps <= 50 ? 5 : steps <= 200 ? 20 : steps <= 1000 ? 100 : 500;
  const axis: string[] = [];
  for (let t = 0; t <= steps; t += every) {
    const tx = round(left + t * scale);
    axis.push(`<line x1="${tx}" y1="${bottom}" x2="${tx}" y2="${bottom + 5}"/><text x="${tx}" y="${bottom + 18}">${t}</text>`);
  }
  out.push(`<g class="axis">${axis.join('')}<text x="${left - 8}" y="${bottom + 18}" class="axis-title">tick</text></g>`);

  // Partition periods: from each partition event (the whole set of links down after it) to the next partition, heal or heal-all.
  const periods: { from: TraceEvent; to: TraceEvent | undefined; down: string[] }[] = [];
  let open: { from: TraceEvent; down: string[] } | undefined;
  for (const e of events) {
    if (e.k !== 'partition' && e.k !== 'heal' && e.k !== 'heal-all') continue;
    if (open) periods.push({ ...open, to: e });
    open = e.k === 'partition' ? { from: e, down: (e.down as string[] | undefined) ?? [] } : undefined;
  }
  if (open) periods.push({ ...open, to: undefined });
  for (const p of periods) {
    const x0 = round(left + p.from.t * scale);
    const x1 = round(p.to ? (p.to.t < steps ? left + p.to.t * scale : convergeStart) : convergeStart);
    const cut = new Set<number>();
    for (const link of p.down) for (const end of link.split('>')) cut.add(Number(end));
    const what = `partition ${String(p.from.mode ?? '')} ticks ${p.from.t}-${p.to ? p.to.t : steps}: links down ${p.down.join(' ') || '-'}`;
    // Sides: replicas that still reach each other both ways share a side (and a shade).
    const down = new Set(p.down);
    const side = new Map<number, number>();
    for (const r of [...cut].sort((a, b) => a - b)) {
      if (side.has(r)) continue;
      const group = side.size === 0 ? 0 : Math.max(...side.values()) + 1;
      const queue = [r];
      side.set(r, group);
      while (queue.length > 0) {
        const a = queue.shift()!;
        for (const b of cut) if (!side.has(b) && !down.has(`${a}>${b}`) && !down.has(`${b}>${a}`)) (side.set(b, group), queue.push(b));
      }
    }
    const rects = [...cut]
      .sort((a, b) => a - b)
      .map((r) => `<rect class="partition-band side-${side.get(r)! % 4}" data-replica="r${r}" data-side="${side.get(r)}" x="${x0}" y="${laneY(r) + 3}" width="${Math.max(2, x1 - x0)}" height="${laneHeight - 6}"/>`)
      .join('');
    out.push(`<g class="partition" data-from="${p.from.t}" data-to="${p.to ? p.to.t : steps}" data-down="${esc(p.down.join(' '))}"><title>${esc(what)}</title>${rects}</g>`);
  }

  // Crashed periods (crash to restart).
  const crashedAt = new Map<number, TraceEvent>();
  const downRect = (r: number, from: TraceEvent, to: TraceEvent | undefined) => {
    const x0 = x(from.t, from.i) - scale / 2;
    const x1 = to ? x(to.t, to.i) - scale / 2 : convergeStart;
    out.push(`<rect class="down" data-replica="r${r}" x="${round(x0)}" y="${mid(r) - 6}" width="${round(Math.max(2, x1 - x0))}" height="12"><title>r${r} down, ticks ${from.t}-${to ? to.t : steps}</title></rect>`);
  };
  for (const e of events) {
    if (e.k === 'crash') crashedAt.set(e.r as number, e);
    if (e.k === 'restart' && crashedAt.has(e.r as number)) {
      downRect(e.r as number, crashedAt.get(e.r as number)!, e);
      crashedAt.delete(e.r as number);
    }
  }
  for (const [r, from] of crashedAt) downRect(r, from, undefined);

  // Marks.
  const writes: string[] = [];
  const marks: string[] = [];
  for (const e of events) {
    const ex = x(e.t, e.i);
    switch (e.k) {
      case 'cmd':
      case 'unavailable':
      case 'lost-reply':
      case 'faulted':
      case 'error': {
        const r = e.r as number;
        const kind = e.k === 'cmd' ? (e.status === 'rejected' ? 'rejected' : e.duplicate ? 'duplicate' : 'accepted') : e.k === 'unavailable' ? 'unavailable' : e.k === 'lost-reply' ? 'lost' : e.k;
        const y0 = mid(r) - 16;
        const detail = e.k === 'cmd' ? `${String(e.type)} ${String(e.actor)}${e.reason ? `: ${String(e.reason)}` : ''}` : String(e.error ?? '');
        writes.push(`<line class="write ${kind}" x1="${ex}" y1="${y0}" x2="${ex}" y2="${y0 + 9}"><title>tick ${e.t} r${r} ${String(e.id)} ${kind} ${esc(detail)}</title></line>`);
        break;
      }
      case 'sync':
      case 'burst-resolve': {
        const resolved = e.resolved;
        const merged = Array.isArray(resolved) ? resolved.length > 0 : Boolean(resolved);
        if (!merged) break;
        const r = (e.k === 'sync' ? e.to : e.r) as number;
        const label = e.k === 'sync' ? `sync r${String(e.from)}→r${r} resolved ${(resolved as string[]).join(', ')}` : `burst resolve at r${r}`;
        const link = e.k === 'sync' ? `<line class="merge-link" x1="${ex}" y1="${mid(e.from as number)}" x2="${ex}" y2="${mid(r)}"/>` : '';
        const y = mid(r) + 10;
        marks.push(`<g class="merge" data-replica="r${r}">${link}<path d="M${ex} ${y - 5}L${ex + 5} ${y}L${ex} ${y + 5}L${ex - 5} ${y}Z"/><title>tick ${e.t}: merge, ${esc(label)}</title></g>`);
        break;
      }
      case 'crash': {
        const r = e.r as number;
        const y = mid(r);
        marks.push(`<path class="crash" d="M${ex - 5} ${y - 5}L${ex + 5} ${y + 5}M${ex - 5} ${y + 5}L${ex + 5} ${y - 5}"><title>tick ${e.t}: r${r} crashed (${esc(String(e.why))}), restart at ${String(e.restartAt)}</title></path>`);
        break;
      }
      case 'restart': {
        const r = e.r as number;
        marks.push(`<circle class="restart" cx="${ex}" cy="${mid(r)}" r="3"><title>tick ${e.t}: r${r} restarted</title></circle>`);
        break;
      }
      case 'fault': {
        // A fault injected inside a store call or a sync (the call failed before or after taking effect).
        const r = e.r as number;
        const y = mid(r) + 12;
        marks.push(`<path class="fault" data-replica="r${r}" data-op="${esc(String(e.op))}" data-when="${esc(String(e.when))}" d="M${ex - 3} ${y - 4}L${ex + 3} ${y - 4}L${ex} ${y + 4}Z"><title>tick ${e.t}: r${r} ${esc(String(e.op))} ${e.when === 'drop' ? 'connection dropped mid-call' : `failed ${e.when === 'after' ? 'after taking effect' : 'before taking effect'}`}</title></path>`);
        break;
      }
      case 'passivate': {
        // Actors dropped from memory at the tick's sweep: their next message reloads them from the store.
        const r = e.r as number;
        const y = mid(r) + 12;
        marks.push(`<rect class="passivate" data-replica="r${r}" x="${ex - 2}" y="${y - 2}" width="4" height="4"><title>tick ${e.t}: r${r} passivated ${String(e.actors)} idle actor(s)</title></rect>`);
        break;
      }
      case 'clock': {
        const r = e.r as number;
        const delta = e.deltaMs as number;
        const y = mid(r) - 12;
        const d = delta >= 0 ? `M${ex} ${y - 5}L${ex + 4} ${y + 2}L${ex - 4} ${y + 2}Z` : `M${ex} ${y + 5}L${ex + 4} ${y - 2}L${ex - 4} ${y - 2}Z`;
        marks.push(`<path class="clock ${delta >= 0 ? 'forward' : 'back'}" d="${d}"><title>tick ${e.t}: r${r} clock ${delta >= 0 ? '+' : ''}${delta} ms</title></path>`);
        break;
      }
    }
  }
  for (const res of trace.resolutions) {
    const rx = x(res.t, res.i);
    marks.push(`<circle class="divergence" data-replica="r${res.r}" cx="${rx}" cy="${mid(res.r) + 10}" r="6"><title>tick ${res.t}: r${res.r} found ${res.heads} heads of ${esc(res.actor)} and resolved them</title></circle>`);
  }
  out.push(`<g class="writes">${writes.join('')}</g>`);
  // Divergence rings first so the merge diamonds sit on top of them.
  out.push(`<g class="marks">${marks.filter((m) => m.includes('class="divergence"')).join('')}${marks.filter((m) => !m.includes('class="divergence"')).join('')}</g>`);
  out.push('</svg>');
  return out.join('\n');
}

const legend = `<p class="legend">
<svg width="14" height="14"><rect class="partition-band" width="14" height="14"/></svg><svg width="14" height="14"><rect class="partition-band side-1" width="14" height="14"/></svg> cut off by a partition (one shade per side) &nbsp;
<svg width="14" height="14"><rect class="down" width="14" height="14"/></svg> crashed &nbsp;
<svg width="6" height="14"><line class="write accepted" x1="3" y1="2" x2="3" y2="12"/></svg> accepted &nbsp;
<svg width="6" height="14"><line class="write rejected" x1="3" y1="2" x2="3" y2="12"/></svg> rejected &nbsp;
<svg width="6" height="14"><line class="write duplicate" x1="3" y1="2" x2="3" y2="12"/></svg> duplicate &nbsp;
<svg width="6" height="14"><line class="write unavailable" x1="3" y1="2" x2="3" y2="12"/></svg> unavailable / lost reply &nbsp;
<svg width="6" height="14"><line class="write faulted" x1="3" y1="2" x2="3" y2="12"/></svg> failed on an injected fault &nbsp;
<svg width="8" height="14"><path class="fault" d="M1 3L7 3L4 11Z"/></svg> fault inside a store call or sync &nbsp;
<svg width="14" height="14"><circle class="divergence" cx="7" cy="7" r="6"/></svg> divergence (resolution computed) &nbsp;
<svg width="14" height="14"><path class="merge" d="M7 1L13 7L7 13L1 7Z"/></svg> merge written (sync source → target) &nbsp;
<svg width="14" height="14"><path class="crash" d="M2 2L12 12M2 12L12 2"/></svg> crash &nbsp;
<svg width="8" height="14"><rect class="passivate" x="2" y="5" width="4" height="4"/></svg> idle actors passivated &nbsp;
<svg width="14" height="14"><path class="clock forward" d="M7 2L11 10L3 10Z"/></svg><svg width="14" height="14"><path class="clock back" d="M7 12L11 4L3 4Z"/></svg> clock jump / step back
</p>`;

const css = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px 24px; color: #222; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 16px 0 6px; }
code { font: 12px ui-monospace, monospace; }
#verdict { padding: 1px 8px; border-radius: 4px; color: #fff; }
#verdict.ok { background: #2e7d32; } #verdict.fail { background: #c62828; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { border: 1px solid #ddd; padding: 2px 8px; text-align: left; vertical-align: top; }
tr.invariant.ok td:nth-child(2) { color: #2e7d32; font-weight: bold; }
tr.invariant.fail td:nth-child(2) { color: #c62828; font-weight: bold; }
tr.invariant ul { margin: 0; padding-left: 16px; }
.tables { display: flex; gap: 32px; align-items: flex-start; }
#timeline { display: block; border: 1px solid #ddd; background: #fff; }
#timeline text { font-size: 11px; fill: #555; }
.lane-bg { fill: #fafafa; } .lane-axis { stroke: #bbb; stroke-width: 1; }
.lane-label { text-anchor: end; font-weight: bold; fill: #222 !important; font-size: 13px !important; }
.axis line { stroke: #888; } .axis text { text-anchor: middle; } .axis-title { text-anchor: end !important; }
.converge-zone rect { fill: #e8f5e9; } .converge-zone text { text-anchor: middle; }
.partition-band { fill: #ef9a9a; fill-opacity: 0.45; }
.partition-band.side-1 { fill: #90caf9; } .partition-band.side-2 { fill: #ce93d8; } .partition-band.side-3 { fill: #ffe082; }
.down { fill: url(#hatch); stroke: #777; stroke-width: 0.5; }
.write { stroke-width: 1.5; }
.write.accepted { stroke: #1565c0; } .write.rejected { stroke: #ef6c00; } .write.duplicate { stroke: #9e9e9e; }
.write.unavailable, .write.lost, .write.error { stroke: #6a1b9a; }
.divergence { fill: none; stroke: #ff8f00; stroke-width: 2; }
.merge path, path.merge { fill: #2e7d32; stroke: #1b5e20; }
.merge-link { stroke: #2e7d32; stroke-width: 1; stroke-dasharray: 2 2; }
.crash { stroke: #c62828; stroke-width: 2.5; fill: none; }
.restart { fill: #fff; stroke: #2e7d32; stroke-width: 1.5; }
.clock { fill: #6d4c41; } .clock.back { fill: #8e24aa; }
.passivate { fill: #90a4ae; }
.write.faulted { stroke: #d81b60; }
.fault { fill: #d81b60; }
.legend svg { vertical-align: middle; }
`;

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
