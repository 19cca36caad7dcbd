import { createRequire } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyActorDefinition, Workload } from '@troupe/runtime';

/** What `--app <module>` gives the commands: the actor definitions, and the app's workload if it has one. */
export interface App {
  readonly specifier: string;
  readonly actors: readonly AnyActorDefinition[];
  readonly workload?: Workload;
}

/** The app every command uses when `--app` is not given. */
export const defaultApp = '@troupe/bank';

function isDefinition(value: unknown): value is AnyActorDefinition {
  const v = value as Partial<AnyActorDefinition> | null;
  return (
    typeof v === 'object' && v !== null && typeof v.type === 'string' && typeof v.initial === 'function' &&
    typeof v.commands === 'object' && v.commands !== null && typeof v.events === 'object' && v.events !== null
  );
}

function isWorkload(value: unknown): value is Workload {
  const v = value as Partial<Workload> | null;
  return typeof v === 'object' && v !== null && typeof v.nextCommand === 'function' && Array.isArray(v.actors);
}

/** A file path (relative to the working directory) or a package name resolved from it, then from troupe's own install. */
async function importApp(specifier: string): Promise<Record<string, unknown>> {
  const looksLikePath = specifier.startsWith('.') || isAbsolute(specifier) || /\.(m?js|cjs)$/.test(specifier);
  if (looksLikePath) return (await import(pathToFileURL(resolve(specifier)).href)) as Record<string, unknown>;
  let resolved: string | undefined;
  try {
    resolved = createRequire(resolve('package.json')).resolve(specifier);
  } catch {
    resolved = undefined;
  }
  return (await import(resolved ? pathToFileURL(resolved).href : specifier)) as Record<string, unknown>;
}

/**
 * Loads an app module. Its actors are its `actors` export (an array), else its default export
 * (an array), else every exported actor definition; its workload is its `workload` export.
 */
export async function loadApp(specifier: string = defaultApp): Promise<App> {
  let module: Record<string, unknown>;
  try {
    module = await importApp(specifier);
  } catch (error) {
    throw new Error(`cannot load app module '${specifier}': ${(error as Error).message.split('\n')[0]}`);
  }
  const listed = Array.isArray(module.actors) ? module.actors : Array.isArray(module.default) ? module.default : undefined;
  const candidates = listed ?? Object.values(module);
  const byType = new Map<string, AnyActorDefinition>();
  for (const candidate of candidates) if (isDefinition(candidate)) byType.set(candidate.type, candidate);
  if (byType.size === 0) {
    throw new Error(`app module '${specifier}' exports no actor definitions (export them as \`actors\`, as the default export, or one by one)`);
  }
  const workload = isWorkload(module.workload) ? module.workload : undefined;
  return { specifier, actors: [...byType.values()], ...(workload ? { workload } : {}) };
}
