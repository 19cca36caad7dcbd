// `npm run build`: dist/ from scratch. Removes the old dist (a file moved or deleted in src must not
// linger in dist or in a packed tarball), compiles with tsc, then copies the Lua scripts next to
// their compiled loader (dist/scripts/index.js reads them relative to its own URL).
import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

rmSync('dist', { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit' });
const scripts = readdirSync('src/scripts').filter((name) => name.endsWith('.lua'));
if (scripts.length === 0) throw new Error('build: no .lua files in src/scripts');
for (const name of scripts) copyFileSync(`src/scripts/${name}`, `dist/scripts/${name}`);
