import { Command, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { connectBus, type CommandBus } from '@troupe/rabbitmq';
import type { UntypedRef, Workload, WorkloadRandom } from '@troupe/runtime';
import { loadApp } from '../appModule.js';
import { quantile } from '../stats.js';
import { type BusFlags, CliError, busConnection, type Outcome, appOption, busOptions, integer, json, timeoutMaxMs } from '../shared.js';

interface LoadFlags extends BusFlags {
  readonly app: string;
  readonly actors: number;
  readonly commands: number;
  readonly concurrency: number;
  readonly timeout: number;
  readonly json: boolean;
}

export interface LoadReport {
  readonly app: string;
  readonly sent: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly failed: number;
  readonly durationMs: number;
  readonly throughput: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** First few failure messages, for the operator. */
  readonly failures: readonly string[];
}

const mathRandom: WorkloadRandom = { int: (min, max) => min + Math.floor(Math.random() * (max - min + 1)) };

/** Drives `commands` commands of the workload through the bus with at most `concurrency` in flight. */
export async function runLoad(
  bus: CommandBus,
  workload: Workload,
  options: { actors: number; commands: number; concurrency: number; timeout: number; app: string },
  onProgress: (done: number) => void = () => undefined,
): Promise<LoadReport> {
  const latencies: number[] = [];
  const failures: string[] = [];
  let sent = 0;
  let accepted = 0;
  let rejected = 0;
  let failed = 0;
  const started = performance.now();
  const lane = async () => {
    while (sent < options.commands) {
      const step = sent++;
      const command = workload.nextCommand(mathRandom, step, options.actors);
      const t0 = performance.now();
      try {
        const reply = await bus.send(command.actor as UntypedRef, { type: command.type, payload: command.payload }, { timeoutMs: options.timeout });
        latencies.push(performance.now() - t0);
        if (reply.status === 'accepted') accepted++;
        else rejected++;
      } catch (error) {
        failed++;
        if (failures.length < 5) failures.push((error as Error).message);
      }
      onProgress(accepted + rejected + failed);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.commands) }, lane));
  const durationMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  // Nearest-rank quantiles (see stats.ts); 0 when no command got a reply, so the report stays numbers.
  const latency = (q: number) => (latencies.length === 0 ? 0 : round(quantile(latencies, q)));
  return {
    app: options.app,
    sent,
    accepted,
    rejected,
    failed,
    durationMs: Math.round(durationMs),
    throughput: Math.round(((accepted + rejected) / durationMs) * 1_000),
    latencyMs: { p50: latency(0.5), p99: latency(0.99), max: round(latencies.at(-1) ?? 0) },
    failures,
  };
}

export function formatLoad(r: LoadReport): string {
  return [
    `load of ${r.app}: ${r.sent} sent, ${r.accepted} accepted, ${r.rejected} rejected, ${r.failed} failed in ${(r.durationMs / 1_000).toFixed(2)} s`,
    `throughput ${r.throughput} commands/s; latency p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms`,
    ...r.failures.map((f) => `failure: ${f}`),
  ].join('\n');
}

export function loadCommand(outcome: Outcome): Command {
  const command = new Command('load')
    .description('drive the app\'s workload through RabbitMQ and report throughput and latency (exit 1 if any command failed)')
    .addOption(appOption())
    .addOption(new Option('--actors <n>', 'distinct actor ids').default(100).argParser(integer(1)))
    .addOption(new Option('--commands <n>', 'commands to send').default(10_000).argParser(integer(1)))
    .addOption(new Option('--concurrency <c>', 'commands in flight').default(64).argParser(integer(1, 100_000)))
    .addOption(new Option('--timeout <ms>', 'reply timeout per command').default(30_000).argParser(integer(1, timeoutMaxMs)))
    .option('--json', 'print one JSON object (no progress bar)', false);
  for (const option of busOptions()) command.addOption(option);
  return command.action(async (flags: LoadFlags) => {
    const app = await loadApp(flags.app);
    if (!app.workload) throw new CliError(`app module '${flags.app}' exports no \`workload\` (a Workload: actors and nextCommand(random, step, actors)); troupe load needs one`);
    const bus = await connectBus({ ...busConnection(flags), shards: flags.shards, prefix: flags.prefix, timeoutMs: flags.timeout });
    const bar = flags.json || !process.stderr.isTTY ? undefined : new SingleBar({ format: 'load [{bar}] {percentage}% | {value}/{total} | {eta}s left', etaBuffer: 200 }, Presets.shades_classic);
    bar?.start(flags.commands, 0);
    try {
      const report = await runLoad(bus, app.workload, { ...flags, app: flags.app }, (done) => bar?.update(done));
      bar?.stop();
      console.log(flags.json ? json(report, false) : formatLoad(report));
      if (report.failed > 0) outcome.exitCode = 1;
    } finally {
      bar?.stop();
      await bus.close();
    }
  });
}
