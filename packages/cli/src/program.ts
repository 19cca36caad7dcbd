import { Command } from 'commander';
import { TroupeError } from '@troupe/runtime';
import { workerCommand } from './commands/worker.js';
import { sendCommand } from './commands/send.js';
import { inspectCommand } from './commands/inspect.js';
import { loadCommand } from './commands/load.js';
import { simCommand } from './commands/sim.js';
import { CliError } from './shared.js';

export function program(): Command {
  return new Command('troupe')
    .description('event-sourced actors that keep accepting commands through partitions')
    .version('0.1.0')
    .showHelpAfterError('(troupe --help lists the commands)')
    .addCommand(workerCommand())
    .addCommand(sendCommand())
    .addCommand(inspectCommand())
    .addCommand(loadCommand())
    .addCommand(simCommand());
}

/** One line for the user: the message, with the error code when troupe raised it. */
export function describeError(error: unknown): string {
  if (error instanceof TroupeError) return `troupe: ${error.message} [${error.code}]`;
  if (error instanceof CliError) return `troupe: ${error.message}`;
  return `troupe: ${(error as Error)?.message ?? String(error)}`;
}

/** Runs the CLI on argv (without node and the script); resolves to the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  try {
    await program().parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    console.error(describeError(error));
    return error instanceof CliError ? error.exitCode : 1;
  }
}
