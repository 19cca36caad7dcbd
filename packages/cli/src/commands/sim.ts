import { availableParallelism } from 'node:os';
import { Command, type ErrorOptions, Option } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import {
  type BrokenStrategyName,
  type PartitionMode,
  type SimOptions,
  brokenStrategies,
  formatReport,
  partitionModes,
  simulate,
  simulateWithTrace,
  writeHtmlReport,
} from '@troupe/sim';
import { CliError, type Outcome, appOption, integer } from '../shared.js';
import { type SeedRunSpec, WorkloadError, oneLine, resolveWorkload, simOptionsOf } from '../simRun.js';
import { formatRunsSummary, runSeeds, simRunsLimits } from '../simRuns.js';
import { loadSchedule, shrinkForCli } from '../simShrink.js';
import { simRedisDefaults } from '../simStores.js';

/** Exit codes of `troupe sim`: 1 is kept for "an invariant failed", so usage errors are 2 (not commander's 1). */
export const simExitCodes = { ok: 0, invariantFailed: 1, usage: 2, runFailed: 3 } as const;

interface SimFlags {
  readonly seed?: number;
  readonly json: boolean;
  readonly workload?: 'bank' | 'counter' | 'tape';
  readonly app: string;
  readonly steps?: number;
  readonly replicas?: number;
  readonly actors?: number;
  readonly commandsPerTick?: number;
  readonly partitionMode?: PartitionMode;
  readonly idleTimeout?: number;
  readonly swarm: boolean;
  readonly broken?: BrokenStrategyName;
  readonly html?: string;
  readonly store: 'memory' | 'redis';
  readonly redisUrl: string;
  readonly shrink: boolean;
  readonly schedule?: string;
  readonly runs?: number;
  readonly jobs?: number;
}

/** Every usage error of `troupe sim` (commander's, and those of the action) exits 2. */
class SimCommand extends Command {
  override error(message: string, errorOptions?: ErrorOptions): never {
    return super.error(message, { ...errorOptions, exitCode: simExitCodes.usage });
  }
}

export function simCommand(outcome: Outcome): Command {
  return new SimCommand('sim')
    .description('run one deterministic partition simulation of the app\'s workload and check invariants I1-I9 (exit 1 if one failed)')
    .addOption(new Option('--seed <n>', 'the only source of randomness (default: a random seed, printed in the report)').argParser(integer(Number.MIN_SAFE_INTEGER)))
    .option('--json', 'print the report as JSON (no progress bar)', false)
    .addOption(appOption())
    .addOption(
      new Option('--workload <name>', 'run this workload only: "counter" or "tape" (the simulator\'s own), or "bank" (the example app); default: swarm draws one of them and its shape (the app\'s with --no-swarm)').choices(['bank', 'counter', 'tape']),
    )
    .addOption(new Option('--steps <n>', 'ticks of workload under faults before the heal (default 200)').argParser(integer(0)))
    .addOption(new Option('--replicas <n>', 'replica count (default: drawn 2-5, 3 with --no-swarm)').argParser(integer(2, 32)))
    .addOption(new Option('--actors <n>', 'actor ids the clients use (default: drawn 1-4, 3 with --no-swarm)').argParser(integer(1)))
    .addOption(new Option('--commands-per-tick <n>', 'client steps per tick (default 1)').argParser(integer(1)))
    .addOption(new Option('--partition-mode <mode>', 'kind of partitions (default: drawn, mixed with --no-swarm)').choices(partitionModes))
    .addOption(new Option('--idle-timeout <ms>', 'passivate actors unused this long (virtual ms; 0: never; default: drawn, 250 with --no-swarm)').argParser(integer(0)))
    .option('--no-swarm', 'use the defaults for what is not given instead of drawing it from the seed')
    .addOption(new Option('--broken <strategy>', 'plug a deliberately wrong resolution into every replica, to watch the checkers catch it').choices(Object.keys(brokenStrategies)))
    .addOption(new Option('--html <file>', 'also write a self-contained HTML report with the timeline'))
    .addOption(new Option('--store <kind>', 'where the replicas keep their packs').choices(['memory', 'redis']).default('memory'))
    .addOption(new Option('--redis-url <url>', 'the Redis of --store redis (keys under fresh sim-<seed>-* prefixes, deleted after the run)').default(simRedisDefaults.url))
    .option('--shrink', 'when the run fails, shrink its schedule to a few steps and print how to replay it', false)
    .addOption(new Option('--schedule <file>', 'replay a saved (e.g. shrunk) schedule instead of drawing the steps'))
    .addOption(new Option('--runs <n>', `run n seeds: --seed, --seed + 1, ..., --seed + n - 1 (at most ${simRunsLimits.runsMax}); prints each failing seed with its replay and shrink commands, and a summary`).argParser(integer(1, simRunsLimits.runsMax)))
    .addOption(new Option('--jobs <k>', `with --runs: seeds run in k worker threads (default: the CPUs, at most n; 1: in this thread; at most ${simRunsLimits.jobsMax})`).argParser(integer(1, simRunsLimits.jobsMax)))
    .addHelpText('after', '\nExit codes: 0 every invariant held, 1 one failed, 2 bad arguments, 3 the run itself failed (e.g. Redis unreachable).')
    .action(async (flags: SimFlags, command: Command) => {
      const usage = (message: string): never => command.error(`error: ${message}`);
      const given = (name: string) => command.getOptionValueSource(name) === 'cli';
      if (flags.workload !== undefined && given('app')) usage('give --workload or --app, not both');
      if (given('redisUrl') && flags.store !== 'redis') usage('--redis-url needs --store redis');
      if (flags.jobs !== undefined && flags.runs === undefined) usage('--jobs needs --runs');
      if (flags.runs !== undefined) {
        for (const alone of ['schedule', 'html', 'shrink'] as const) {
          if (given(alone)) usage(`--${alone} runs one seed: not with --runs (each failing seed's line says how to replay and shrink it)`);
        }
      }
      const seed = flags.seed ?? Date.now() % 2 ** 31;
      const spec = specOf(flags, given, command.getOptionValueSource('app') === 'default');
      const resolved = await resolveWorkload(spec).catch((error: unknown) => usage(error instanceof WorkloadError ? error.message : oneLine(error)));
      const { workloadFlags } = resolved;
      if (flags.runs !== undefined) {
        if (flags.runs - 1 > Number.MAX_SAFE_INTEGER - seed) usage(`--seed ${seed} --runs ${flags.runs} goes past ${Number.MAX_SAFE_INTEGER}`);
        const jobs = Math.min(flags.jobs ?? Math.min(availableParallelism(), simRunsLimits.jobsMax), flags.runs);
        if (!flags.json && flags.seed === undefined) console.error(`troupe sim: seeds ${seed}..${seed + flags.runs - 1} (--seed ${seed})`);
        const summary = await runSeeds({ spec, firstSeed: seed, runs: flags.runs, jobs, resolved, progress: !flags.json && process.stderr.isTTY === true });
        console.log(flags.json ? JSON.stringify(summary, null, 2) : formatRunsSummary(summary));
        outcome.exitCode = summary.errors > 0 ? simExitCodes.runFailed : summary.failures > 0 ? simExitCodes.invariantFailed : simExitCodes.ok;
        return;
      }
      const schedule = flags.schedule === undefined ? undefined : await loadSchedule(flags.schedule).catch((error: unknown) => usage(`--schedule ${flags.schedule}: ${oneLine(error)}`));
      const options: SimOptions = { ...simOptionsOf(spec, seed, resolved), ...(schedule ? { schedule } : {}) };
      const progress = progressBar(!flags.json && process.stderr.isTTY === true);
      // The trace's lines are kept in memory only for --html (a long run's trace is large).
      const { report, trace } = await (flags.html === undefined ? simulate(options).then((r) => ({ report: r, trace: undefined })) : simulateWithTrace(options))
        .catch((error: unknown) => {
          throw new CliError(`the simulation failed: ${oneLine(error)}`, simExitCodes.runFailed);
        })
        .finally(() => progress.stop());
      // Shrinking needs a failing run; every candidate runs with the same workload, stores and strategy.
      const replay = (shrunk: { replicas: number; steps: number }) =>
        [
          'troupe sim', `--seed ${seed}`, ...workloadFlags, `--replicas ${shrunk.replicas}`, `--steps ${shrunk.steps}`, `--actors ${report.options.actors}`,
          `--partition-mode ${report.options.partitionMode}`, `--idle-timeout ${report.options.idleTimeoutMs}`,
          ...(report.options.commandsPerTick === 1 ? [] : [`--commands-per-tick ${report.options.commandsPerTick}`]),
          ...(flags.swarm ? [] : ['--no-swarm']), ...(flags.broken ? [`--broken ${flags.broken}`] : []),
          ...(flags.store === 'redis' ? ['--store redis', ...(given('redisUrl') ? [`--redis-url ${flags.redisUrl}`] : [])] : []),
          '--schedule shrunk.json',
        ].join(' ');
      const shrunk = flags.shrink && !report.ok
        ? await shrinkForCli({ ...options, onProgress: undefined }, report.options, replay).catch((error: unknown) => {
            throw new CliError(`shrinking failed: ${oneLine(error)}`, simExitCodes.runFailed);
          })
        : undefined;
      console.log(flags.json ? JSON.stringify(shrunk ? { ...report, shrink: shrunk.json } : report, null, 2) : formatReport(report));
      if (shrunk && !flags.json) console.log(shrunk.text);
      if (flags.shrink && report.ok && !flags.json) console.log('shrink: the run passed, nothing to shrink');
      if (flags.html !== undefined && trace) {
        await writeHtmlReport(report, trace, flags.html);
        console.error(`HTML report written to ${flags.html}`);
      }
      outcome.exitCode = report.ok ? simExitCodes.ok : simExitCodes.invariantFailed;

      function progressBar(show: boolean) {
        const bar = show ? new SingleBar({ format: 'sim [{bar}] {value}/{total} ticks | {eta}s left', stream: process.stderr }, Presets.shades_classic) : undefined;
        let started = false;
        Object.assign(options, {
          onProgress: (tick: number, total: number) => {
            if (!bar) return;
            if (!started) bar.start(total, 0);
            started = true;
            bar.update(tick);
          },
        });
        return { stop: () => started && bar?.stop() };
      }
    });
}

/** The run's options as plain data (what a worker thread of --runs gets). */
function specOf(flags: SimFlags, given: (name: string) => boolean, appFromDefault: boolean): SeedRunSpec {
  return {
    ...(flags.workload === undefined ? {} : { workload: flags.workload }),
    app: flags.app,
    appFromDefault,
    swarm: flags.swarm,
    ...(flags.steps === undefined ? {} : { steps: flags.steps }),
    ...(flags.replicas === undefined ? {} : { replicas: flags.replicas }),
    ...(flags.actors === undefined ? {} : { actors: flags.actors }),
    ...(flags.commandsPerTick === undefined ? {} : { commandsPerTick: flags.commandsPerTick }),
    ...(flags.partitionMode === undefined ? {} : { partitionMode: flags.partitionMode }),
    ...(flags.idleTimeout === undefined ? {} : { idleTimeoutMs: flags.idleTimeout }),
    ...(flags.broken ? { broken: flags.broken } : {}),
    store: flags.store,
    ...(flags.store === 'redis' ? { redisUrl: flags.redisUrl, redisUrlGiven: given('redisUrl') } : {}),
  };
}
