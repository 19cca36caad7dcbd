import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Presets, SingleBar } from 'cli-progress';
import type { InvariantName } from '@troupe/sim';
import { CliError } from './shared.js';
import { type ResolvedWorkload, type SeedError, type SeedRunSpec, type SeedSummary, replayLine, runSeed } from './simRun.js';

/** What a worker thread (simWorker.ts) posts to the main thread. */
export type WorkerReply = { readonly type: 'ready' } | { readonly type: 'fatal'; readonly error: string } | { readonly type: 'result'; readonly result: SeedSummary | SeedError };

export const simRunsLimits = {
  runsMax: 1_000_000,
  jobsMax: 64,
  /** Failing seeds kept (lowest seeds first) for the list; the counts cover every one. */
  failuresListedMax: 1_000,
} as const;

/** One failing seed of `troupe sim --runs`: why, and the commands that replay and shrink it. */
export interface FailedSeed {
  readonly seed: number;
  readonly workload?: string;
  readonly traceHash?: string;
  /** The first violation (an invariant failed) ... */
  readonly violation?: string;
  /** ... or the run threw (exit 3). */
  readonly error?: string;
  readonly replay: string;
  readonly shrink: string;
}

/** The summary of `troupe sim --runs N` (what `--json` prints). */
export interface RunsSummary {
  readonly ok: boolean;
  readonly firstSeed: number;
  readonly lastSeed: number;
  readonly seeds: number;
  readonly jobs: number;
  /** Seeds where an invariant failed. */
  readonly failures: number;
  /** Seeds whose run threw. */
  readonly errors: number;
  readonly commands: number;
  readonly divergences: number;
  readonly merges: number;
  /** Per invariant: checks made over every seed, violations, and seeds it failed in. */
  readonly invariants: Partial<Record<InvariantName, { checked: number; violations: number; failedSeeds: number }>>;
  /** Per workload (swarm draws one per seed): seeds. */
  readonly workloads: Record<string, number>;
  readonly durationMs: number;
  readonly seedsPerSec: number;
  readonly seedsPerHour: number;
  /** Failing seeds, lowest first, at most `simRunsLimits.failuresListedMax`. */
  readonly failed: readonly FailedSeed[];
}

export interface RunSeedsOptions {
  readonly spec: SeedRunSpec;
  readonly firstSeed: number;
  readonly runs: number;
  readonly jobs: number;
  /** The workload, resolved by the main thread (used in process with one job; workers resolve their own from the spec). */
  readonly resolved: ResolvedWorkload;
  /** Show a progress bar on stderr. */
  readonly progress: boolean;
}

/** The worker's module, next to this one once built (dist/simWorker.js). */
const workerUrl = new URL('./simWorker.js', import.meta.url);

/**
 * Runs seeds `firstSeed .. firstSeed + runs - 1`: in process with one job, else in `jobs`
 * worker threads that take seeds from a queue. Resolves to the summary; rejects (CliError, exit 3)
 * only when a worker cannot start or dies.
 */
export async function runSeeds(options: RunSeedsOptions): Promise<RunsSummary> {
  const { spec, firstSeed, runs, jobs } = options;
  const tally = new Tally(options);
  const bar = options.progress
    ? new SingleBar({ format: 'sim [{bar}] {value}/{total} seeds | {rate} seeds/s | {failed} failed | {eta_formatted} left', stream: process.stderr, etaBuffer: 50 }, Presets.shades_classic)
    : undefined;
  bar?.start(runs, 0, { rate: '0.00', failed: 0 });
  const record = (result: SeedSummary | SeedError) => {
    tally.add(result);
    bar?.update(tally.seeds, { rate: tally.rate().toFixed(2), failed: tally.failures + tally.errors });
  };
  try {
    if (jobs === 1) {
      for (let seed = firstSeed; seed < firstSeed + runs; seed++) record(await runSeed(spec, seed, options.resolved));
    } else {
      await inWorkers(spec, firstSeed, runs, jobs, record);
    }
  } finally {
    bar?.stop();
  }
  return tally.summary();
}

async function inWorkers(spec: SeedRunSpec, firstSeed: number, runs: number, jobs: number, record: (result: SeedSummary | SeedError) => void): Promise<void> {
  if (!existsSync(fileURLToPath(workerUrl))) {
    throw new CliError(`--jobs ${jobs} runs seeds in worker threads from the built CLI (${fileURLToPath(workerUrl)} is missing): run \`npm run build\`, or use --jobs 1`, 3);
  }
  const workers: Worker[] = [];
  let next = firstSeed;
  const end = firstSeed + runs;
  let done = 0;
  let exited = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (message: string) => reject(new CliError(message, 3));
      for (let i = 0; i < jobs; i++) {
        const worker = new Worker(workerUrl, { workerData: { spec } });
        workers.push(worker);
        const feed = () => worker.postMessage(next < end ? next++ : null);
        worker.on('message', (reply: WorkerReply) => {
          if (reply.type === 'fatal') return fail(`a worker thread could not load the workload: ${reply.error}`);
          if (reply.type === 'result') {
            record(reply.result);
            if (++done === runs) return resolve();
          }
          feed();
        });
        worker.on('error', (error) => fail(`a worker thread failed: ${(error as Error)?.message?.split('\n')[0] ?? String(error)}`));
        worker.on('exit', (code) => {
          exited++;
          if (done < runs && (code !== 0 || exited === jobs)) fail(`a worker thread exited with code ${code} before the last seed`);
        });
      }
    });
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/** Adds up the seeds' summaries; keeps only the lowest failing seeds. */
class Tally {
  seeds = 0;
  failures = 0;
  errors = 0;
  private commands = 0;
  private divergences = 0;
  private merges = 0;
  private readonly invariants: Partial<Record<InvariantName, { checked: number; violations: number; failedSeeds: number }>> = {};
  private readonly workloads: Record<string, number> = {};
  private failed: FailedSeed[] = [];
  private readonly started = performance.now();

  constructor(private readonly options: RunSeedsOptions) {}

  add(result: SeedSummary | SeedError): void {
    this.seeds++;
    if ('error' in result) {
      this.errors++;
      this.fail({ seed: result.seed, error: result.error });
      return;
    }
    this.commands += result.commands;
    this.divergences += result.divergences;
    this.merges += result.merges;
    this.workloads[result.workload] = (this.workloads[result.workload] ?? 0) + 1;
    for (const [name, counts] of Object.entries(result.invariants) as [InvariantName, { checked: number; violations: number }][]) {
      const total = (this.invariants[name] ??= { checked: 0, violations: 0, failedSeeds: 0 });
      total.checked += counts.checked;
      total.violations += counts.violations;
      if (counts.violations > 0) total.failedSeeds++;
    }
    if (!result.ok) {
      this.failures++;
      this.fail({ seed: result.seed, workload: result.workload, traceHash: result.traceHash, ...(result.firstViolation === undefined ? {} : { violation: result.firstViolation }) });
    }
  }

  private fail(seed: Omit<FailedSeed, 'replay' | 'shrink'>): void {
    const replay = replayLine(this.options.spec, seed.seed, this.options.resolved.workloadFlags);
    this.failed.push({ ...seed, replay, shrink: `${replay} --shrink` });
    // Workers finish out of order: keep the lowest seeds, sorted, trimmed now and then.
    if (this.failed.length >= 2 * simRunsLimits.failuresListedMax) this.trim();
  }

  private trim(): void {
    this.failed = this.failed.sort((a, b) => a.seed - b.seed).slice(0, simRunsLimits.failuresListedMax);
  }

  rate(): number {
    const seconds = (performance.now() - this.started) / 1000;
    return seconds > 0 ? this.seeds / seconds : 0;
  }

  summary(): RunsSummary {
    this.trim();
    const durationMs = Math.round(performance.now() - this.started);
    const perSec = durationMs > 0 ? (this.seeds * 1000) / durationMs : 0;
    return {
      ok: this.failures === 0 && this.errors === 0,
      firstSeed: this.options.firstSeed, lastSeed: this.options.firstSeed + this.options.runs - 1, seeds: this.seeds, jobs: this.options.jobs,
      failures: this.failures, errors: this.errors, commands: this.commands, divergences: this.divergences, merges: this.merges,
      invariants: this.invariants, workloads: this.workloads,
      durationMs, seedsPerSec: Math.round(perSec * 100) / 100, seedsPerHour: Math.round(perSec * 3600),
      failed: this.failed,
    };
  }
}

/** The terminal summary: each failing seed with its replay and shrink commands, then the totals. */
export function formatRunsSummary(summary: RunsSummary): string {
  const bad = summary.failures + summary.errors;
  const lines = [
    `troupe sim seeds ${summary.firstSeed}..${summary.lastSeed} (${summary.seeds} runs, ${summary.jobs} job${summary.jobs === 1 ? '' : 's'}): ` +
      (summary.ok ? 'OK' : `FAILED (${summary.failures} seed(s) failed an invariant${summary.errors ? `, ${summary.errors} run(s) threw` : ''})`),
  ];
  for (const failed of summary.failed) {
    lines.push(`  seed ${failed.seed}: ${failed.error === undefined ? `FAILED ${failed.violation ?? ''}`.trimEnd() : `ERROR ${failed.error}`}`);
    lines.push(`    replay: ${failed.replay}`);
    lines.push(`    shrink: ${failed.shrink}`);
  }
  if (bad > summary.failed.length) lines.push(`  ... and ${bad - summary.failed.length} more failing seed(s)`);
  lines.push(`  workloads ${Object.entries(summary.workloads).map(([name, seeds]) => `${name} ${seeds}`).join(', ') || 'none'}`);
  lines.push(`  commands  ${summary.commands}; divergences ${summary.divergences}, merges ${summary.merges}`);
  for (const [name, total] of Object.entries(summary.invariants)) {
    lines.push(`  ${name}  ${total.failedSeeds === 0 ? 'ok  ' : 'FAIL'}  ${total.checked} checked${total.failedSeeds === 0 ? '' : `, ${total.violations} violation(s) in ${total.failedSeeds} seed(s)`}`);
  }
  lines.push(`  ${summary.seeds} seeds in ${(summary.durationMs / 1000).toFixed(1)} s: ${summary.seedsPerSec} seeds/s, ${summary.seedsPerHour} seeds/hour`);
  return lines.join('\n');
}
