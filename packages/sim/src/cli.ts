import { parseArgs } from 'node:util';
import { brokenStrategies, type BrokenStrategyName } from './brokenStrategies.js';
import { type PartitionMode, type SimStoreKind, defaultRedisUrl, partitionModes, storeKinds } from './options.js';
import { formatReport } from './report.js';
import { simulateWithTrace } from './simulate.js';
import { writeHtmlReport } from './htmlReport.js'; // --html
import { loadSchedule, shrinkForCli } from './shrinkCli.js'; // --shrink, --schedule

const usage = `usage: troupe sim --seed N [--json] [--workload bank|counter] [--steps N] [--replicas 2-5]
       [--actors N] [--partition-mode ${partitionModes.join('|')}] [--no-swarm] [--broken ${Object.keys(brokenStrategies).join('|')}]
       [--html <file>] [--store memory|redis] [--redis-url ${defaultRedisUrl}]
       [--shrink] [--schedule <file>]
Runs one deterministic simulation; exit code 0 only when every invariant held.`;

function int(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error(`--${name} must be an integer, got '${value}'`);
  return n;
}

/**
 * The simulator's command line (`troupe sim`, or `node dist/main.js`): runs one deterministic
 * simulation and resolves to the exit code, 0 only when every invariant held, 1 when one did not,
 * 2 for bad arguments.
 */
export async function runSimCli(args: readonly string[]): Promise<number> {
  try {
    return await simCli(args);
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
}

async function simCli(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
      workload: { type: 'string' },
      steps: { type: 'string' },
      replicas: { type: 'string' },
      actors: { type: 'string' },
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
  const workload = values.workload ?? 'bank';
  if (workload !== 'bank' && workload !== 'counter') throw new Error(`unknown workload '${workload}'`);
  const mode = values['partition-mode'];
  if (mode !== undefined && !(partitionModes as readonly string[]).includes(mode)) throw new Error(`unknown partition mode '${mode}'`);
  const broken = values.broken as BrokenStrategyName | undefined;
  if (broken !== undefined && !(broken in brokenStrategies)) throw new Error(`unknown broken strategy '${broken}'`);
  const steps = int('steps', values.steps);
  const replicas = int('replicas', values.replicas);
  const actors = int('actors', values.actors);
  const store = (values.store ?? 'memory') as SimStoreKind;
  if (!(storeKinds as readonly string[]).includes(store)) throw new Error(`unknown store '${store}'`);
  if (values['redis-url'] !== undefined && store !== 'redis') throw new Error('--redis-url needs --store redis');
  const redisUrl = values['redis-url'];
  const schedule = values.schedule === undefined ? undefined : await loadSchedule(values.schedule); // --schedule
  const { report, trace } = await simulateWithTrace({
    seed,
    workload,
    swarm: !values['no-swarm'],
    ...(steps === undefined ? {} : { steps }),
    ...(replicas === undefined ? {} : { replicas }),
    ...(actors === undefined ? {} : { actors }),
    ...(mode === undefined ? {} : { partitionMode: mode as PartitionMode }),
    ...(broken ? { mergeStrategy: brokenStrategies[broken], mergeStrategyName: broken } : {}),
    ...(schedule ? { schedule } : {}), // --schedule
    store,
    ...(redisUrl === undefined ? {} : { redisUrl }),
  });
  // --shrink: with --json the shrink result is the report's `shrink` field, else printed after the summary
  const shrunk = values.shrink && !report.ok ? await shrinkForCli(seed, report.options, schedule, { store, ...(redisUrl === undefined ? {} : { redisUrl }) }) : undefined;
  console.log(values.json ? JSON.stringify(shrunk ? { ...report, shrink: shrunk.json } : report, null, 2) : formatReport(report));
  if (shrunk && !values.json) console.log(shrunk.text);
  if (values.shrink && report.ok && !values.json) console.log('shrink: the run passed, nothing to shrink');
  // --html <file>
  if (values.html !== undefined) {
    await writeHtmlReport(report, trace, values.html);
    console.error(`HTML report written to ${values.html}`);
  }
  return report.ok ? 0 : 1;
}

