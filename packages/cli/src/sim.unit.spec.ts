import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { captureSim, expectSimUsageErrors } from './testing/capture.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

interface Report {
  seed: number;
  ok: boolean;
  traceHash: string;
  options: { workload: string; commandsPerTick: number; steps: number; replicas: number };
  invariants: Record<string, { ok: boolean }>;
  counts: { commands: number; accepted: number; passivations: number };
  store: { kind: string };
  shrink?: { status: string; size: number; originalSize: number; replay: string; schedule: unknown[] };
}

const sim = captureSim;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'troupe-sim-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => vi.restoreAllMocks());

describe('troupe sim', () => {
  it('without --workload or --app, swarm draws the workload (the simulator\'s or the default app\'s) and its shape; --no-swarm runs the bank', async () => {
    const drawn = new Set<string>();
    for (const seed of ['1', '2', '3', '4', '5', '6']) {
      const report = JSON.parse((await sim('--seed', seed, '--steps', '30', '--json')).out) as Report & { options: { shape?: { snapshotEvery: number } } };
      expect(report.options.shape?.snapshotEvery).toBeGreaterThanOrEqual(1);
      drawn.add(report.options.workload);
    }
    expect(drawn.size).toBeGreaterThan(1);
    expect([...drawn].every((name) => ['counter', 'tape', 'bank'].includes(name))).toBe(true);
    const fixed = JSON.parse((await sim('--seed', '2', '--steps', '30', '--workload', 'tape', '--json')).out) as Report & { options: { shape?: unknown } };
    expect(fixed.options.workload).toBe('tape');
    expect(fixed.options.shape).toBeUndefined();
    const { code, out } = await sim('--seed', '3', '--steps', '150', '--no-swarm', '--json');
    expect(code).toBe(0);
    const report = JSON.parse(out) as Report;
    expect(report.seed).toBe(3);
    expect(report.ok).toBe(true);
    expect(report.options.workload).toBe('bank');
    expect(report.store).toEqual({ kind: 'memory' });
    expect(Object.keys(report.invariants)).toEqual(expect.arrayContaining(['I1', 'I2', 'I3', 'I4', 'I5', 'I6']));
  });

  it('prints the terminal summary by default; the same seed and options give the same trace hash', async () => {
    const text = await sim('--seed', '7', '--steps', '60');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^troupe sim seed 7: OK {2}trace [0-9a-f]{16}/);
    expect(text.out).toMatch(/I1 {2}ok/);
    const json = JSON.parse((await sim('--seed', '7', '--steps', '60', '--json')).out) as Report;
    expect(text.out).toContain(json.traceHash.slice(0, 16));
  });

  it('--workload counter runs the simulator\'s own workload; --commands-per-tick sends several client steps per tick', async () => {
    const { code, out } = await sim('--seed', '3', '--steps', '40', '--workload', 'counter', '--actors', '20', '--commands-per-tick', '10', '--json');
    expect(code).toBe(0);
    const report = JSON.parse(out) as Report;
    expect(report.options.workload).toBe('counter');
    expect(report.options.commandsPerTick).toBe(10);
    expect(report.counts.commands).toBeGreaterThan(5 * report.options.steps);
  });

  it('--idle-timeout sets when replicas passivate idle actors (0: never)', async () => {
    const busy = JSON.parse((await sim('--seed', '3', '--steps', '80', '--idle-timeout', '10', '--json')).out) as Report & { options: { idleTimeoutMs: number } };
    expect(busy.options.idleTimeoutMs).toBe(10);
    expect(busy.counts.passivations).toBeGreaterThan(0);
    const never = JSON.parse((await sim('--seed', '3', '--steps', '80', '--idle-timeout', '0', '--json')).out) as Report;
    expect(never.counts.passivations).toBe(0);
  });

  it('simulates any app that exports a workload (--app)', async () => {
    const { code, out } = await sim('--seed', '5', '--steps', '120', '--app', fixture('tallyApp.mjs'), '--json');
    expect(code).toBe(0);
    const report = JSON.parse(out) as Report;
    expect(report.options.workload).toBe('tally');
    expect(report.counts.accepted).toBeGreaterThan(0);
  });

  it('bad arguments exit 2 with one error line, before anything runs', async () => {
    const cases: [string[], RegExp][] = [
      [['--seed', '3', '--commands-per-tick', '0'], /option '--commands-per-tick <n>' argument '0' is invalid/],
      [['--seed', 'x'], /option '--seed <n>' argument 'x' is invalid/],
      [['--partition-mode', 'sideways'], /argument 'sideways' is invalid. Allowed choices are halves, majority/],
      [['--broken', 'nope'], /Allowed choices are wrongAncestor, arrivalOrder, perReplicaVersion, dropBranch/],
      [['--bogus'], /unknown option '--bogus'/],
      [['--workload', 'counter', '--app', fixture('tallyApp.mjs')], /give --workload or --app, not both/],
      [['--redis-url', 'redis://127.0.0.1:6379/3'], /--redis-url needs --store redis/],
      [['--seed', '5', '--app', fixture('emptyApp.mjs')], /exports no actor definitions.*\[APP_[A-Z_]+\]/],
      [['--seed', '5', '--app', './no/such/app'], /\[APP_NOT_FOUND\]/],
      [['--schedule', join(tmpdir(), 'no-such-schedule.json')], /--schedule .*no-such-schedule\.json: ENOENT/],
    ];
    await expectSimUsageErrors(cases);
  });

  it('--help lists every option and the exit codes (exit 0)', async () => {
    const { code, out } = await sim('--help');
    expect(code).toBe(0);
    for (const option of ['--seed', '--json', '--app', '--workload', '--steps', '--replicas', '--actors', '--commands-per-tick', '--partition-mode', '--idle-timeout', '--no-swarm', '--broken', '--html', '--store', '--redis-url', '--shrink', '--schedule']) {
      expect(out).toContain(option);
    }
    expect(out).toMatch(/Exit codes: 0 every invariant held, 1 one failed, 2 bad arguments, 3 the run itself failed/);
  });

  it('exits 1 when an invariant fails (a broken resolution); --shrink prints a small schedule that --schedule replays, still failing', async () => {
    const { code, out } = await sim('--seed', '4', '--steps', '120', '--workload', 'bank', '--broken', 'dropBranch', '--shrink', '--json');
    expect(code).toBe(1);
    const report = JSON.parse(out) as Report;
    expect(report.ok).toBe(false);
    expect(report.shrink!.status).toBe('shrunk');
    expect(report.shrink!.size).toBeLessThan(report.shrink!.originalSize);
    expect(report.shrink!.replay).toMatch(/^troupe sim --seed 4 --workload bank --replicas \d --steps \d+ --actors \d+ --partition-mode \w+ --idle-timeout \d+ --broken dropBranch --schedule shrunk\.json$/);
    const file = join(dir, 'shrunk.json');
    await writeFile(file, JSON.stringify(report.shrink!.schedule));
    const replayArgs = report.shrink!.replay.split(' ').slice(2).map((a) => (a === 'shrunk.json' ? file : a));
    const replayed = await sim(...replayArgs, '--json');
    expect(replayed.code).toBe(1);
    expect(JSON.parse(replayed.out)).toMatchObject({ ok: false, replayedSteps: report.shrink!.size });
    // The whole --shrink --json output is a schedule file too.
    await writeFile(file, out);
    expect((await sim(...replayArgs, '--json')).code).toBe(1);
  });

  it('--shrink of a passing run says so; --html writes the report', async () => {
    const html = join(dir, 'run.html');
    const { code, out, err } = await sim('--seed', '2', '--steps', '40', '--shrink', '--html', html);
    expect(code).toBe(0);
    expect(out).toContain('shrink: the run passed, nothing to shrink');
    expect(err).toContain(`HTML report written to ${html}`);
    expect(await readFile(html, 'utf8')).toMatch(/<svg id="timeline"/);
  });
});
