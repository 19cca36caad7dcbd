import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { appendLua, commandVersionsLua, commonLua, headsLua, loadChainLua, mergeLua, readFieldsLua, recordMergeLua, saveFrontierLua, saveMetaStringLua, saveSnapshotLua } from './scripts/index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const luaFiles = readdirSync(new URL('./scripts/', import.meta.url)).filter((name) => name.endsWith('.lua'));

/** What a user installs: the files of `npm pack`, and the scripts the loader reads. */
describe('@troupe/redis as published', () => {
  it('the loader reads every .lua file of src/scripts', () => {
    const loaded = [commonLua, appendLua, mergeLua, readFieldsLua, loadChainLua, headsLua, saveSnapshotLua, saveMetaStringLua, saveFrontierLua, recordMergeLua, commandVersionsLua];
    expect(luaFiles.sort()).toEqual(['append.lua', 'commandVersions.lua', 'common.lua', 'heads.lua', 'loadChain.lua', 'merge.lua', 'readFields.lua', 'recordMerge.lua', 'saveFrontier.lua', 'saveMetaString.lua', 'saveSnapshot.lua']);
    expect(loaded.sort()).toEqual(luaFiles.map((name) => readFileSync(new URL(`./scripts/${name}`, import.meta.url), 'utf8')).sort());
  });

  it('the tarball holds no spec files and no test-only helpers, the Lua scripts in src and next to the built loader', async () => {
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: packageDir });
    const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    expect(files.filter((path) => /\.spec\.ts$|specHelpers/.test(path))).toEqual([]);
    for (const name of luaFiles) expect(files).toContain(`src/scripts/${name}`);
    // dist exists once the package was built (npm test runs the build of the packages first).
    if (existsSync(new URL('../dist/index.js', import.meta.url))) {
      for (const name of luaFiles) expect(files).toContain(`dist/scripts/${name}`);
      expect(files).toContain('dist/testing/index.js');
    }
  });

  it('exports the root, ./testing and ./package.json', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, unknown> };
    expect(Object.keys(manifest.exports)).toEqual(['.', './testing', './package.json']);
  });
});
