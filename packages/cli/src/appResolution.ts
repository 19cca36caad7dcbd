import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TroupeError } from '@troupe/runtime';

/**
 * How `--app <specifier>` becomes one module file. Node's `import()` refuses a directory
 * ("Directory import ... is not supported"), so an app folder (`apps/bank`, `./apps/myapp`) is
 * resolved here the way Node resolves a package: its package.json `exports`, else `main`, else an
 * index file. Every candidate that did not work is remembered, so a bad `--app` says what it tried.
 */

/** The stable codes of the errors about app modules. */
export type AppModuleErrorCode = 'APP_NOT_FOUND' | 'APP_LOAD_FAILED' | 'APP_INVALID';

/** `--app` names nothing loadable (APP_NOT_FOUND), the module threw or is not JavaScript (APP_LOAD_FAILED), or it exports no actors (APP_INVALID). */
export class AppModuleError extends TroupeError<AppModuleErrorCode> {
  constructor(
    code: AppModuleErrorCode,
    readonly specifier: string,
    message: string,
    /** What was tried, in order, each with why it did not work (APP_NOT_FOUND only). */
    readonly tried: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/**
 * The export conditions an app's `exports` is read with: those Node's `import()` uses. For each
 * conditions object the first of its keys (in the file's order) that is one of these wins, so
 * `types`, `require` and the repository's `source` (TypeScript, for vitest) are skipped.
 */
export const appExportConditions: readonly string[] = ['import', 'node', 'default'];

/**
 * Files tried in a folder whose package.json names no entry, or that has no package.json: Node's
 * legacy `index.js`, and `index.mjs` because an app written in plain JavaScript without a
 * package.json is ESM only with that extension.
 */
export const appIndexFiles: readonly string[] = ['index.js', 'index.mjs'];

type Found = { readonly file: string } | { readonly file?: undefined };

/**
 * The module file `specifier` names, seen from `cwd`: a path (relative to `cwd`, absolute, a file
 * URL, or a bare name of an existing file or folder there, like `apps/bank`), else a package name
 * (`name`, `@scope/name`, `name/subpath`) found in the node_modules of `cwd` or its parents, then
 * in those of troupe's own install. Throws APP_NOT_FOUND listing every candidate.
 */
export function resolveAppModule(specifier: string, cwd: string = process.cwd()): string {
  const tried: string[] = [];
  const explicitPath = specifier.startsWith('.') || isAbsolute(specifier) || specifier.startsWith('file:');
  const path = specifier.startsWith('file:') ? fileURLToPath(specifier) : resolve(cwd, specifier);
  if (existsSync(path)) {
    // An existing path is what the user meant: no package lookup after it.
    const found = statSync(path).isDirectory() ? fromFolder(path, '.', tried) : { file: realpathSync(path) };
    if (found.file) return found.file;
  } else {
    tried.push(`${path}: no such file or directory`);
    if (!explicitPath && isPackageName(specifier)) {
      const found = fromPackage(specifier, cwd, tried);
      if (found.file) return found.file;
    }
  }
  throw new AppModuleError('APP_NOT_FOUND', specifier, `cannot load app module '${specifier}': tried ${tried.join('; ')}`, tried);
}

/** Directory of this module: where troupe itself is installed, for apps installed next to it. */
const troupeInstall = dirname(fileURLToPath(import.meta.url));

function isPackageName(specifier: string): boolean {
  return /^(@[^/\s]+\/)?[^./\s][^/\s]*(\/[^\s]+)?$/.test(specifier) && !specifier.includes('\\');
}

function fromPackage(specifier: string, cwd: string, tried: string[]): Found {
  const parts = specifier.split('/');
  const nameLength = specifier.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, nameLength).join('/');
  const subpath = parts.length > nameLength ? `./${parts.slice(nameLength).join('/')}` : '.';
  for (const [start, what] of [[cwd, cwd], [troupeInstall, `troupe's install (${troupeInstall})`]] as const) {
    for (let dir = start; ; dir = dirname(dir)) {
      const folder = join(dir, 'node_modules', name);
      // Like Node, the first package folder found is the package: no search past it.
      if (existsSync(join(folder, 'package.json'))) return fromFolder(folder, subpath, tried);
      if (dirname(dir) === dir) break;
    }
    tried.push(`package '${name}': not in the node_modules of ${what} or its parents`);
  }
  return {};
}

/** The entry of a folder: `exports` (no fallback when present, as in Node), else `main`, else an index file. */
function fromFolder(folder: string, subpath: string, tried: string[]): Found {
  const manifestPath = join(folder, 'package.json');
  let manifest: { exports?: unknown; main?: unknown } = {};
  if (existsSync(manifestPath)) {
    try {
      manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as typeof manifest;
    } catch (error) {
      tried.push(`${manifestPath}: not valid JSON (${(error as Error).message})`);
      return {};
    }
    if (manifest.exports !== undefined && manifest.exports !== null) {
      const target = exportTarget(manifest.exports, subpath);
      if (target === undefined) {
        tried.push(`${manifestPath}: "exports" has no '${subpath}' entry with a condition among ${appExportConditions.join(', ')}`);
        return {};
      }
      return existing(resolve(folder, target), `the '${subpath}' export of ${manifestPath}`, tried);
    }
  } else if (subpath === '.') {
    tried.push(`${manifestPath}: no such file`);
  }
  if (subpath !== '.') return existing(resolve(folder, subpath), `'${subpath}' of ${folder} (no "exports")`, tried);
  if (typeof manifest.main === 'string') {
    const found = existing(resolve(folder, manifest.main), `"main" of ${manifestPath}`, tried);
    if (found.file) return found;
  } else if (existsSync(manifestPath)) {
    tried.push(`${manifestPath}: no "exports" and no "main"`);
  }
  for (const index of appIndexFiles) {
    const found = existing(join(folder, index), 'index file', tried);
    if (found.file) return found;
  }
  return {};
}

function existing(file: string, what: string, tried: string[]): Found {
  // The real path, as Node's resolver gives (a workspace package is a symlink into node_modules).
  if (existsSync(file) && statSync(file).isFile()) return { file: realpathSync(file) };
  // A missing entry under dist/ is almost always an app that was not built.
  tried.push(`${file} (${what}): no such file${/[/\\]dist[/\\]/.test(file) ? ' (is the app built?)' : ''}`);
  return {};
}

/** The target of `subpath` in a package.json `exports` value (subpath patterns with `*` are not supported). */
function exportTarget(exports: unknown, subpath: string): string | undefined {
  if (typeof exports === 'string' || Array.isArray(exports)) return subpath === '.' ? conditionTarget(exports) : undefined;
  if (typeof exports !== 'object' || exports === null) return undefined;
  const map = exports as Record<string, unknown>;
  const keys = Object.keys(map);
  if (keys.some((key) => key.startsWith('.'))) return conditionTarget(map[subpath]);
  return subpath === '.' ? conditionTarget(map) : undefined;
}

function conditionTarget(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (const item of value) {
      const target = conditionTarget(item);
      if (target !== undefined) return target;
    }
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [condition, nested] of Object.entries(value)) {
    if (!appExportConditions.includes(condition)) continue;
    const target = conditionTarget(nested);
    if (target !== undefined) return target;
  }
  return undefined;
}
