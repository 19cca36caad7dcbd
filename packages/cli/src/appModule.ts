import { pathToFileURL } from 'node:url';
import type { AnyActorDefinition, ProjectionDefinition, Workload } from '@troupe/runtime';
import { AppModuleError, resolveAppModule } from './appResolution.js';

/** What `--app <module>` gives the commands: the actor definitions, the app's views (projections), and its workload if it has one. */
export interface App {
  readonly specifier: string;
  readonly actors: readonly AnyActorDefinition[];
  /** The projection definitions the module exports (`troupe projections`), one per id (`name-version`); empty when none. */
  readonly projections: readonly ProjectionDefinition[];
  readonly workload?: Workload;
}

/**
 * The app every command uses when `--app` is not given: troupe's example bank. It is a private
 * package of troupe's repository (not published), so an installed troupe finds it only where
 * the repository's workspaces are; elsewhere the error says to pass `--app`.
 */
export const defaultApp = '@troupe/bank';

function isDefinition(value: unknown): value is AnyActorDefinition {
  const v = value as Partial<AnyActorDefinition> | null;
  return (
    typeof v === 'object' && v !== null && typeof v.type === 'string' && typeof v.initial === 'function' &&
    typeof v.commands === 'object' && v.commands !== null && typeof v.events === 'object' && v.events !== null
  );
}

/** What `defineProjection` returns: a name, a version, its id, the actor types it reads and its `rows`. */
function isProjection(value: unknown): value is ProjectionDefinition {
  const v = value as Partial<ProjectionDefinition> | null;
  return (
    typeof v === 'object' && v !== null && typeof v.name === 'string' && typeof v.version === 'number' && typeof v.id === 'string' &&
    v.types instanceof Set && typeof v.rows === 'function' && Array.isArray(v.from)
  );
}

function isWorkload(value: unknown): value is Workload {
  const v = value as Partial<Workload> | null;
  return typeof v === 'object' && v !== null && typeof v.nextCommand === 'function' && Array.isArray(v.actors);
}

async function importApp(specifier: string, cwd: string): Promise<Record<string, unknown>> {
  let file: string;
  try {
    file = resolveAppModule(specifier, cwd);
  } catch (error) {
    if (error instanceof AppModuleError && specifier === defaultApp) {
      throw new AppModuleError(
        error.code,
        specifier,
        `${error.message}. ${defaultApp} is troupe's example app, present only in troupe's repository: pass --app <package or path> (or set TROUPE_APP)`,
        error.tried,
      );
    }
    throw error;
  }
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    const reason = (error as Error)?.message?.split('\n')[0] ?? String(error);
    throw new AppModuleError('APP_LOAD_FAILED', specifier, `cannot load app module '${specifier}' (${file}): ${reason}`, [], { cause: error });
  }
}

/**
 * Loads an app module (`specifier` as `--app` takes it, resolved from `cwd`: see
 * `resolveAppModule`). Its actors are its `actors` export (an array), else its default export
 * (an array), else every exported actor definition; its projections are its `projections` export
 * (an array), else every exported projection definition and those of exported arrays (one per
 * id, `name-version`); its workload is its `workload` export.
 */
export async function loadApp(specifier: string = defaultApp, cwd: string = process.cwd()): Promise<App> {
  const module = await importApp(specifier, cwd);
  const listed = Array.isArray(module.actors) ? module.actors : Array.isArray(module.default) ? module.default : undefined;
  const candidates = listed ?? Object.values(module);
  const byType = new Map<string, AnyActorDefinition>();
  for (const candidate of candidates) if (isDefinition(candidate)) byType.set(candidate.type, candidate);
  if (byType.size === 0) {
    throw new AppModuleError('APP_INVALID', specifier, `app module '${specifier}' exports no actor definitions (export them as \`actors\`, as the default export, or one by one)`);
  }
  const workload = isWorkload(module.workload) ? module.workload : undefined;
  return { specifier, actors: [...byType.values()], projections: projectionsOf(module), ...(workload ? { workload } : {}) };
}

function projectionsOf(module: Record<string, unknown>): ProjectionDefinition[] {
  const candidates = Array.isArray(module.projections) ? module.projections : Object.values(module).flatMap((value) => (Array.isArray(value) ? value : [value]));
  const byId = new Map<string, ProjectionDefinition>();
  for (const candidate of candidates) if (isProjection(candidate) && !byId.has(candidate.id)) byId.set(candidate.id, candidate);
  return [...byId.values()];
}
