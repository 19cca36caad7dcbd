import { Command } from 'commander';
import { runSimCli } from '@troupe/sim';
import { outcome } from '../shared.js';

export function simCommand(): Command {
  return new Command('sim')
    .description('run a deterministic partition simulation (troupe sim --help lists its options)')
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument('[options...]')
    .action(async (args: string[]) => {
      outcome.exitCode = await runSimCli(args);
    });
}
