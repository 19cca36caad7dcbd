import { afterEach, describe, expect, it, vi } from 'vitest';
import { captureSim, expectSimUsageErrors } from './testing/capture.js';
import type { RunsSummary } from './simRuns.js';

const sim = captureSim;

interface Report {
  ok: boolean;
  traceHash: string;
  counts: { commands: number; divergences: number; merges: number };
  invariants: Record<string, { checked: number; violations: unknown[] }>;
}

afterEach(() => vi.restoreAllMocks());

describe('troupe sim --runs N --jobs K', () => {
  it('bad arguments exit 2 with one error line, before anything runs', async () => {
    const cases: [string[], RegExp][] = [
      [['--runs', '0'], /option '--runs <n>' argument '0' is invalid. expected an integer in 1..1000000/],
      [['--runs', '1000001'], /option '--runs <n>' argument '1000001' is invalid/],
      [['--runs', '2', '--jobs', '0'], /option '--jobs <k>' argument '0' is invalid. expected an integer in 1..64/],
      [['--runs', '2', '--jobs', '65'], /option '--jobs <k>' argument '65' is invalid/],
      [['--runs', 'x'], /option '--runs <n>' argument 'x' is invalid/],
      [['--jobs', '2'], /--jobs needs --runs/],
      [['--runs', '2', '--shrink'], /--shrink runs one seed: not with --runs/],
      [['--runs', '2', '--html', 'x.html'], /--html runs one seed: not with --runs/],
      [['--runs', '2', '--schedule', 'shrunk.json'], /--schedule runs one seed: not with --runs/],
      [['--runs', '3', '--seed', String(Number.MAX_SAFE_INTEGER - 1)], /goes past 9007199254740991/],
      [['--runs', '2', '--app', './no/such/app'], /\[APP_NOT_FOUND\]/],
    ];
    await expectSimUsageErrors(cases);
  });

  it('--jobs 1 runs seed, seed + 1, ... in process: the summary adds up the single runs; exit 0', async () => {
    const { code, out } = await sim('--runs', '3', '--jobs', '1', '--seed', '11', '--workload', 'counter', '--steps', '40', '--json');
    expect(code).toBe(0);
    const summary = JSON.parse(out) as RunsSummary;
    expect(summary).toMatchObject({ ok: true, firstSeed: 11, lastSeed: 13, seeds: 3, jobs: 1, failures: 0, errors: 0, failed: [], workloads: { counter: 3 } });
    const reports: Report[] = [];
    for (const seed of ['11', '12', '13']) reports.push(JSON.parse((await sim('--seed', seed, '--workload', 'counter', '--steps', '40', '--json')).out) as Report);
    const sum = (f: (r: Report) => number) => reports.reduce((n, r) => n + f(r), 0);
    expect(summary.commands).toBe(sum((r) => r.counts.commands));
    expect(summary.divergences).toBe(sum((r) => r.counts.divergences));
    expect(summary.merges).toBe(sum((r) => r.counts.merges));
    expect(Object.keys(summary.invariants)).toEqual(['I1', 'I2', 'I3', 'I4', 'I5', 'I6', 'I7', 'I8', 'I9']);
    for (const [name, total] of Object.entries(summary.invariants)) {
      expect(total, name).toEqual({ checked: sum((r) => r.invariants[name]!.checked), violations: 0, failedSeeds: 0 });
    }
    expect(summary.seedsPerHour).toBeGreaterThan(0);
    expect(summary.seedsPerHour).toBe(Math.round((3 * 3_600_000) / summary.durationMs));

    const text = await sim('--runs', '2', '--jobs', '1', '--seed', '11', '--workload', 'counter', '--steps', '40');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^troupe sim seeds 11\.\.12 \(2 runs, 1 job\): OK\n/);
    expect(text.out).toMatch(/ {2}commands {2}\d+; divergences \d+, merges \d+/);
    expect(text.out).toMatch(/ {2}I4 {2}ok {4}\d+ checked/);
    expect(text.out).toMatch(/2 seeds in [\d.]+ s: [\d.]+ seeds\/s, \d+ seeds\/hour$/);
  });

  it('a broken resolution: every failing seed with the line that replays it (same trace, exit 1) and the --shrink line; exit 1', async () => {
    const { code, out } = await sim('--runs', '2', '--jobs', '1', '--seed', '4', '--workload', 'bank', '--steps', '120', '--broken', 'dropBranch', '--json');
    expect(code).toBe(1);
    const summary = JSON.parse(out) as RunsSummary;
    expect(summary.ok).toBe(false);
    expect(summary.failures).toBe(2);
    expect(summary.failed.map((f) => f.seed)).toEqual([4, 5]);
    const first = summary.failed[0]!;
    expect(first.replay).toBe('troupe sim --seed 4 --workload bank --steps 120 --broken dropBranch');
    expect(first.shrink).toBe(`${first.replay} --shrink`);
    expect(first.violation).toMatch(/^I\d /);
    expect(Object.values(summary.invariants).some((i) => i.failedSeeds > 0)).toBe(true);
    const replayed = await sim(...first.replay.split(' ').slice(2), '--json');
    expect(replayed.code).toBe(1);
    expect((JSON.parse(replayed.out) as Report).traceHash).toBe(first.traceHash);

    const text = await sim('--runs', '2', '--jobs', '1', '--seed', '4', '--workload', 'bank', '--steps', '120', '--broken', 'dropBranch');
    expect(text.code).toBe(1);
    expect(text.out).toMatch(/^troupe sim seeds 4\.\.5 \(2 runs, 1 job\): FAILED \(2 seed\(s\) failed an invariant\)/);
    expect(text.out).toContain('  seed 5: FAILED I');
    expect(text.out).toContain('    replay: troupe sim --seed 5 --workload bank --steps 120 --broken dropBranch\n');
    expect(text.out).toContain('    shrink: troupe sim --seed 5 --workload bank --steps 120 --broken dropBranch --shrink\n');
    expect(text.out).toMatch(/I\d {2}FAIL {2}\d+ checked, \d+ violation\(s\) in 2 seed\(s\)/);
  });

  it('a drawn workload (no --workload) replays without a workload flag; the seed draws it again', async () => {
    const { out } = await sim('--runs', '2', '--jobs', '1', '--seed', '3', '--steps', '30', '--broken', 'dropBranch', '--json');
    const summary = JSON.parse(out) as RunsSummary;
    for (const failed of summary.failed) expect(failed.replay).toBe(`troupe sim --seed ${failed.seed} --steps 30 --broken dropBranch`);
  });

  it('more than one job needs the built worker (dist/simWorker.js): from source it says so and exits 3', async () => {
    const { code, err } = await sim('--runs', '2', '--jobs', '2', '--seed', '1', '--workload', 'counter', '--steps', '10');
    expect(code).toBe(3);
    expect(err).toMatch(/--jobs 2 runs seeds in worker threads from the built CLI .*simWorker\.js is missing\): run `npm run build`, or use --jobs 1/);
  });
});
