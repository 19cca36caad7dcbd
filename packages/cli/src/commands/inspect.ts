import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { type ActorRef, type EventStore, type MergeRecord, type Pack, UnknownActorTypeError } from '@troupe/runtime';
import { VC, isMergeLog } from '@troupe/runtime/store';
import { stateAt } from '@troupe/runtime/resolution';
import { type RedisStore, connectRedisStore } from '@troupe/redis';
import { type RegionEndpoint, parseRegionsFile } from '../regionsConfig.js';
import { loadApp } from '../appModule.js';
import { CliError, type RedisTlsFlags, appOption, integer, json, redisPrefixOption, redisTls, redisTlsOptions } from '../shared.js';

interface InspectFlags extends RedisTlsFlags {
  readonly app: string;
  readonly redis: string;
  readonly redisPrefix: string;
  readonly regionsFile?: string;
  readonly depth: number;
  readonly merges: boolean;
  readonly json: boolean;
}

export interface AncestorView {
  readonly version: string;
  readonly kind: string;
  readonly parents: string[];
  readonly replica: string;
  readonly commandIds: readonly string[];
  readonly events: { type: string; data: unknown }[];
}

export interface InspectView {
  readonly actor: string;
  /** Version of the single head, or null when the actor has no events or has diverged. */
  readonly version: string | null;
  readonly heads: { version: string; state: unknown }[];
  /** Latest first, breadth first from the heads, at most `depth` packs. */
  readonly ancestors: AncestorView[];
  /** The state at the head (the initial state when there are no events; null when diverged). */
  readonly state: unknown;
  /** With --merges: the actor's merge records in this store, newest first. */
  readonly merges?: readonly MergeRecord[];
}

/** Reads an actor without changing it (a diverged actor is shown with all its heads, not merged). */
export async function inspectActor(store: EventStore, definition: Parameters<typeof stateAt>[1], actor: ActorRef, depth: number): Promise<InspectView> {
  const heads = await store.heads(actor);
  const headViews = [];
  for (const head of heads) {
    const { state } = await stateAt(store, definition, actor, head.version);
    headViews.push({ version: VC.encode(head.version), state });
  }
  const ancestors: AncestorView[] = [];
  const seen = new Set<string>();
  let frontier: Pack[] = heads;
  while (frontier.length > 0 && ancestors.length < depth) {
    const next: string[] = [];
    for (const pack of frontier) {
      const key = VC.encode(pack.version);
      if (seen.has(key) || ancestors.length >= depth) continue;
      seen.add(key);
      ancestors.push({
        version: key,
        kind: pack.kind,
        parents: pack.parents.map(VC.encode),
        replica: pack.replica,
        commandIds: pack.commandIds,
        events: pack.events.map((e) => ({ type: e.type, data: e.data })),
      });
      for (const parent of pack.parents) next.push(VC.encode(parent));
    }
    const unique = [...new Set(next)].filter((k) => !seen.has(k));
    frontier = unique.length === 0 ? [] : ((await store.getPacks(actor, unique)).filter(Boolean) as Pack[]);
  }
  return {
    actor: `${actor.type}:${actor.id}`,
    version: headViews.length === 1 ? headViews[0]!.version : null,
    heads: headViews,
    ancestors,
    state: headViews.length === 0 ? definition.initial() : headViews.length === 1 ? headViews[0]!.state : null,
  };
}

export function formatInspect(view: InspectView): string {
  const lines = [view.actor];
  if (view.heads.length === 0) {
    lines.push('  no events in this store', `  state     ${json(view.state, false)}`);
    return lines.join('\n');
  }
  lines.push(`  version   ${view.version ?? `diverged: ${view.heads.length} heads (the next command or sync merges them)`}`);
  lines.push(`  heads     ${view.heads.length}`);
  for (const head of view.heads) lines.push(`  state${view.heads.length > 1 ? ` @ ${head.version}` : '    '} ${json(head.state, false)}`);
  lines.push('  ancestors (latest first)');
  for (const a of view.ancestors) {
    const events = a.events.map((e) => `${e.type} ${json(e.data, false)}`).join('; ');
    lines.push(`    ${a.version.padEnd(24)} ${a.kind.padEnd(7)} ${events || '(no events)'}`);
  }
  if (view.merges) {
    lines.push(`  merges written here (newest first): ${view.merges.length === 0 ? 'none' : ''}`);
    for (const m of view.merges) {
      lines.push(
        `    ${VC.encode(m.version).padEnd(24)} by ${m.region}, ${m.heads.length} heads from ${m.ancestor ? VC.encode(m.ancestor) : '(no common ancestor)'}, ` +
          `${m.replayed} events replayed, ${m.droppedDuplicates} duplicates dropped, compensations: ${m.compensations.join(', ') || 'none'}, ` +
          `diverged for ${((m.mergedAt - m.divergedAt) / 1000).toFixed(1)} s, merged at ${new Date(m.mergedAt).toISOString()}`,
      );
    }
  }
  return lines.join('\n');
}

export function inspectCommand(): Command {
  const command = new Command('inspect')
    .description('print an actor\'s version, heads, ancestors and state, read from the Redis store')
    .argument('<type>', 'actor type, e.g. account')
    .argument('<id>', 'actor id, e.g. alice')
    .addOption(appOption())
    .addOption(new Option('--redis <url>', 'Redis URL of the event store').env('TROUPE_REDIS_URL').default('redis://127.0.0.1:6379'))
    .addOption(redisPrefixOption())
    .addOption(new Option('--regions-file <path>', 'read the actor in every region of this file (the version each holds) instead of --redis').env('TROUPE_REGIONS_FILE'))
    .addOption(new Option('--depth <n>', 'ancestors to show').default(10).argParser(integer(0)))
    .option('--merges', 'also list the merge records (newest first): what diverged, the common ancestor, what was replayed and compensated', false)
    .option('--json', 'print one JSON object', false);
  for (const option of redisTlsOptions()) command.addOption(option);
  return command.action(async (type: string, id: string, flags: InspectFlags) => {
    const app = await loadApp(flags.app);
    const definition = app.actors.find((d) => d.type === type);
    if (!definition) throw new UnknownActorTypeError(type, app.actors.map((d) => d.type));
    const regions: RegionEndpoint[] =
      flags.regionsFile === undefined ? [{ id: '', redis: flags.redis, prefix: flags.redisPrefix }] : parseRegionsFile(flags.regionsFile, readText(flags.regionsFile), flags.redisPrefix);
    const views: (InspectView & { region?: string; error?: string })[] = [];
    for (const region of regions) {
      let store: RedisStore;
      try {
        store = await connectRedisStore({ url: region.redis, prefix: region.prefix, ...redisTls(flags) });
      } catch (error) {
        if (regions.length === 1) throw error;
        views.push({ region: region.id, error: (error as Error).message, actor: `${type}:${id}`, version: null, heads: [], ancestors: [], state: null });
        continue;
      }
      try {
        const view = await inspectActor(store, definition, { type, id }, flags.depth);
        const merges = flags.merges ? (isMergeLog(store) ? await store.merges({ type, id }) : []) : undefined;
        views.push({ ...(region.id ? { region: region.id } : {}), ...view, ...(merges ? { merges } : {}) });
      } finally {
        await store.close();
      }
    }
    if (flags.json) console.log(json(regions.length === 1 && !flags.regionsFile ? views[0] : views));
    else console.log(views.map((view) => (view.error ? `region ${view.region}: UNREACHABLE: ${view.error}` : `${view.region ? `region ${view.region}: ` : ''}${formatInspect(view)}`)).join('\n\n'));
  });
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`regions file ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}
