import { Command } from 'commander';
import { runSimCli } from '@troupe/sim';
import { loadApp } from '../appModule.js';
import { CliError, type Outcome } from '../shared.js';

export function simCommand(outcome: Outcome): Command {
  return new Command('sim')
    .description('run a deterministic partition simulation (troupe sim --help lists its options)')
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument('[options...]')
    .action(async (args: string[]) => {
      outcome.exitCode = await runSimCli(args, {
        // --app: the same module resolution as the other commands (path, or package from here).
        loadWorkload: async (specifier) => {
          const app = await loadApp(specifier);
          if (!app.workload) throw new CliError(`app module '${specifier}' exports no \`workload\` (actors and nextCommand(random, step, actors)); troupe sim --app needs one`);
          return app.workload;
        },
      });
    });
}
