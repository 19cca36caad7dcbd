import { dirname } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { createRuntime, MemoryStore, type WorkloadCommand, type WorkloadRandom } from '@troupe/runtime';
import { Counter, counterWorkload, simulate } from '@troupe/sim';
import { runJsonChild } from './child.js';
import type { SimMillionOptions, SimMillionResult } from './simMillion.js';
import { collectGarbage, settle, type Summary, summarize } from './stats.js';

/**
 * Simulated commands per second of `@troupe/sim` (counter workload, swarm off: 3 replicas,
 * `options.actors` actor ids, `options.commandsPerTick` client steps per tick, `mixed`
 * partitions, default fault rates, memory stores), at several run sizes.
 *
 * Baseline, measured right after each simulator run: the same number of commands, drawn by the
 * same workload from a seeded PRNG, sent one by one (each awaited) through ONE plain
 * embedded runtime (`createRuntime` + `MemoryStore`, the sim's own `Counter` definition, unwrapped:
 * no tracing, no replication, no nemesis, no checkers). Ratio = sim rate / baseline rate, per run.
 */
export interface SimBenchOptions {
  /** Actor ids the clients use (fixed across sizes: per-actor histories grow with the run). Default 1,000. */
  readonly actors?: number;
  /** Client steps per tick. Default 50. */
  readonly commandsPerTick?: number;
  /** Run sizes (`steps` ticks) and how many seeds (one run each) per size. */
  readonly sizes: readonly { readonly steps: number; readonly seeds: number }[];
  /** The baseline repeats its command list (fresh runtime each time) until at least this many commands. */
  readonly baselineMinCommands: number;
}

export interface SimRun {
  readonly seed: number;
  readonly steps: number;
  readonly commands: number;
  readonly ok: boolean;
  readonly errors: number;
  readonly durationMs: number;
  /** The simulator's own figure: commands that reached a live replica / wall time of the whole run. */
  readonly simRate: number;
  /** CPU time of the process during the run (user + system; GC threads included), ms. */
  readonly cpuMs: number;
  /** Commands per CPU-second of the run: less sensitive than `simRate` to other load on a shared machine. */
  readonly simCpuRate: number;
  readonly baselineRate: number;
  readonly ratio: number;
  /** RSS after the run (before any GC) minus RSS after a full GC right before it. */
  readonly rssGrowthMiB: number;
  readonly heapGrowthMiB: number;
  readonly divergences: number;
  readonly syncs: number;
  /** The report's `durationMs` by phase (ticks, converging, collecting, final checks), ms. */
  readonly phasesMs: { readonly ticks: number; readonly converge: number; readonly collect: number; readonly check: number };
}

export interface SimSize {
  readonly steps: number;
  readonly commands: Summary;
  readonly durationMs: Summary;
  readonly simRate: Summary;
  /** Commands per CPU-second (see `SimRun.simCpuRate`). */
  readonly simCpuRate: Summary;
  readonly baselineRate: Summary;
  readonly ratio: Summary;
  /** RSS growth per 1,000 simulated commands, MiB. */
  readonly rssMiBPer1kCommands: Summary;
  /** Commands per second of the ticks phase alone (the run with its I8 views and I9 checks; no heal, collection or final checks). */
  readonly ticksRate: Summary;
  /** Share of the run after the ticks: converging, collecting the final state, final checks. */
  readonly finalShare: Summary;
  readonly runs: readonly SimRun[];
}

export interface SimResults {
  readonly actors: number;
  readonly commandsPerTick: number;
  readonly sizes: readonly SimSize[];
  /** Median sim rate at the largest size / at the smallest. 1 = flat. */
  readonly scaling: number;
  /** Exponent k of duration ∝ commands^k between the two largest sizes (1 = linear). */
  readonly durationExponent: number;
  readonly allOk: boolean;
}

const mib = (bytes: number) => bytes / 2 ** 20;

/** Plain-runtime commands/s over `commands`, sent one by one, repeated on fresh runtimes until `minCommands`. */
export async function baseline(commands: readonly WorkloadCommand[], minCommands: number): Promise<number> {
  const repeats = Math.max(1, Math.ceil(minCommands / Math.max(1, commands.length)));
  let elapsed = 0;
  for (let r = 0; r < repeats; r++) {
    const runtime = createRuntime({ actors: [Counter], store: new MemoryStore() });
    const start = performance.now();
    for (const c of commands) {
      const reply = await runtime.send(c.actor, { type: c.type, payload: c.payload } as never);
      if (reply.status !== 'accepted') throw new Error(`baseline command was ${reply.status}`);
    }
    elapsed += performance.now() - start;
    await runtime.stop();
  }
  return (commands.length * repeats) / (elapsed / 1000);
}

/** The counter workload's first `n` commands for a seed (same actor ids and payloads as the simulator draws). */
export function commandList(seed: number, n: number, actors: number): WorkloadCommand[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => counterWorkload.nextCommand(random, i, actors));
}

/** mulberry32: a small seeded PRNG for the baseline's commands (the same shape of workload as the simulator's, not its stream). */
function seededRandom(seed: number): WorkloadRandom {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return { int: (min, max) => min + Math.floor(next() * (max - min + 1)) };
}

export async function benchSim(options: SimBenchOptions, log: (text: string) => void): Promise<SimResults> {
  const actors = options.actors ?? 1_000;
  // idleTimeoutMs 0: no passivation, as in the runs BENCHMARKS.md compares with.
  const shape = { workload: counterWorkload, replicas: 3, swarm: false, actors, commandsPerTick: options.commandsPerTick ?? 50, idleTimeoutMs: 0 } as const;
  // Warm-up (not recorded): one small run and one small baseline, so JIT is not billed to the first size.
  await simulate({ ...shape, seed: 999, steps: 20 });
  await baseline(commandList(999, 1_000, actors), 1_000);

  const sizes: SimSize[] = [];
  let seed = 1;
  for (const { steps, seeds } of options.sizes) {
    const runs: SimRun[] = [];
    for (let s = 0; s < seeds; s++, seed++) {
      collectGarbage();
      await settle();
      const rss0 = process.memoryUsage().rss;
      const heap0 = process.memoryUsage().heapUsed;
      const cpu0 = process.cpuUsage();
      const report = await simulate({ ...shape, seed, steps });
      const cpu = process.cpuUsage(cpu0);
      const mem = process.memoryUsage();
      const cpuMs = (cpu.user + cpu.system) / 1000;
      const commands = report.counts.commands;
      const simRate = (commands * 1000) / report.durationMs;
      const baselineRate = await baseline(commandList(seed, commands, report.options.actors), options.baselineMinCommands);
      runs.push({
        seed,
        steps,
        commands,
        ok: report.ok,
        errors: report.counts.errors,
        durationMs: report.durationMs,
        simRate,
        cpuMs: Math.round(cpuMs),
        simCpuRate: (commands * 1000) / Math.max(1, cpuMs),
        baselineRate,
        ratio: simRate / baselineRate,
        rssGrowthMiB: mib(mem.rss - rss0),
        heapGrowthMiB: mib(mem.heapUsed - heap0),
        divergences: report.counts.divergences,
        syncs: report.counts.syncs,
        phasesMs: report.phasesMs,
      });
    }
    const size: SimSize = {
      steps,
      commands: summarize(runs.map((r) => r.commands)),
      durationMs: summarize(runs.map((r) => r.durationMs)),
      simRate: summarize(runs.map((r) => r.simRate)),
      simCpuRate: summarize(runs.map((r) => r.simCpuRate)),
      baselineRate: summarize(runs.map((r) => r.baselineRate)),
      ratio: summarize(runs.map((r) => r.ratio)),
      rssMiBPer1kCommands: summarize(runs.map((r) => (r.rssGrowthMiB * 1000) / r.commands)),
      ticksRate: summarize(runs.map((r) => (r.commands * 1000) / Math.max(1, r.phasesMs.ticks))),
      finalShare: summarize(runs.map((r) => (r.phasesMs.converge + r.phasesMs.collect + r.phasesMs.check) / r.durationMs)),
      runs,
    };
    sizes.push(size);
    log(`sim: ${steps} steps x ${seeds} seeds: ${size.simRate.median.toFixed(0)} cmd/s (${size.simCpuRate.median.toFixed(0)} per CPU-second; baseline ${size.baselineRate.median.toFixed(0)}), ${size.durationMs.median.toFixed(0)} ms per run`);
  }

  const first = sizes[0]!;
  const last = sizes[sizes.length - 1]!;
  const prev = sizes[sizes.length - 2] ?? first;
  const logRatio = Math.log(last.commands.median / prev.commands.median);
  const durationExponent = logRatio > 0 ? Math.log(last.durationMs.median / prev.durationMs.median) / logRatio : 1;
  return {
    actors,
    commandsPerTick: shape.commandsPerTick,
    sizes,
    scaling: last.simRate.median / first.simRate.median,
    durationExponent,
    allOk: sizes.every((z) => z.runs.every((r) => r.ok && r.errors === 0)),
  };
}

export type { SimMillionOptions, SimMillionResult };

const simMillionScript = fileURLToPath(new URL('./simMillion.ts', import.meta.url));

/**
 * One large run (default: 20,000 ticks x 50 client steps, about a million commands) in a child
 * process with Node's default heap limit (what `troupe sim` runs with; 4,144 MiB on this machine:
 * until #17 the run needed a 16 GiB limit, which also let V8 keep gigabytes of garbage before
 * collecting it), so its peak RSS is measured, not extrapolated. Minutes long:
 * `npm run bench -- --only=sim-1m`, not part of the default scenarios.
 */
export async function benchSimMillion(options: SimMillionOptions, log: (text: string) => void, maxOldSpaceMiB?: number): Promise<SimMillionResult> {
  const limit = maxOldSpaceMiB === undefined ? `Node's default heap limit, ${Math.round(getHeapStatistics().heap_size_limit / 2 ** 20)} MiB here` : `--max-old-space-size=${maxOldSpaceMiB}`;
  log(`sim-1m: ${options.steps} ticks x ${options.commandsPerTick} client steps, ${options.actors} actors, seed ${options.seed}, child process (${limit})`);
  return runJsonChild<SimMillionResult>('sim-1m', simMillionScript, [JSON.stringify(options)], { cwd: dirname(simMillionScript), maxOldSpaceMiB });
}
