import { Command, CommanderError } from 'commander';
import { TroupeError } from '@troupe/runtime';
import { workerCommand } from './commands/worker.js';
import { sendCommand } from './commands/send.js';
import { inspectCommand } from './commands/inspect.js';
import { loadCommand } from './commands/load.js';
import { simCommand } from './commands/sim.js';
import { replicateCommand } from './commands/replicate.js';
import { statusCommand } from './commands/status.js';
import { projectionsCommand } from './commands/projections.js';
import { publishCommand } from './commands/publish.js';
import { CliError, type Outcome } from './shared.js';

export function program(outcome: Outcome = { exitCode: 0 }): Command {
  const root = new Command('troupe')
    .description('event-sourced actors that keep accepting commands through partitions')
    .version('0.1.0')
    .showHelpAfterError('(troupe --help lists the commands)')
    .addCommand(workerCommand())
    .addCommand(sendCommand(outcome))
    .addCommand(inspectCommand())
    .addCommand(loadCommand(outcome))
    .addCommand(simCommand(outcome))
    .addCommand(replicateCommand())
    .addCommand(publishCommand())
    .addCommand(projectionsCommand())
    .addCommand(statusCommand());
  // Throw instead of calling process.exit, so `run` decides the exit code (and tests can call it).
  for (const command of [root, ...root.commands]) command.exitOverride();
  return root;
}

/** One line for the user: the message, with the error code when troupe raised it. */
export function describeError(error: unknown): string {
  if (error instanceof TroupeError) return `troupe: ${error.message} [${error.code}]`;
  if (error instanceof CliError) return `troupe: ${error.message}`;
  return `troupe: ${(error as Error)?.message ?? String(error)}`;
}

/** Runs the CLI on argv (without node and the script); resolves to the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  const outcome: Outcome = { exitCode: 0 };
  try {
    await program(outcome).parseAsync([...argv], { from: 'user' });
    return outcome.exitCode;
  } catch (error) {
    // Commander already printed usage errors and help; its exit code is 0 for --help/--version.
    if (error instanceof CommanderError) return error.exitCode;
    console.error(describeError(error));
    return error instanceof CliError ? error.exitCode : 1;
  }
}
