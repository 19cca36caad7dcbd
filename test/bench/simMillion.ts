/**
 * One large simulation in its own process (started by `benchSimMillion` in sim.ts with
 * `--expose-gc` and Node's default heap limit), so that its peak RSS is its own:
 *   node --expose-gc --import tsx bench/simMillion.ts '{"steps":20000,...}'
 * Prints progress on stderr and one JSON line (`SimMillionResult`) on stdout.
 */
import { counterWorkload, simulate } from '@troupe/sim';
import { baseline, commandList } from './sim.js';

export interface SimMillionOptions {
  readonly seed: number;
  readonly steps: number;
  readonly actors: number;
  readonly commandsPerTick: number;
  /** Commands of the plain-runtime baseline measured in the same process after the run. */
  readonly baselineCommands: number;
}

export interface SimMillionResult {
  readonly options: SimMillionOptions;
  readonly ok: boolean;
  readonly invariantsChecked: Record<string, number>;
  readonly violations: number;
  readonly commands: number;
  readonly divergences: number;
  readonly merges: number;
  readonly durationMs: number;
  readonly checkMs: number;
  /** Simulated commands per second over the whole run (the report's figure). */
  readonly simRate: number;
  /** Commands per second of the ticks alone (until the heal): the simulation without the final checks. */
  readonly ticksRate: number;
  /** Peak RSS of this process (`process.resourceUsage().maxRSS`), MiB. */
  readonly peakRssMiB: number;
  /** Peak RSS when the ticks were done (before the heal, convergence and checkers), MiB. */
  readonly peakRssAtEndOfTicksMiB: number;
  /** Heap in use after a full GC when the ticks were done, MiB: what the run holds. */
  readonly liveHeapAtEndOfTicksMiB: number;
  /** Plain runtime, same workload, commands one by one: commands/s. */
  readonly baselineRate: number;
}

const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

/** Violations of one invariant: a checker lists at most 50, then one entry '<n> more violations not listed'. */
function violationCount(violations: readonly { readonly actor: string; readonly detail: string }[]): number {
  return violations.reduce((n, v) => {
    const more = v.actor === '*' ? /^(\d+) more violations not listed$/.exec(v.detail) : null;
    return n + (more ? Number(more[1]) : 1);
  }, 0);
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as SimMillionOptions;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const started = performance.now();
  let ticksDoneAt = 0;
  let peakRssAtEndOfTicksMiB = 0;
  let liveHeapAtEndOfTicksMiB = 0;
  let lastTenth = 0;
  const report = await simulate({
    seed: options.seed,
    workload: counterWorkload,
    idleTimeoutMs: 0,
    replicas: 3,
    swarm: false,
    steps: options.steps,
    actors: options.actors,
    commandsPerTick: options.commandsPerTick,
    onProgress: (tick, steps) => {
      const tenth = Math.floor((tick * 10) / steps);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        process.stderr.write(`  sim-1m: ${tenth * 10}% of the ticks, ${((performance.now() - started) / 1000).toFixed(0)} s, RSS ${mib(process.memoryUsage().rss)} MiB\n`);
      }
      if (tick === steps) {
        ticksDoneAt = performance.now();
        peakRssAtEndOfTicksMiB = Math.round(process.resourceUsage().maxRSS / 1024);
        gc();
        liveHeapAtEndOfTicksMiB = mib(process.memoryUsage().heapUsed);
      }
    },
  });
  const peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  // The ticks' share of the commands is all of them (the heal sends none).
  const ticksRate = (report.counts.commands * 1000) / (ticksDoneAt - started);

  const baselineRate = await baseline(commandList(options.seed, options.baselineCommands, options.actors), options.baselineCommands);

  const result: SimMillionResult = {
    options,
    ok: report.ok,
    invariantsChecked: Object.fromEntries(Object.entries(report.invariants).map(([k, v]) => [k, v.checked])),
    violations: Object.values(report.invariants).reduce((n, v) => n + violationCount(v.violations), 0),
    commands: report.counts.commands,
    divergences: report.counts.divergences,
    merges: report.counts.merges,
    durationMs: report.durationMs,
    checkMs: report.checkMs,
    simRate: report.simulatedCommandsPerSec,
    ticksRate,
    peakRssMiB,
    peakRssAtEndOfTicksMiB,
    liveHeapAtEndOfTicksMiB,
    baselineRate,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
