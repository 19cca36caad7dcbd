import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadApp } from './appModule.js';
import { AppModuleError, resolveAppModule } from './appResolution.js';

const repository = fileURLToPath(new URL('../../..', import.meta.url));

/** A plain-JavaScript app, self-contained (an actor definition is plain data and functions). */
const app = (type: string) => `
export const Thing = {
  type: '${type}',
  initial: () => ({ n: 0 }),
  commands: { bump: () => [{ type: 'bumped', data: {} }] },
  events: { bumped: (s) => ({ n: s.n + 1 }) },
};
export const workload = { name: '${type}', actors: [Thing], nextCommand: () => ({ actor: { type: '${type}', id: 'a' }, type: 'bump', payload: {} }) };
`;

const root = realpathSync(mkdtempSync(join(tmpdir(), 'troupe-apps-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Writes files under a fresh folder of `root`; objects are written as JSON. */
function tree(name: string, files: Record<string, string | object>): string {
  const base = join(root, name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(base, path)), { recursive: true });
    writeFileSync(join(base, path), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return base;
}

async function notFound(specifier: string, cwd: string): Promise<AppModuleError> {
  const error = await loadApp(specifier, cwd).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AppModuleError);
  expect((error as AppModuleError).code).toBe('APP_NOT_FOUND');
  return error as AppModuleError;
}

describe('--app: an app folder', () => {
  it('loads through package.json "exports" (the "." entry, its import/default condition, not types/require/source)', async () => {
    const project = tree('exports', {
      'apps/myapp/package.json': {
        name: 'myapp',
        type: 'module',
        main: './wrong.js',
        exports: { '.': { types: './lib/app.d.ts', source: './src/app.ts', require: './lib/app.cjs', import: './lib/app.mjs' }, './other': './lib/other.mjs' },
      },
      'apps/myapp/lib/app.mjs': app('viaexports'),
      'apps/myapp/lib/other.mjs': app('other'),
    });
    for (const specifier of ['apps/myapp', './apps/myapp', 'apps/myapp/', join(project, 'apps/myapp')]) {
      const loaded = await loadApp(specifier, project);
      expect(loaded.actors.map((a) => a.type)).toEqual(['viaexports']);
      expect(loaded.workload?.name).toBe('viaexports');
    }
  });

  it('takes a conditions object without "." keys, and a plain string, as the "." export', () => {
    const a = tree('conditions', { 'package.json': { exports: { node: { import: './a.mjs' }, default: './b.mjs' } }, 'a.mjs': app('a'), 'b.mjs': app('b') });
    expect(resolveAppModule('.', a)).toBe(join(a, 'a.mjs'));
    const b = tree('string', { 'package.json': { exports: './b.mjs' }, 'b.mjs': app('b') });
    expect(resolveAppModule(b, root)).toBe(join(b, 'b.mjs'));
  });

  it('loads through "main" when there is no "exports"', async () => {
    const project = tree('main', { 'app/package.json': { name: 'app', main: 'entry.mjs' }, 'app/entry.mjs': app('viamain') });
    expect((await loadApp('app', project)).actors.map((a) => a.type)).toEqual(['viamain']);
  });

  it('loads index.js, then index.mjs, of a folder without package.json (or one naming no entry)', async () => {
    const project = tree('index', { 'bare/index.mjs': app('viaindex'), 'named/package.json': { name: 'named' }, 'named/index.mjs': app('named') });
    expect((await loadApp('bare', project)).actors.map((a) => a.type)).toEqual(['viaindex']);
    expect((await loadApp('./named', project)).actors.map((a) => a.type)).toEqual(['named']);
  });

  it('loads the repository\'s bank app by its folder, with or without ./', async () => {
    for (const specifier of ['apps/bank', './apps/bank']) {
      const loaded = await loadApp(specifier, repository);
      expect(loaded.actors.map((a) => a.type)).toEqual(['account']);
      expect(loaded.workload?.name).toBe('bank');
    }
  });
});

describe('--app: a package name', () => {
  it('is found in the node_modules of the working directory or its parents, through its exports', async () => {
    const project = tree('pkg', {
      'node_modules/tally-app/package.json': { name: 'tally-app', exports: { '.': { import: './dist/index.mjs' }, './extra': { default: './extra.mjs' } } },
      'node_modules/tally-app/dist/index.mjs': app('pkg'),
      'node_modules/tally-app/extra.mjs': app('extra'),
      'node_modules/@acme/app/package.json': { name: '@acme/app', main: 'main.mjs' },
      'node_modules/@acme/app/main.mjs': app('scoped'),
      'deep/er/.keep': '',
    });
    const cwd = join(project, 'deep/er');
    expect((await loadApp('tally-app', cwd)).actors.map((a) => a.type)).toEqual(['pkg']);
    expect((await loadApp('tally-app/extra', cwd)).actors.map((a) => a.type)).toEqual(['extra']);
    expect((await loadApp('@acme/app', cwd)).actors.map((a) => a.type)).toEqual(['scoped']);
  });

  it('is found from troupe\'s own install when the working directory has none (the default app here)', async () => {
    const loaded = await loadApp(undefined, root);
    expect(loaded.specifier).toBe('@troupe/bank');
    expect(loaded.actors.map((a) => a.type)).toEqual(['account']);
  });
});

describe('--app that names nothing loadable', () => {
  it('a path that does not exist: the error lists each candidate tried', async () => {
    const project = tree('missing', { '.keep': '' });
    const explicit = await notFound('./apps/nope', project);
    expect(explicit.tried).toEqual([`${join(project, 'apps/nope')}: no such file or directory`]);
    expect(explicit.message).toContain(`cannot load app module './apps/nope': tried ${join(project, 'apps/nope')}: no such file or directory`);
    // A bare name may be a path or a package: both were tried.
    const bare = await notFound('apps/nope', project);
    expect(bare.tried).toHaveLength(3);
    expect(bare.tried[0]).toBe(`${join(project, 'apps/nope')}: no such file or directory`);
    expect(bare.tried[1]).toBe(`package 'apps': not in the node_modules of ${project} or its parents`);
    expect(bare.tried[2]).toMatch(/^package 'apps': not in the node_modules of troupe's install \(.*\) or its parents$/);
  });

  it('a folder whose entries are missing: every file it looked for, and a hint when it is under dist/', async () => {
    const project = tree('unbuilt', {
      'built-not/package.json': { exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } } },
      'main-gone/package.json': { main: 'gone.js' },
      'empty/.keep': '',
      'require-only/package.json': { exports: { require: './x.cjs' } },
    });
    const unbuilt = await notFound('built-not', project);
    expect(unbuilt.tried).toEqual([`${join(project, 'built-not/dist/index.js')} (the '.' export of ${join(project, 'built-not/package.json')}): no such file (is the app built?)`]);
    const mainGone = await notFound('main-gone', project);
    expect(mainGone.tried.map((t) => t.split(' ')[0])).toEqual([join(project, 'main-gone/gone.js'), join(project, 'main-gone/index.js'), join(project, 'main-gone/index.mjs')]);
    const empty = await notFound('empty', project);
    expect(empty.tried).toEqual([
      `${join(project, 'empty/package.json')}: no such file`,
      `${join(project, 'empty/index.js')} (index file): no such file`,
      `${join(project, 'empty/index.mjs')} (index file): no such file`,
    ]);
    const requireOnly = await notFound('require-only', project);
    expect(requireOnly.tried[0]).toMatch(/"exports" has no '\.' entry with a condition among import, node, default/);
  });

  it('a package nobody installed: both node_modules searches are listed', async () => {
    // (The default app's own hint, "pass --app", is checked where troupe is installed without the bank: test/packaging.e2e.spec.ts.)
    const error = await notFound('@troupe/no-such-app', root);
    expect(error.message).toMatch(/^cannot load app module '@troupe\/no-such-app': tried .*package '@troupe\/no-such-app': not in the node_modules of/);
  });

  it('a module that throws while loading: APP_LOAD_FAILED with the file and the first line of the error', async () => {
    const project = tree('throws', { 'boom.mjs': "throw new Error('boom\\nsecond line');" });
    const error = await loadApp('./boom.mjs', project).then(() => undefined, (e: unknown) => e as AppModuleError);
    expect(error?.code).toBe('APP_LOAD_FAILED');
    expect(error?.message).toBe(`cannot load app module './boom.mjs' (${join(project, 'boom.mjs')}): boom`);
  });
});

/** A projection definition as `defineProjection` returns it, in plain JavaScript. */
const projection = (name: string, version: number) => `{
  name: '${name}', version: ${version}, id: '${name}-${version}', types: new Set(['thing']), from: [Thing],
  rows: (actor, state) => [[actor.id, state.n]], combine: (a, b) => a + b,
}`;

describe('--app: the projections (views) it exports', () => {
  it('collects every exported projection definition, and those of exported arrays, once per id', async () => {
    const project = tree('views', {
      'app.mjs': `${app('thing')}
export const counts = ${projection('counts', 1)};
export const countsNext = ${projection('counts', 2)};
export const all = [counts, ${projection('totals', 1)}];
export const notOne = { name: 'x', version: 1 };`,
    });
    const loaded = await loadApp('./app.mjs', project);
    expect(loaded.projections.map((p) => p.id)).toEqual(['counts-1', 'counts-2', 'totals-1']);
    expect(loaded.projections[0]!.types).toEqual(new Set(['thing']));
  });

  it('takes the `projections` export alone when there is one; none exported: an empty list', async () => {
    const project = tree('views-listed', {
      'listed.mjs': `${app('thing')}
export const counts = ${projection('counts', 1)};
export const projections = [${projection('totals', 3)}];`,
      'none.mjs': app('thing'),
    });
    expect((await loadApp('./listed.mjs', project)).projections.map((p) => p.id)).toEqual(['totals-3']);
    expect((await loadApp('./none.mjs', project)).projections).toEqual([]);
  });
});
