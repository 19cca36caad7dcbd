import { Command, Option } from 'commander';
import { type ActorRef, type EventStore, type Pack, UnknownActorTypeError } from '@troupe/runtime';
import { VC } from '@troupe/runtime/store';
import { stateAt } from '@troupe/runtime/resolution';
import { connectRedisStore } from '@troupe/redis';
import { loadApp } from '../appModule.js';
import { type RedisTlsFlags, appOption, integer, json, redisPrefixOption, redisTls, redisTlsOptions } from '../shared.js';

interface InspectFlags extends RedisTlsFlags {
  readonly app: string;
  readonly redis: string;
  readonly redisPrefix: string;
  readonly depth: number;
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
    .addOption(new Option('--depth <n>', 'ancestors to show').default(10).argParser(integer(0)))
    .option('--json', 'print one JSON object', false);
  for (const option of redisTlsOptions()) command.addOption(option);
  return command.action(async (type: string, id: string, flags: InspectFlags) => {
      const app = await loadApp(flags.app);
      const definition = app.actors.find((d) => d.type === type);
      if (!definition) throw new UnknownActorTypeError(type, app.actors.map((d) => d.type));
      const store = await connectRedisStore({ url: flags.redis, prefix: flags.redisPrefix, ...redisTls(flags) });
      try {
        const view = await inspectActor(store, definition, { type, id }, flags.depth);
        console.log(flags.json ? json(view) : formatInspect(view));
      } finally {
        await store.close();
      }
    });
}
