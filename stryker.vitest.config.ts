import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The test command of `npm run mutate` (stryker.config.mjs): the runtime's unit and property specs
 * plus a few fast simulator specs (seed sweeps, determinism), run against the runtime's sources.
 *
 * Why the aliases: Stryker runs the tests in a sandbox copy of the repo whose node_modules is a
 * symlink to the real one, and `@troupe/runtime` there points at the real packages/runtime, not at
 * the sandbox's mutated copy. Resolving `@troupe/*` to this file's own folder makes the simulator
 * (and the bank workload it drives) import the mutated runtime, so the seeds can kill mutants.
 * Run from the repo itself, the aliases point at the repo's sources: the same as the 'source'
 * export condition every vitest config here uses.
 */
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Each `@troupe/*` entry point the tests import -> its 'source' file, read from the packages' exports. */
function sourceEntries(name: string, dir: string): [string, string][] {
  const manifest = JSON.parse(readFileSync(here(`${dir}/package.json`), 'utf8')) as { exports: Record<string, { source?: string }> };
  return Object.entries(manifest.exports).flatMap(([subpath, target]) =>
    typeof target === 'object' && target.source ? [[name + subpath.slice(1), here(`${dir}/${target.source}`)] as [string, string]] : [],
  );
}
const entries = [...sourceEntries('@troupe/runtime', 'packages/runtime'), ...sourceEntries('@troupe/bank', 'apps/bank')];

/** The simulator specs in the test command: seconds each, and they reach merges, compensations and snapshots. */
export const simSpecs = ['packages/sim/src/sweep.unit.spec.ts', 'packages/sim/src/determinism.unit.spec.ts'];

export default defineConfig({
  root: here('.'),
  resolve: {
    conditions: ['source'],
    alias: entries.map(([name, path]) => ({ find: new RegExp(`^${name.replace(/[/]/g, '\\/')}$`), replacement: path })),
  },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['packages/runtime/src/**/*.{unit,property}.spec.ts', ...simSpecs],
    testTimeout: 60_000,
  },
});
