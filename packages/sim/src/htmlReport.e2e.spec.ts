import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bankWorkload } from '@troupe/bank';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml, writeHtmlReport } from './htmlReport.js';
import type { SimReport } from './report.js';
import { type SimTrace, simulate, simulateWithTrace } from './simulate.js';

const run = promisify(execFile);
const count = (text: string, re: RegExp): number => text.match(re)?.length ?? 0;

// Seed 7 over 80 ticks draws 5 replicas, 6 partitions, crashes and merges.
const options = { seed: 7, workload: bankWorkload, steps: 80 } as const;
let report: SimReport;
let trace: SimTrace;
let dir: string;

beforeAll(async () => {
  ({ report, trace } = await simulateWithTrace(options));
  dir = await mkdtemp(join(tmpdir(), 'troupe-sim-html-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('HTML report', () => {
  it('exposing the trace leaves the run and its hash unchanged', async () => {
    const plain = await simulate(options);
    expect(plain.traceHash).toBe(report.traceHash);
    expect(plain.counts).toEqual(report.counts);
    expect(trace.events.length).toBe(report.traceLength);
    expect(trace.events.every((e, i) => e.i === i && Number.isInteger(e.t))).toBe(true);
  });

  it('renders a self-contained page: header, one lane per replica, partition bands, merges, counts', () => {
    expect(report.counts.partitions).toBeGreaterThan(0);
    expect(report.counts.merges).toBeGreaterThan(0);
    const html = renderHtml(report, trace);
    expect(html).toContain(report.traceHash);
    expect(html).toContain(`<span id="seed">${report.seed}</span>`);
    expect(count(html, /<tr class="invariant /g)).toBe(9);
    const svg = html.slice(html.indexOf('<svg id="timeline"'), html.indexOf('</svg>', html.indexOf('<svg id="timeline"')));
    expect(svg.length).toBeGreaterThan(0);
    expect(count(svg, /<g class="lane"/g)).toBe(report.options.replicas);
    for (const r of report.replicas) expect(svg).toContain(`data-replica="${r.id}"`);
    expect(count(svg, /<g class="partition"/g)).toBeGreaterThanOrEqual(1);
    expect(count(svg, /<rect class="partition-band/g)).toBeGreaterThanOrEqual(2);
    expect(count(svg, /<g class="merge"/g)).toBeGreaterThanOrEqual(1);
    expect(count(svg, /class="divergence"/g)).toBe(trace.resolutions.length);
    expect(count(svg, /class="write accepted"/g)).toBe(trace.events.filter((e) => e.k === 'cmd' && e.status === 'accepted' && !e.duplicate).length);
    expect(count(svg, /class="crash"/g)).toBe(report.counts.crashes);
    expect(count(svg, /<rect class="passivate"/g)).toBe(trace.events.filter((e) => e.k === 'passivate').length);
    expect(count(svg, /<path class="fault"/g)).toBe(trace.events.filter((e) => e.k === 'fault').length);
    expect(count(svg, /class="write faulted"/g)).toBe(report.counts.faultedCommands);
    expect(html).toContain('<table id="counts">');
    // No network, no scripts: nothing the page would fetch.
    expect(html).not.toMatch(/https?:/i);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\b(src|href)\s*=/i);
    expect(html).not.toMatch(/@import|url\((?!#)/i);
  });

  it('is deterministic for a seed (apart from the wall-clock duration)', async () => {
    const again = await simulateWithTrace(options);
    const strip = (html: string) => html.replace(/\d+ ms/g, 'N ms');
    expect(strip(renderHtml(again.report, again.trace))).toBe(strip(renderHtml(report, trace)));
  });

  it('draws the timeline in headless Chromium', async () => {
    const chromium = '/usr/bin/chromium';
    if (!existsSync(chromium)) {
      const message = `${chromium} is missing: install Debian's chromium package (apt-get install -y --no-install-recommends chromium) to run the browser test of the HTML report`;
      if (process.env.CI === 'true') throw new Error(message);
      console.warn(`\n!!! SKIPPED the browser test of the HTML report: ${message} !!!\n`);
      return;
    }
    const file = join(dir, 'report.html');
    const png = join(dir, 'report.png');
    await writeHtmlReport(report, trace, file);
    const flags = [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ];
    const browse = async (extra: string[], profile: string) =>
      run(chromium, [...flags, `--user-data-dir=${join(dir, profile)}`, ...extra, `file://${file}`], { timeout: 30_000, maxBuffer: 32 * 1024 * 1024 });
    const { stdout: dom } = await browse(['--dump-dom'], 'profile-dom');
    // The DOM as Chromium parsed it: the svg is in the SVG namespace and has its lanes and marks.
    expect(dom).toContain('<svg id="timeline"');
    expect(count(dom, /<g class="lane"/g)).toBe(report.options.replicas);
    expect(count(dom, /<g class="partition"/g)).toBeGreaterThanOrEqual(1);
    expect(count(dom, /<g class="merge"/g)).toBeGreaterThanOrEqual(1);
    await browse([`--screenshot=${png}`, '--window-size=1280,900', '--hide-scrollbars'], 'profile-png');
    const image = await readFile(png);
    expect(image.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect((await stat(png)).size).toBeGreaterThan(20_000);
  }, 60_000);
});
