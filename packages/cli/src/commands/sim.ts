import { Command, type ErrorOptions, Option } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import { TroupeError, type Workload } from '@troupe/runtime';
import {
  type BrokenStrategyName,
  type PartitionMode,
  type SimOptions,
  brokenStrategies,
  counterWorkload,
  formatReport,
  partitionModes,
  simulate,
  simulateWithTrace,
  tapeWorkload,
  writeHtmlReport,
} from '@troupe/sim';
import { defaultApp, loadApp } from '../appModule.js';
import { CliError, type Outcome, appOption, integer } from '../shared.js';
import { loadSchedule, shrinkForCli } from '../simShrink.js';
import { redisSimStores, simRedisDefaults } from '../simStores.js';

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
}

/** Every usage error of `troupe sim` (commander's, and those of the action) exits 2. */
class SimCommand extends Command {
  override error(message: string, errorOptions?: ErrorOptions): never {
    return super.error(message, { ...errorOptions, exitCode: simExitCodes.usage });
  }
}

/** One line with the error's code when it has one (a TroupeError). */
function oneLine(error: unknown): string {
  const message = ((error as Error)?.message ?? String(error)).split('\n')[0];
  return error instanceof TroupeError ? `${message} [${error.code}]` : message!;
}

export function simCommand(outcome: Outcome): Command {
  return new SimCommand('sim')
    .description('run one deterministic partition simulation of the app\'s workload and check invariants I1-I7 (exit 1 if one failed)')
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
    .addHelpText('after', '\nExit codes: 0 every invariant held, 1 one failed, 2 bad arguments, 3 the run itself failed (e.g. Redis unreachable).')
    .action(async (flags: SimFlags, command: Command) => {
      const usage = (message: string): never => command.error(`error: ${message}`);
      const given = (name: string) => command.getOptionValueSource(name) === 'cli';
      if (flags.workload !== undefined && given('app')) usage('give --workload or --app, not both');
      if (given('redisUrl') && flags.store !== 'redis') usage('--redis-url needs --store redis');
      const seed = flags.seed ?? Date.now() % 2 ** 31;
      const { workload, workloads, workloadFlags } = await workloadOf(flags, command, usage);
      const schedule = flags.schedule === undefined ? undefined : await loadSchedule(flags.schedule).catch((error: unknown) => usage(`--schedule ${flags.schedule}: ${oneLine(error)}`));
      const options: SimOptions = {
        seed,
        ...(workload ? { workload } : {}),
        ...(workloads ? { workloads } : {}),
        swarm: flags.swarm,
        ...(flags.steps === undefined ? {} : { steps: flags.steps }),
        ...(flags.replicas === undefined ? {} : { replicas: flags.replicas }),
        ...(flags.actors === undefined ? {} : { actors: flags.actors }),
        ...(flags.commandsPerTick === undefined ? {} : { commandsPerTick: flags.commandsPerTick }),
        ...(flags.partitionMode === undefined ? {} : { partitionMode: flags.partitionMode }),
        ...(flags.idleTimeout === undefined ? {} : { idleTimeoutMs: flags.idleTimeout }),
        ...(flags.broken ? { mergeStrategy: brokenStrategies[flags.broken], mergeStrategyName: flags.broken } : {}),
        ...(flags.store === 'redis' ? { stores: redisSimStores(flags.redisUrl) } : {}),
        ...(schedule ? { schedule } : {}),
      };
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

/**
 * The workload the run drives and the flags that select it again (for the replay line): the
 * simulator's counter or tape (`--workload counter|tape`), or an app's `workload` export
 * (`--app`; `--workload bank` is the example bank app). Neither given: swarm draws the workload
 * and its shape among the simulator's own and the default app's (`workloads`), and the seed
 * draws the same again on replay (no flag); with --no-swarm, the default app's.
 */
async function workloadOf(flags: SimFlags, command: Command, usage: (message: string) => never): Promise<{ workload?: Workload; workloads?: Workload[]; workloadFlags: string[] }> {
  if (flags.workload === 'counter') return { workload: counterWorkload, workloadFlags: ['--workload counter'] };
  if (flags.workload === 'tape') return { workload: tapeWorkload, workloadFlags: ['--workload tape'] };
  const specifier = flags.workload === 'bank' ? defaultApp : flags.app;
  const fromDefault = flags.workload === undefined && command.getOptionValueSource('app') === 'default';
  const app = await loadApp(specifier).catch((error: unknown) =>
    usage(`${oneLine(error)}${fromDefault ? ' (or run the simulator\'s own workload: --workload counter)' : ''}`),
  );
  if (!app.workload) usage(`app module '${specifier}' exports no \`workload\` (actors and nextCommand(random, step, actors)); troupe sim needs one`);
  if (fromDefault && flags.swarm) return { workloads: [app.workload!], workloadFlags: [] };
  return { workload: app.workload!, workloadFlags: [flags.workload === 'bank' ? '--workload bank' : `--app ${specifier}`] };
}
