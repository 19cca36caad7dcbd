/**
 * A small line chart as a self-contained SVG string (no dependency): several series, linear or
 * logarithmic axes, axis labels, a legend and a title. The bench writes its scale curves with it
 * (`results/plots/<curve>.svg`), so the plots in BENCHMARKS.md come from a run, not from a hand.
 */

export interface Point {
  readonly x: number;
  readonly y: number;
  /** Optional spread around y (e.g. p25 and p75), drawn as a vertical bar. */
  readonly lo?: number;
  readonly hi?: number;
}

export interface Series {
  readonly name: string;
  readonly points: readonly Point[];
  /** Dashed line (e.g. a baseline or a goal). */
  readonly dashed?: boolean;
}

export interface Chart {
  readonly title: string;
  readonly subtitle?: string;
  /** Small print under the plot (e.g. which run drew it). */
  readonly footer?: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly xLog?: boolean;
  readonly yLog?: boolean;
  /** Start a linear y axis at 0 (default true). */
  readonly yZero?: boolean;
  /** Formats the y axis's tick values (default: 1.2k, 3.4M, ...); the x axis uses the default. */
  readonly format?: (n: number) => string;
  readonly width?: number;
  readonly height?: number;
}

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

export function compact(n: number): string {
  const a = Math.abs(n);
  const trim = (s: string) => s.replace(/\.0+$/, '').replace(/(\.\d*[1-9])0+$/, '$1');
  if (a >= 1e9) return `${trim((n / 1e9).toFixed(1))}G`;
  if (a >= 1e6) return `${trim((n / 1e6).toFixed(1))}M`;
  if (a >= 1e3) return `${trim((n / 1e3).toFixed(1))}k`;
  if (a >= 1 || a === 0) return trim(n.toFixed(a >= 100 ? 0 : 1));
  return trim(n.toPrecision(2));
}

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Ticks of a linear axis: 4 - 8 round values covering [lo, hi]. */
function linearTicks(lo: number, hi: number): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => span / s <= 7) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Math.round(t / step) * step);
  return ticks;
}

/** Ticks of a log axis: powers of ten, or 1-2-5 steps if the range spans less than three decades. */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  const decades = Math.log10(hi / lo);
  const mantissas = decades < 1.2 ? [1, 1.5, 2, 3, 5, 7] : decades < 3 ? [1, 2, 5] : [1];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of mantissas) {
      const t = m * 10 ** e;
      if (t >= lo * 0.999 && t <= hi * 1.001) ticks.push(t);
    }
  }
  return ticks;
}

interface Axis {
  readonly ticks: number[];
  readonly scale: (v: number) => number;
}

function axis(values: readonly number[], log: boolean, zero: boolean, from: number, to: number): Axis {
  const finite = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  let lo = finite.length ? Math.min(...finite) : 1;
  let hi = finite.length ? Math.max(...finite) : 10;
  if (log) {
    if (lo === hi) (lo /= 2, hi *= 2);
    // Pad to the neighbouring 1-2-5 values so points do not sit on the frame.
    lo = 10 ** (Math.log10(lo) - 0.05);
    hi = 10 ** (Math.log10(hi) + 0.05);
    const ticks = logTicks(lo, hi);
    const l0 = Math.log10(lo);
    const l1 = Math.log10(hi);
    return { ticks, scale: (v) => from + ((Math.log10(v) - l0) / (l1 - l0)) * (to - from) };
  }
  if (zero) lo = Math.min(0, lo);
  if (lo === hi) hi = lo + 1;
  const ticks = linearTicks(lo, hi + (hi - lo) * 0.05);
  const t0 = Math.min(lo, ticks[0]!);
  const t1 = Math.max(hi, ticks[ticks.length - 1]!);
  return { ticks, scale: (v) => from + ((v - t0) / (t1 - t0)) * (to - from) };
}

export function lineChart(c: Chart): string {
  const width = c.width ?? 760;
  const height = c.height ?? 440;
  const fmt = c.format ?? compact;
  const legendWidth = Math.min(300, 44 + 7 * Math.max(...c.series.map((s) => s.name.length)));
  const m = { left: 78, right: 12 + legendWidth, top: c.subtitle ? 58 : 44, bottom: c.footer ? 70 : 56 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const points = c.series.flatMap((s) => s.points);
  const x = axis(points.map((p) => p.x), c.xLog ?? false, false, m.left, m.left + plotW);
  const y = axis(points.flatMap((p) => [p.y, p.lo ?? p.y, p.hi ?? p.y]), c.yLog ?? false, c.yZero ?? true, m.top + plotH, m.top);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escape(c.title)}</text>`);
  if (c.subtitle) out.push(`<text x="${width / 2}" y="40" text-anchor="middle" fill="#555">${escape(c.subtitle)}</text>`);
  // Grid and ticks.
  for (const t of y.ticks) {
    const py = y.scale(t).toFixed(1);
    out.push(`<line x1="${m.left}" x2="${m.left + plotW}" y1="${py}" y2="${py}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${m.left - 6}" y="${py}" dy="4" text-anchor="end" fill="#333">${escape(fmt(t))}</text>`);
  }
  for (const t of x.ticks) {
    const px = x.scale(t).toFixed(1);
    out.push(`<line x1="${px}" x2="${px}" y1="${m.top}" y2="${m.top + plotH}" stroke="#efefef"/>`);
    out.push(`<text x="${px}" y="${m.top + plotH + 16}" text-anchor="middle" fill="#333">${escape(compact(t))}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${m.left + plotW / 2}" y="${m.top + plotH + 36}" text-anchor="middle">${escape(c.xLabel)}${c.xLog ? ' (log scale)' : ''}</text>`);
  if (c.footer) out.push(`<text x="${width - 8}" y="${height - 8}" text-anchor="end" font-size="10" fill="#777">${escape(c.footer)}</text>`);
  out.push(`<text transform="translate(18 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(c.yLabel)}${c.yLog ? ' (log scale)' : ''}</text>`);
  // Series.
  c.series.forEach((s, i) => {
    const color = palette[i % palette.length]!;
    const pts = s.points.filter((p) => Number.isFinite(p.y) && (!c.yLog || p.y > 0)).sort((a, b) => a.x - b.x);
    if (pts.length === 0) return;
    const path = pts.map((p, k) => `${k === 0 ? 'M' : 'L'}${x.scale(p.x).toFixed(1)},${y.scale(p.y).toFixed(1)}`).join(' ');
    out.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    for (const p of pts) {
      const px = x.scale(p.x).toFixed(1);
      if (p.lo !== undefined && p.hi !== undefined && (!c.yLog || p.lo > 0)) {
        out.push(`<line x1="${px}" x2="${px}" y1="${y.scale(p.lo).toFixed(1)}" y2="${y.scale(p.hi).toFixed(1)}" stroke="${color}" stroke-width="1.5" opacity="0.6"/>`);
      }
      out.push(`<circle cx="${px}" cy="${y.scale(p.y).toFixed(1)}" r="3" fill="${color}"><title>${escape(`${s.name}: x ${compact(p.x)}, y ${fmt(p.y)}`)}</title></circle>`);
    }
    // Legend entry.
    const lx = m.left + plotW + 16;
    const ly = m.top + 10 + i * 20;
    out.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<text x="${lx + 28}" y="${ly}" dy="4">${escape(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
