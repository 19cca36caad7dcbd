import { TroupeError, type Workload } from '@troupe/runtime';
import {
  type BrokenStrategyName,
  type InvariantName,
  type PartitionMode,
  type SimOptions,
  type SimReport,
  brokenStrategies,
  counterWorkload,
  simulate,
  tapeWorkload,
} from '@troupe/sim';
import { defaultApp, loadApp } from './appModule.js';
import { redisSimStores } from './simStores.js';

/**
 * What one seed of `troupe sim` runs, as plain data: the main thread hands it to every worker
 * thread (structured clone), which loads the same workload from it (a specifier, never a function).
 */
export interface SeedRunSpec {
  readonly workload?: 'bank' | 'counter' | 'tape';
  /** `--app` (its default, the example bank, when not given). */
  readonly app: string;
  /** `--app` came from the default (neither the command line nor TROUPE_APP). */
  readonly appFromDefault: boolean;
  readonly swarm: boolean;
  readonly steps?: number;
  readonly replicas?: number;
  readonly actors?: number;
  readonly commandsPerTick?: number;
  readonly partitionMode?: PartitionMode;
  readonly idleTimeoutMs?: number;
  readonly broken?: BrokenStrategyName;
  readonly store: 'memory' | 'redis';
  /** Only with `store: 'redis'`. */
  readonly redisUrl?: string;
  /** `--redis-url` was given (the replay line repeats it). */
  readonly redisUrlGiven?: boolean;
}

/** The workload of a spec and the flags that select it again (for the replay line). */
export interface ResolvedWorkload {
  readonly workload?: Workload;
  readonly workloads?: Workload[];
  readonly workloadFlags: string[];
}

/** One line with the error's code when it has one (a TroupeError). */
export function oneLine(error: unknown): string {
  const message = ((error as Error)?.message ?? String(error)).split('\n')[0];
  return error instanceof TroupeError ? `${message} [${error.code}]` : message!;
}

/** A spec's app could not be loaded or has no workload: a usage error of `troupe sim`. */
export class WorkloadError extends Error {
  override readonly name = 'WorkloadError';
}

/**
 * The workload the run drives and the flags that select it again (for the replay line): the
 * simulator's counter or tape (`--workload counter|tape`), or an app's `workload` export
 * (`--app`; `--workload bank` is the example bank app). Neither given: swarm draws the workload
 * and its shape among the simulator's own and the default app's (`workloads`), and the seed
 * draws the same again on replay (no flag); with --no-swarm, the default app's.
 */
export async function resolveWorkload(spec: SeedRunSpec): Promise<ResolvedWorkload> {
  if (spec.workload === 'counter') return { workload: counterWorkload, workloadFlags: ['--workload counter'] };
  if (spec.workload === 'tape') return { workload: tapeWorkload, workloadFlags: ['--workload tape'] };
  const specifier = spec.workload === 'bank' ? defaultApp : spec.app;
  const fromDefault = spec.workload === undefined && spec.appFromDefault;
  const app = await loadApp(specifier).catch((error: unknown) => {
    throw new WorkloadError(`${oneLine(error)}${fromDefault ? ' (or run the simulator\'s own workload: --workload counter)' : ''}`);
  });
  if (!app.workload) throw new WorkloadError(`app module '${specifier}' exports no \`workload\` (actors and nextCommand(random, step, actors)); troupe sim needs one`);
  if (fromDefault && spec.swarm) return { workloads: [app.workload], workloadFlags: [] };
  return { workload: app.workload, workloadFlags: [spec.workload === 'bank' ? '--workload bank' : `--app ${shellWord(spec.app)}`] };
}

/** The simulator's options for one seed of a spec. */
export function simOptionsOf(spec: SeedRunSpec, seed: number, resolved: ResolvedWorkload): SimOptions {
  return {
    seed,
    ...(resolved.workload ? { workload: resolved.workload } : {}),
    ...(resolved.workloads ? { workloads: resolved.workloads } : {}),
    swarm: spec.swarm,
    ...(spec.steps === undefined ? {} : { steps: spec.steps }),
    ...(spec.replicas === undefined ? {} : { replicas: spec.replicas }),
    ...(spec.actors === undefined ? {} : { actors: spec.actors }),
    ...(spec.commandsPerTick === undefined ? {} : { commandsPerTick: spec.commandsPerTick }),
    ...(spec.partitionMode === undefined ? {} : { partitionMode: spec.partitionMode }),
    ...(spec.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: spec.idleTimeoutMs }),
    ...(spec.broken ? { mergeStrategy: brokenStrategies[spec.broken], mergeStrategyName: spec.broken } : {}),
    ...(spec.store === 'redis' ? { stores: redisSimStores(spec.redisUrl) } : {}),
  };
}

/**
 * The command line that runs exactly this seed again (the seed and every option of the spec; the
 * seed draws the rest as it did); `--shrink` appended shrinks it.
 */
export function replayLine(spec: SeedRunSpec, seed: number, workloadFlags: readonly string[]): string {
  return [
    'troupe sim', `--seed ${seed}`, ...workloadFlags,
    ...(spec.steps === undefined ? [] : [`--steps ${spec.steps}`]),
    ...(spec.replicas === undefined ? [] : [`--replicas ${spec.replicas}`]),
    ...(spec.actors === undefined ? [] : [`--actors ${spec.actors}`]),
    ...(spec.commandsPerTick === undefined ? [] : [`--commands-per-tick ${spec.commandsPerTick}`]),
    ...(spec.partitionMode === undefined ? [] : [`--partition-mode ${spec.partitionMode}`]),
    ...(spec.idleTimeoutMs === undefined ? [] : [`--idle-timeout ${spec.idleTimeoutMs}`]),
    ...(spec.swarm ? [] : ['--no-swarm']),
    ...(spec.broken ? [`--broken ${spec.broken}`] : []),
    ...(spec.store === 'redis' ? ['--store redis', ...(spec.redisUrlGiven && spec.redisUrl ? [`--redis-url ${shellWord(spec.redisUrl)}`] : [])] : []),
  ].join(' ');
}

/** A word as a POSIX shell reads it back (quoted only when it needs to be). */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** What one seed's run posts back to the main thread: small, whatever the run's size. */
export interface SeedSummary {
  readonly seed: number;
  readonly ok: boolean;
  readonly traceHash: string;
  readonly workload: string;
  readonly commands: number;
  readonly divergences: number;
  readonly merges: number;
  readonly invariants: Partial<Record<InvariantName, { readonly checked: number; readonly violations: number }>>;
  /** The first violation of the first failed invariant, one line (failed runs only). */
  readonly firstViolation?: string;
  readonly durationMs: number;
}

/** A run that threw (e.g. Redis unreachable): the seed and one line. */
export interface SeedError {
  readonly seed: number;
  readonly error: string;
}

export function summarizeReport(report: SimReport): SeedSummary {
  const invariants: Partial<Record<InvariantName, { checked: number; violations: number }>> = {};
  let firstViolation: string | undefined;
  for (const [name, result] of Object.entries(report.invariants) as [InvariantName, SimReport['invariants'][InvariantName]][]) {
    invariants[name] = { checked: result.checked, violations: result.violations.length };
    const first = result.violations[0];
    if (firstViolation === undefined && first) firstViolation = `${name} ${first.actor}: ${first.detail}`.split('\n')[0]!.slice(0, 300);
  }
  return {
    seed: report.seed, ok: report.ok, traceHash: report.traceHash, workload: report.options.workload,
    commands: report.counts.commands, divergences: report.counts.divergences, merges: report.counts.merges,
    invariants, ...(firstViolation === undefined ? {} : { firstViolation }), durationMs: report.durationMs,
  };
}

/** Runs one seed of a spec (the workload already resolved) to its summary, or the error it threw. */
export async function runSeed(spec: SeedRunSpec, seed: number, resolved: ResolvedWorkload): Promise<SeedSummary | SeedError> {
  try {
    return summarizeReport(await simulate(simOptionsOf(spec, seed, resolved)));
  } catch (error) {
    return { seed, error: oneLine(error) };
  }
}
