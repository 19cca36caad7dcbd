// @ts-check
/**
 * Mutation testing of the runtime (`npm run mutate`; opt-in, too slow for `npm test`). TESTING.md
 * has the scores per folder, the run time and what became of every surviving mutant.
 *
 * By default it mutates the three folders with a score goal (resolution, vectorClock, replication);
 * `MUTATE=store,hosting` picks others, `MUTATE=all` takes every folder below.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
const folders = {
  resolution: ['packages/runtime/src/resolution/**/*.ts'],
  vectorClock: ['packages/runtime/src/vectorClock/**/*.ts'],
  replication: ['packages/runtime/src/replication/**/*.ts'],
  store: ['packages/runtime/src/store/memoryStore.ts', 'packages/runtime/src/store/heads.ts', 'packages/runtime/src/store/causalOrder.ts'],
  hosting: ['packages/runtime/src/hosting/**/*.ts'],
};
const defaultFolders = ['resolution', 'vectorClock', 'replication'];
const asked = process.env.MUTATE?.trim();
const chosen = !asked ? defaultFolders : asked === 'all' ? Object.keys(folders) : asked.split(',');
for (const name of chosen) if (!(name in folders)) throw new Error(`MUTATE names an unknown folder '${name}' (known: ${Object.keys(folders).join(', ')})`);

export default {
  testRunner: 'vitest',
  vitest: { configFile: 'stryker.vitest.config.ts', related: false },
  // perTest: each mutant runs only the tests that reached its code (the sim seeds reach most of it).
  coverageAnalysis: 'perTest',
  // The machine's cores are shared: two test processes at most.
  concurrency: 2,
  mutate: [
    ...chosen.flatMap((name) => folders[name]),
    // Barrels and specs hold no logic to mutate; testkit and reference are test support, not runtime.
    '!packages/runtime/src/**/*.spec.ts',
    '!packages/runtime/src/**/index.ts',
  ],
  // The sandbox holds only what the test command reads; node_modules is linked, not copied.
  ignorePatterns: [
    '/*',
    '!/package.json',
    '!/tsconfig.base.json',
    '!/stryker.vitest.config.ts',
    '!/packages',
    '/packages/*',
    '!/packages/runtime',
    '!/packages/sim',
    '!/apps',
    '/apps/*',
    '!/apps/bank',
    'dist',
  ],
  timeoutMS: 15_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'coverage/mutation/mutation.html' },
  jsonReporter: { fileName: 'coverage/mutation/mutation.json' },
  // `npm run mutate -- --incremental` re-tests only mutants whose code or covering tests changed.
  incrementalFile: 'coverage/mutation/incremental.json',
  thresholds: { high: 85, low: 70, break: null },
  // Both under coverage/, which git ignores already.
  tempDirName: 'coverage/.stryker-tmp',
};
