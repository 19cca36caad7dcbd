import { performance } from 'node:perf_hooks';
import { type ActorRef, InvalidOptionError, runtimeDefaults } from '@troupe/runtime';
import { checkAll } from './checkers/index.js';
import { ViewWatch, viewPerWriteActorsMax } from './checkers/i8.js';
import { StabilityWatch } from './checkers/i9.js';
import { collectFinalState } from './collect.js';
import { Executor, type ReplicatorFactory } from './executor.js';
import { StepGenerator } from './generator.js';
import { RunObserver } from './observer.js';
import { type RunOptions, type SimOptions, resolveOptions, workloadFor } from './options.js';
import { Replicas, epochMs } from './replicas.js';
import { type SimReport, emptyCounts } from './report.js';
import { Rng } from './rng.js';
import type { Schedule, ScheduleFields, ScheduleStep } from './schedule.js';
import { memoryStores } from './stores.js';
import { type SimTrace, TraceLog } from './trace.js';
import { traced } from './traced.js';
import { type ViewFactory, memoryViews, viewProjection } from './views.js';

export type { SimTrace, TraceEvent, TraceResolution } from './trace.js';

/**
 * Hooks for tests that plant a bug outside the resolution (which `mergeStrategy` covers) and show
 * the simulator catches it. Not options of a run: nothing is drawn for them, and they are not in the trace.
 */
export interface SimHooks {
  /** Makes each link's replicator instead of the runtime's `Replicator` (e.g. one that advances its cursor too early). */
  readonly replicator?: ReplicatorFactory;
  /** Makes each replica's view instead of the runtime's `MemoryView` (e.g. one that ignores merge packs). */
  readonly view?: ViewFactory;
}

/**
 * One deterministic run: N replicas with their stores (memory by default), virtual clocks and
 * one-way replicators between every pair, clients sending the workload's commands to random
 * replicas, a nemesis (partitions, dropped / duplicated / delayed syncs, clock skew and steps
 * back, crashes) for `steps` ticks; then a full heal and a bounded number of sync rounds to
 * converge; then the checkers of I1-I9 (I8 views and I9 stability watch the run as it goes). Everything is drawn from one PRNG seeded by
 * `options.seed` (`StepGenerator`), or replayed from `options.schedule`, and run by one
 * `Executor`; every observable step is appended to a trace whose sha256 is the report's `traceHash`.
 */
export async function simulate(options: SimOptions & SimHooks): Promise<SimReport & ScheduleFields> {
  return (await run(options, false)).report;
}

/** Like `simulate`, and also returns the trace events (same run, same `traceHash`). */
export function simulateWithTrace(options: SimOptions & SimHooks): Promise<{ report: SimReport & ScheduleFields; trace: SimTrace }> {
  return run(options, true);
}

async function run(options: SimOptions & SimHooks, keepTrace: boolean): Promise<{ report: SimReport & ScheduleFields; trace: SimTrace }> {
  const started = performance.now();
  const rng = new Rng(options.seed);
  let config = resolveOptions(rng, options);
  const workload = workloadFor(config, options);
  const definitions = new Map(workload.actors.map((d) => [d.type, traced(d)]));
  const trace = new TraceLog(keepTrace);
  const counts = emptyCounts();
  const observer = new RunObserver(counts, trace);
  let actors: () => readonly ActorRef[] = () => [];
  const views = new ViewWatch(viewProjection(workload, definitions), options.view ?? memoryViews, () => actors().length <= viewPerWriteActorsMax);
  const stores = await (options.stores ?? memoryStores)({ seed: options.seed, replicas: config.replicas });
  const replicas = new Replicas({
    count: config.replicas,
    definitions,
    stores,
    ...(options.mergeStrategy ? { strategy: options.mergeStrategy } : {}),
    // 0 (off): the runtime's own default, never reached (nothing calls passivateIdle).
    idleTimeoutMs: config.idleTimeoutMs > 0 ? config.idleTimeoutMs : runtimeDefaults.idleTimeoutMs,
    observer: (replica) => observer.of(replica),
    views,
  });
  let report: SimReport & ScheduleFields;
  try {
    await replicas.open();
    config = withConnectionDrops(config, options, replicas.all.every((r) => r.store.connection !== undefined));
    // commandsPerTick is left out of the trace at its default, so runs that predate it keep their trace hashes.
    const { commandsPerTick, ...shared } = config;
    trace.record({ k: 'options', ...shared, ...(commandsPerTick === 1 ? {} : { commandsPerTick }) });
    const recorded: ScheduleStep[] | undefined = options.recordSchedule && !options.schedule ? [] : undefined;
    let generator: StepGenerator | undefined;
    const stability = new StabilityWatch(replicas.all, () => actors());
    const executor = new Executor(replicas, trace, counts, {
      idleTimeoutMs: config.idleTimeoutMs,
      noReply: (command) => generator?.noReply(command),
      ...(options.replicator ? { replicator: options.replicator } : {}),
      stability,
    });
    actors = () => executor.actors;
    const scheduled = options.schedule ? byTick(options.schedule) : undefined;
    if (!scheduled) {
      const network = executor.network;
      generator = new StepGenerator(rng, config, workload, { isUp: (r) => replicas.get(r).up, get partitioned() { return network.partitioned; } });
    }
    for (let t = 0; t < config.steps; t++) {
      await executor.startTick(t);
      // Replaying skips the generator: the recorded steps of the tick, in their order, through the same executor.
      for (const step of scheduled ? (scheduled.get(t) ?? []) : generator!.tick(t)) {
        recorded?.push(step);
        await executor.execute(step);
      }
      await views.endOfTick();
      options.onProgress?.(t + 1, config.steps);
    }
    const ticksEnded = performance.now();
    const convergence = await executor.healAndConverge(config.steps, config.convergeRoundsMax);
    const I9 = await executor.stabilize();
    for (const r of replicas.all) r.store.watching = false;
    const collectStarted = performance.now();
    const context = await collectFinalState({ replicas: replicas.all, definitions, replies: executor.replies, resolutions: observer.resolutions, counts }, convergence);
    const checkStarted = performance.now();
    const I8 = await views.check(replicas.all, context.actors);
    const invariants = await checkAll(context, executor.replies, { I8, ...(I9 ? { I9 } : {}) });
    const checkMs = Math.round(performance.now() - checkStarted);
    const durationMs = Math.max(1, Math.round(performance.now() - started));
    report = {
      seed: options.seed,
      traceHash: trace.digest(),
      ok: Object.values(invariants).every((r) => r.ok),
      options: config,
      store: stores.used,
      invariants,
      counts,
      replicas: replicas.all.map((r) => ({
        id: r.id,
        packs: [...context.replicas[r.index]!.packs.values()].reduce((n, keys) => n + keys.length, 0),
        crashes: r.crashes,
        clockSkewMs: r.clock.now() - epochMs - executor.virtualMs,
      })),
      convergenceRounds: convergence.rounds,
      traceLength: trace.length,
      durationMs,
      checkMs,
      phasesMs: {
        ticks: Math.round(ticksEnded - started),
        converge: Math.round(collectStarted - ticksEnded),
        collect: Math.round(checkStarted - collectStarted),
        check: checkMs,
      },
      simulatedCommandsPerSec: Math.round((counts.commands * 1000) / durationMs),
      ...(recorded ? { schedule: recorded } : {}),
      ...(options.schedule ? { replayedSteps: options.schedule.length } : {}),
    };
  } catch (error) {
    // Clean up (the stores' data included), but let the run's own error win over a cleanup failure.
    await replicas.stop().catch(() => undefined);
    throw error;
  }
  await replicas.stop();
  return { report, trace: trace.expose() };
}

/**
 * Connection drops need stores whose connection can be cut (Redis mode): elsewhere the rate is 0
 * (drawn or default), and a given one is an error rather than a fault that never fires.
 */
function withConnectionDrops(config: RunOptions, given: SimOptions, cuttable: boolean): RunOptions {
  if (cuttable) return config;
  if ((given.faults?.connectionDrop ?? 0) > 0) {
    throw new InvalidOptionError('faults.connectionDrop', 'needs stores whose connection can be cut (Redis mode: a store factory with `connection`, e.g. prefixedStores with ioredisConnection)');
  }
  return { ...config, faults: { ...config.faults, connectionDrop: 0 } };
}

function byTick(schedule: Schedule): Map<number, ScheduleStep[]> {
  const out = new Map<number, ScheduleStep[]>();
  for (const step of schedule) {
    const list = out.get(step.t);
    if (list) list.push(step);
    else out.set(step.t, [step]);
  }
  return out;
}
