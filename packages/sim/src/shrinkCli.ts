import type { Workload } from '@troupe/runtime';
import { readFile } from 'node:fs/promises';
import { brokenStrategies, type BrokenStrategyName } from './brokenStrategies.js';
import type { RunOptions, SimOptions } from './options.js';
import type { Schedule, ScheduleStep } from './schedule.js';
import { type ShrinkResult, shrink } from './shrink.js';

/** `--schedule <file>`: a JSON array of steps, an object with a `schedule` array, or the report `--shrink --json` prints. */
export async function loadSchedule(file: string): Promise<ScheduleStep[]> {
  const parsed = JSON.parse(await readFile(file, 'utf8')) as unknown;
  const object = parsed as { schedule?: unknown; shrink?: { schedule?: unknown } };
  const steps = Array.isArray(parsed) ? parsed : (object.schedule ?? object.shrink?.schedule);
  if (!Array.isArray(steps)) throw new Error(`--schedule ${file}: expected a JSON array of steps or { "schedule": [...] }`);
  return steps as ScheduleStep[];
}

/** `--shrink`: shrinks the failing run the report describes (every option fixed as it was used). */
export async function shrinkForCli(
  seed: number,
  used: RunOptions,
  schedule?: Schedule,
  store?: Pick<SimOptions, 'store' | 'redisUrl'>,
  app?: { specifier: string; workload: Workload },
): Promise<{ result: ShrinkResult; json: unknown; text: string }> {
  const broken = used.mergeStrategy in brokenStrategies ? (used.mergeStrategy as BrokenStrategyName) : undefined;
  const options: SimOptions = {
    seed, workload: app ? app.workload : (used.workload as 'bank' | 'counter'), steps: used.steps, replicas: used.replicas, actors: used.actors,
    commandsPerTick: used.commandsPerTick,
    partitionMode: used.partitionMode, faults: used.faults, convergeRoundsMax: used.convergeRoundsMax, swarm: used.swarm,
    ...(broken ? { mergeStrategy: brokenStrategies[broken], mergeStrategyName: broken } : {}),
    ...(schedule ? { schedule } : {}),
    ...store, // --store redis: every shrink run on Redis too (each under fresh prefixes, deleted after it)
  };
  const result = await shrink(options);
  const replay = `troupe sim --seed ${seed} ${app ? `--app ${app.specifier}` : `--workload ${used.workload}`} --replicas ${result.options.replicas} --steps ${result.options.steps}` +
    `${used.commandsPerTick === 1 ? '' : ` --commands-per-tick ${used.commandsPerTick}`}${used.swarm ? '' : ' --no-swarm'}${broken ? ` --broken ${broken}` : ''}` +
    `${store?.store === 'redis' ? ` --store redis${store.redisUrl ? ` --redis-url ${store.redisUrl}` : ''}` : ''} --schedule shrunk.json`;
  const json = {
    status: result.status, invariant: result.invariant, originalSize: result.originalSize, size: result.size,
    replicas: result.options.replicas, steps: result.options.steps, runs: result.runs, stoppedBy: result.stoppedBy,
    durationMs: result.durationMs, traceHash: result.report.traceHash, replay, schedule: result.schedule,
  };
  const text = [
    `shrunk: ${result.originalSize} -> ${result.size} steps (${used.replicas} -> ${result.options.replicas} replicas, ${used.steps} -> ${result.options.steps} ticks), ` +
      `still failing ${result.invariant}; ${result.runs} runs, ${result.durationMs} ms (${result.stoppedBy})`,
    `schedule (save as shrunk.json):`,
    JSON.stringify(result.schedule),
    `replay: ${replay}`,
  ].join('\n');
  return { result, json, text };
}
