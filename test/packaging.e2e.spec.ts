import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The packages as a user gets them: built dist, plain Node ESM, no vitest source aliases.
 * Catches missing .js extensions, broken CommonJS interop (nact, msgpackr) and bad exports maps.
 */
describe('built packages in plain Node', () => {
  it('@troupe/runtime, /store and /testkit (no vitest at run time) import and run from dist', async () => {
    expect(existsSync(`${root}/packages/runtime/dist/index.js`), 'run the build first (npm test does)').toBe(true);
    const script = `
      import { createRuntime, defineActor, MemoryStore, ReplicationLink } from '@troupe/runtime';
      import { VC, causalOrder } from '@troupe/runtime/store';
      import { ManualClock } from '@troupe/runtime/testkit';
      const Tally = defineActor({
        type: 'tally', initial: () => ({ n: 0 }),
        commands: { inc: () => [{ type: 'inc', data: {} }] },
        events: { inc: (s) => ({ n: s.n + 1 }) },
      });
      const a = createRuntime({ actors: [Tally], replicaId: 'a', store: new MemoryStore() });
      const b = createRuntime({ actors: [Tally], replicaId: 'b', store: new MemoryStore() });
      const link = new ReplicationLink(a, b);
      link.partition();
      await a.send(Tally.ref('t'), { type: 'inc' });
      await b.send(Tally.ref('t'), { type: 'inc' });
      link.heal();
      await link.settle();
      const [va, vb] = [await a.inspect(Tally.ref('t')), await b.inspect(Tally.ref('t'))];
      await a.stop(); await b.stop();
      console.log(JSON.stringify({ a: va, b: vb, testkit: typeof ManualClock, store: typeof causalOrder, key: VC.encode(va.version) }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root });
    const result = JSON.parse(stdout.trim());
    expect(result.a.state).toEqual({ n: 2 });
    expect(result.b).toEqual(result.a);
    expect(result.key).toBe('a:1,b:1');
    expect(result.testkit).toBe('function');
    expect(result.store).toBe('function');
  });
});

/**
 * The publishable packages (not the private example bank) packed with `npm pack` and installed
 * from their tarballs alone in an empty project, as a user installs them from the registry:
 * their `files`, `exports`, `dependencies` and types must be enough. One pack and one install per
 * run (beforeAll); every failure says which command failed and prints its output.
 */
const publishable = ['@troupe/runtime', '@troupe/redis', '@troupe/rabbitmq', '@troupe/sim', '@troupe/cli'] as const;
const packageDirs: Record<(typeof publishable)[number], string> = {
  '@troupe/runtime': 'packages/runtime',
  '@troupe/redis': 'packages/redis',
  '@troupe/rabbitmq': 'packages/rabbitmq',
  '@troupe/sim': 'packages/sim',
  '@troupe/cli': 'packages/cli',
};

interface Packed {
  readonly name: string;
  readonly filename: string;
  readonly files: readonly { readonly path: string }[];
}

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment without npm's lifecycle variables (npm_config_local_prefix & co. would point the child npm back at this repository). */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));

async function sh(command: string, args: readonly string[], cwd: string, timeoutMs = 240_000): Promise<Ran> {
  return run(command, [...args], { cwd, env: cleanEnv, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code?: number | string; stdout?: string; stderr?: string; message: string }) => ({
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr || e.message,
    }),
  );
}

/** Runs a command that must succeed; else fails with the command line and everything it printed. */
async function mustRun(command: string, args: readonly string[], cwd: string): Promise<Ran> {
  const result = await sh(command, args, cwd);
  if (result.code !== 0) {
    throw new Error(`\`${[command, ...args].join(' ')}\` in ${cwd} exited ${result.code}\n--- stdout\n${result.stdout.slice(-4_000)}\n--- stderr\n${result.stderr.slice(-4_000)}`);
  }
  return result;
}

/** What a user writes: strict TypeScript against the installed packages' types, one import of each package. */
const consumerSource = `
import { createRuntime, defineActor, MemoryStore, type EventStore, type Workload } from '@troupe/runtime';
import type { RedisStore } from '@troupe/redis';
import type { connectBus } from '@troupe/rabbitmq';
import { simulate } from '@troupe/sim';
import { loadApp, run, type App } from '@troupe/cli';
import { quantile } from '@troupe/cli/stats';

const Tally = defineActor({
  type: 'tally',
  initial: () => ({ n: 0 }),
  commands: { bump: (_state, payload: { by: number }) => [{ type: 'bumped', data: { by: payload.by } }] },
  events: { bumped: (state, data: { by: number }) => ({ n: state.n + data.by }) },
});

const store: EventStore = new MemoryStore();
const runtime = createRuntime({ actors: [Tally], replicaId: 'a', store });
await runtime.send(Tally.ref('t'), { type: 'bump', payload: { by: 2 } });
const view = await runtime.inspect(Tally.ref('t'));
await runtime.stop();

const workload: Workload = {
  name: 'tally',
  actors: [Tally],
  nextCommand: (random, _step, actors) => ({ actor: Tally.ref(\`t\${random.int(0, actors - 1)}\`), type: 'bump', payload: { by: 1 } }),
};
const report = await simulate({ seed: 1, steps: 40, workload });

// Types only (no services here): a RedisStore is an EventStore, connectBus resolves to a bus.
const redisStoreIsAnEventStore: RedisStore extends EventStore ? true : false = true;
const connecting: ReturnType<typeof connectBus> | undefined = undefined;
const embedding: [typeof run, typeof loadApp, App | undefined] = [run, loadApp, undefined];

console.log(JSON.stringify({
  state: view.state,
  simulationOk: report.ok,
  p50: quantile([1, 2, 3], 0.5),
  redisStoreIsAnEventStore,
  typesOnly: connecting === undefined && embedding.length === 3,
}));
`;

/** A user's own app in a folder of the project, in plain JavaScript, loaded by `--app apps/tally`. */
const folderApp = `
import { defineActor } from '@troupe/runtime';
export const Tally = defineActor({
  type: 'tally',
  initial: () => ({ n: 0 }),
  commands: { bump: (_s, p) => [{ type: 'bumped', data: { by: p.by ?? 1 } }] },
  events: { bumped: (s, d) => ({ n: s.n + d.by }) },
});
export const workload = {
  name: 'tally', actors: [Tally],
  nextCommand: (random, _step, actors) => ({ actor: { type: 'tally', id: \`t\${random.int(0, actors - 1)}\` }, type: 'bump', payload: { by: 1 } }),
};
`;

describe('the publishable packages as a user installs them (npm pack, npm install of the tarballs in an empty project)', () => {
  const work = mkdtempSync(join(tmpdir(), 'troupe-packaging-'));
  const tarballs = join(work, 'tarballs');
  const consumer = join(work, 'consumer');
  let packed: Packed[] = [];
  let installed: Promise<void> | undefined;

  /** The one install of the run, shared by the tests that need it (a failed install fails each of them with npm's output). */
  const install = () =>
    (installed ??= (async () => {
      mkdirSync(join(consumer, 'apps/tally'), { recursive: true });
      writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'troupe-consumer', private: true, type: 'module' }, null, 2));
      // Only our tarballs: every other dependency comes from the registry (the npm cache first).
      await mustRun('npm', ['install', ...packed.map((p) => join(tarballs, p.filename)), '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--no-package-lock'], consumer);
      writeFileSync(join(consumer, 'apps/tally/package.json'), JSON.stringify({ name: 'tally', private: true, type: 'module', exports: { '.': { import: './app.js' } } }));
      writeFileSync(join(consumer, 'apps/tally/app.js'), folderApp);
    })());

  beforeAll(async () => {
    for (const name of publishable) {
      expect(existsSync(join(root, packageDirs[name], 'dist/index.js')), `${name}: run the build first (npm test does)`).toBe(true);
    }
    mkdirSync(tarballs, { recursive: true });
    const workspaces = publishable.flatMap((name) => ['--workspace', name]);
    // With the lifecycle scripts, as `npm publish` packs: each package's prepack empties its dist/
    // and builds it again, so what is tested is what a release ships (their output goes to stderr,
    // stdout stays the JSON).
    const { stdout } = await mustRun('npm', ['pack', '--json', '--pack-destination', tarballs, ...workspaces], root);
    packed = JSON.parse(stdout) as Packed[];
  }, 300_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('packs every publishable package, each with its built entry points and no spec files or test fixtures', () => {
    expect(packed.map((p) => p.name).sort()).toEqual([...publishable].sort());
    for (const p of packed) {
      const paths = p.files.map((f) => f.path);
      const manifest = JSON.parse(readFileSync(join(root, packageDirs[p.name as keyof typeof packageDirs], 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
      expect(paths, `${p.name} ships its dist`).toContain('dist/index.js');
      expect(Object.keys(manifest.exports), `${p.name} exports ./package.json`).toContain('./package.json');
      expect(paths.filter((path) => /\.spec\.[cm]?[jt]s$|(^|\/)fixtures\//.test(path)), `${p.name} ships no spec files or fixtures`).toEqual([]);
      for (const [subpath, target] of Object.entries(manifest.exports)) {
        const file = typeof target === 'string' ? target : (target as { default?: string }).default;
        if (file) expect(paths, `${p.name} '${subpath}' points at ${file}, which is not in the tarball`).toContain(file.replace(/^\.\//, ''));
      }
    }
  });

  it('ships no stale module: every dist/**/*.js and .d.ts in a tarball has its src/**/*.ts in the tarball or the repository', () => {
    // A source deleted or moved leaves its old output in a dist/ that is not emptied (a plain tsc,
    // or turbo restoring a cached build over it: it adds files, never removes any), and npm pack
    // ships whatever dist/ holds: a module nothing builds any more, importable by users. Each
    // package's prepack builds dist/ from scratch; this fails if one stops doing so.
    for (const p of packed) {
      const paths = new Set(p.files.map((f) => f.path));
      const dir = packageDirs[p.name as keyof typeof packageDirs];
      const stale = [...paths]
        .filter((path) => /^dist\/.*\.(js|d\.ts)$/.test(path))
        .filter((path) => {
          const source = path.replace(/^dist\//, 'src/').replace(/(\.js|\.d\.ts)$/, '.ts');
          return !paths.has(source) && !existsSync(join(root, dir, source));
        });
      expect(stale, `${p.name} ships modules whose source is gone`).toEqual([]);
    }
  });

  it('installs from the tarballs alone (no private package needed)', { timeout: 300_000 }, async () => {
    await install();
    for (const name of publishable) expect(existsSync(join(consumer, 'node_modules', name, 'package.json')), `${name} installed`).toBe(true);
    expect(existsSync(join(consumer, 'node_modules/@troupe/bank')), 'the private example app is not installed').toBe(false);
  });

  it('a strict TypeScript consumer (module NodeNext) compiles against the installed types, and runs', { timeout: 300_000 }, async () => {
    await install();
    writeFileSync(join(consumer, 'consumer.ts'), consumerSource);
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        // skipLibCheck off: the packages' own .d.ts are checked too (a type they use but do not depend on fails here).
        compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', outDir: 'out', skipLibCheck: false },
        files: ['consumer.ts'],
      }),
    );
    await mustRun(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], consumer);
    const { stdout } = await mustRun(process.execPath, ['out/consumer.js'], consumer);
    expect(JSON.parse(stdout.trim())).toEqual({ state: { n: 2 }, simulationOk: true, p50: 2, redisStoreIsAnEventStore: true, typesOnly: true });
  });

  it('npx troupe --help lists the commands', { timeout: 300_000 }, async () => {
    await install();
    const { stdout } = await mustRun('npx', ['--no', '--', 'troupe', '--help'], consumer);
    expect(stdout).toMatch(/worker[\s\S]*send[\s\S]*inspect[\s\S]*load[\s\S]*sim/);
  });

  it('npx troupe sim --seed 1: without the example app it says what to pass (exit 2); --workload counter runs with every invariant held', { timeout: 300_000 }, async () => {
    await install();
    // troupe sim simulates the app's workload, by default the example bank, which only troupe's
    // repository has (private): an installed troupe must say so and name the ways out, not crash.
    const bare = await sh('npx', ['--no', 'troupe', 'sim', '--seed', '1'], consumer);
    expect(bare.code, bare.stderr).toBe(2);
    expect(bare.stderr).toMatch(/@troupe\/bank is troupe's example app.*pass --app .*--workload counter/);
    const { stdout } = await mustRun('npx', ['--no', 'troupe', 'sim', '--seed', '1', '--workload', 'counter'], consumer);
    expect(stdout).toMatch(/I1.*ok/);
  });

  it('npx troupe sim --app apps/tally loads the user\'s app folder through its package.json exports', { timeout: 300_000 }, async () => {
    await install();
    const { stdout } = await mustRun('npx', ['--no', 'troupe', 'sim', '--seed', '1', '--steps', '60', '--app', 'apps/tally', '--json'], consumer);
    const report = JSON.parse(stdout) as { ok: boolean; options: { workload: string } };
    expect(report.options.workload).toBe('tally');
    expect(report.ok).toBe(true);
  });

  it('npx troupe load without --app says that the example app is not installed and to pass --app (before connecting)', { timeout: 300_000 }, async () => {
    await install();
    const result = await sh('npx', ['--no', 'troupe', 'load', '--amqp', 'amqp://guest:guest@127.0.0.1:1'], consumer);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/^troupe: cannot load app module '@troupe\/bank': tried .*@troupe\/bank is troupe's example app, present only in troupe's repository: pass --app <package or path> \(or set TROUPE_APP\) \[APP_NOT_FOUND\]$/m);
    expect(result.stderr).not.toMatch(/BUS_UNAVAILABLE/);
  });
});
