import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SingleBar, Presets } from 'cli-progress';
import type { Workload } from '@troupe/runtime';
import { parseArgs } from 'node:util';
import { brokenStrategies, type BrokenStrategyName } from './brokenStrategies.js';
import { type PartitionMode, type SimOptions, type SimStoreKind, defaultRedisUrl, partitionModes, storeKinds } from './options.js';
import { formatReport } from './report.js';
import { simulate, simulateWithTrace } from './simulate.js';
import { writeHtmlReport } from './htmlReport.js'; // --html
import { loadSchedule, shrinkForCli } from './shrinkCli.js'; // --shrink, --schedule

const usage = `usage: troupe sim --seed N [--json] [--workload bank|counter | --app <module>] [--steps N] [--replicas 2-5]
       [--actors N] [--commands-per-tick N] [--partition-mode ${partitionModes.join('|')}] [--no-swarm] [--broken ${Object.keys(brokenStrategies).join('|')}]
       [--html <file>] [--store memory|redis] [--redis-url ${defaultRedisUrl}]
       [--shrink] [--schedule <file>]
Runs one deterministic simulation; exit code 0 only when every invariant held.`;

function int(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error(`--${name} must be an integer, got '${value}'`);
  return n;
}

/** Loads the `workload` export of an app module (`--app`): a package name or a file path. */
export type WorkloadLoader = (specifier: string) => Promise<Workload>;

/** The loader of the plain `node dist/main.js`: a file path or a package name resolvable from here. */
export const importWorkload: WorkloadLoader = async (specifier) => {
  const looksLikePath = specifier.startsWith('.') || isAbsolute(specifier);
  const module = (await import(looksLikePath ? pathToFileURL(resolve(specifier)).href : specifier)) as { workload?: Workload };
  if (!module.workload || typeof module.workload.nextCommand !== 'function') {
    throw new Error(`app module '${specifier}' exports no \`workload\` (actors and nextCommand(random, step, actors)); troupe sim --app needs one`);
  }
  return module.workload;
};

export interface SimCliOptions {
  /** How `--app` modules are loaded. Default `importWorkload`. */
  readonly loadWorkload?: WorkloadLoader;
  /** Show a progress bar on stderr (never with --json). Default: when stderr is a terminal. */
  readonly progress?: boolean;
}

/**
 * The simulator's command line (`troupe sim`, or `node dist/main.js`): runs one deterministic
 * simulation and resolves to the exit code, 0 only when every invariant held, 1 when one did not,
 * 2 for bad arguments, 3 when the run itself failed.
 */
export async function runSimCli(args: readonly string[], cli: SimCliOptions = {}): Promise<number> {
  try {
    return await simCli(args, cli);
  } catch (error) {
    if (error instanceof SimRunError) {
      // Not a usage problem: the run itself failed (a bug, or Redis unreachable in --store redis).
      console.error(`troupe sim: the run failed: ${(error.cause as Error)?.message ?? String(error.cause)}`);
      return 3;
    }
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
}

/** The simulation itself threw (exit 3), as opposed to bad arguments (exit 2). */
class SimRunError extends Error {}

async function simCli(args: readonly string[], cli: SimCliOptions): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
      workload: { type: 'string' },
      app: { type: 'string' }, // --app <module>: the app's `workload` export drives the run
      steps: { type: 'string' },
      replicas: { type: 'string' },
      actors: { type: 'string' },
      'commands-per-tick': { type: 'string' }, // client steps per tick (default 1)
      'partition-mode': { type: 'string' },
      'no-swarm': { type: 'boolean', default: false },
      broken: { type: 'string' },
      help: { type: 'boolean', default: false },
      html: { type: 'string' }, // --html <file>: self-contained HTML report with the timeline
      shrink: { type: 'boolean', default: false }, // --shrink: when the run fails, shrink its schedule (shrinkCli.ts)
      schedule: { type: 'string' }, // --schedule <file>: replay a saved (e.g. shrunk) schedule
      store: { type: 'string' }, // --store memory|redis: where the replicas keep their packs
      'redis-url': { type: 'string' }, // --redis-url <url>: the Redis of --store redis
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const seed = int('seed', values.seed) ?? Date.now() % 2 ** 31;
  if (values.app !== undefined && values.workload !== undefined) throw new Error('give --workload or --app, not both');
  const app = values.app === undefined ? undefined : { specifier: values.app, workload: await (cli.loadWorkload ?? importWorkload)(values.app) };
  const workload = app?.workload ?? values.workload ?? 'bank';
  if (workload !== 'bank' && workload !== 'counter' && typeof workload !== 'object') throw new Error(`unknown workload '${workload}'`);
  const mode = values['partition-mode'];
  if (mode !== undefined && !(partitionModes as readonly string[]).includes(mode)) throw new Error(`unknown partition mode '${mode}'`);
  const broken = values.broken as BrokenStrategyName | undefined;
  if (broken !== undefined && !(broken in brokenStrategies)) throw new Error(`unknown broken strategy '${broken}'`);
  const steps = int('steps', values.steps);
  const replicas = int('replicas', values.replicas);
  const actors = int('actors', values.actors);
  const commandsPerTick = int('commands-per-tick', values['commands-per-tick']);
  if (commandsPerTick !== undefined && commandsPerTick < 1) throw new Error(`--commands-per-tick must be at least 1, got ${commandsPerTick}`);
  const store = (values.store ?? 'memory') as SimStoreKind;
  if (!(storeKinds as readonly string[]).includes(store)) throw new Error(`unknown store '${store}'`);
  if (values['redis-url'] !== undefined && store !== 'redis') throw new Error('--redis-url needs --store redis');
  const redisUrl = values['redis-url'];
  const schedule = values.schedule === undefined ? undefined : await loadSchedule(values.schedule); // --schedule
  const bar = (cli.progress ?? process.stderr.isTTY) && !values.json ? new SingleBar({ format: 'sim [{bar}] {value}/{total} ticks | {eta}s left', stream: process.stderr }, Presets.shades_classic) : undefined;
  let barStarted = false;
  const onProgress = (tick: number, total: number) => {
    if (!bar) return;
    if (!barStarted) {
      bar.start(total, 0);
      barStarted = true;
    }
    bar.update(tick);
    if (tick === total) bar.stop();
  };
  // The trace's lines are kept in memory only for --html (a long run's trace is large).
  const simulation = values.html === undefined ? (o: SimOptions) => simulate(o).then((report) => ({ report, trace: undefined })) : simulateWithTrace;
  const { report, trace } = await simulation({
    onProgress,
    seed,
    workload,
    swarm: !values['no-swarm'],
    ...(steps === undefined ? {} : { steps }),
    ...(replicas === undefined ? {} : { replicas }),
    ...(actors === undefined ? {} : { actors }),
    ...(commandsPerTick === undefined ? {} : { commandsPerTick }),
    ...(mode === undefined ? {} : { partitionMode: mode as PartitionMode }),
    ...(broken ? { mergeStrategy: brokenStrategies[broken], mergeStrategyName: broken } : {}),
    ...(schedule ? { schedule } : {}), // --schedule
    store,
    ...(redisUrl === undefined ? {} : { redisUrl }),
  }).catch((error: unknown) => {
    throw new SimRunError('run failed', { cause: error });
  });
  // --shrink: with --json the shrink result is the report's `shrink` field, else printed after the summary
  const shrunk = values.shrink && !report.ok ? await shrinkForCli(seed, report.options, schedule, { store, ...(redisUrl === undefined ? {} : { redisUrl }) }, app) : undefined;
  console.log(values.json ? JSON.stringify(shrunk ? { ...report, shrink: shrunk.json } : report, null, 2) : formatReport(report));
  if (shrunk && !values.json) console.log(shrunk.text);
  if (values.shrink && report.ok && !values.json) console.log('shrink: the run passed, nothing to shrink');
  // --html <file>
  if (values.html !== undefined && trace) {
    await writeHtmlReport(report, trace, values.html);
    console.error(`HTML report written to ${values.html}`);
  }
  return report.ok ? 0 : 1;
}

