import { readFile } from 'node:fs/promises';
import { type RunOptions, type ScheduleStep, type ShrinkResult, type SimOptions, shrink } from '@troupe/sim';

/** `--schedule <file>`: a JSON array of steps, an object with a `schedule` array, or the report `--shrink --json` prints. */
export async function loadSchedule(file: string): Promise<ScheduleStep[]> {
  const parsed = JSON.parse(await readFile(file, 'utf8')) as unknown;
  const object = parsed as { schedule?: unknown; shrink?: { schedule?: unknown } };
  const steps = Array.isArray(parsed) ? parsed : (object.schedule ?? object.shrink?.schedule);
  if (!Array.isArray(steps)) throw new Error(`expected a JSON array of steps or { "schedule": [...] }`);
  return steps as ScheduleStep[];
}

/**
 * `--shrink`: shrinks the failing run the report describes, every option fixed as the run used
 * it (`options` already holds the workload, stores and strategy of the command line). `replay`
 * gives the command line that replays a schedule with that many replicas and ticks.
 */
export async function shrinkForCli(
  options: SimOptions,
  used: RunOptions,
  replay: (shrunk: { replicas: number; steps: number }) => string,
): Promise<{ result: ShrinkResult; json: unknown; text: string }> {
  const result = await shrink({
    ...options,
    steps: used.steps,
    replicas: used.replicas,
    actors: used.actors,
    commandsPerTick: used.commandsPerTick,
    partitionMode: used.partitionMode,
    faults: used.faults,
    convergeRoundsMax: used.convergeRoundsMax,
    swarm: used.swarm,
  });
  const line = replay({ replicas: result.options.replicas ?? used.replicas, steps: result.options.steps ?? used.steps });
  const json = {
    status: result.status, invariant: result.invariant, originalSize: result.originalSize, size: result.size,
    replicas: result.options.replicas, steps: result.options.steps, runs: result.runs, stoppedBy: result.stoppedBy,
    durationMs: result.durationMs, traceHash: result.report.traceHash, replay: line, schedule: result.schedule,
  };
  const text = [
    `shrunk: ${result.originalSize} -> ${result.size} steps (${used.replicas} -> ${result.options.replicas} replicas, ${used.steps} -> ${result.options.steps} ticks), ` +
      `still failing ${result.invariant}; ${result.runs} runs, ${result.durationMs} ms (${result.stoppedBy})`,
    `schedule (save as shrunk.json):`,
    JSON.stringify(result.schedule),
    `replay: ${line}`,
  ].join('\n');
  return { result, json, text };
}
