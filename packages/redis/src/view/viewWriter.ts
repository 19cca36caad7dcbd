/**
 * One batch of a Redis view (the runner's step, and a rebuild's): read the view's build and
 * cursor, read the store's log from that cursor, recompute the touched actors' rows from their
 * states at their heads, and write the contributions, parts, rows and the new cursor with one
 * script that refuses the batch unless this runner holds the lease and the view is still at the
 * build and cursor the batch read. Every event is thus applied exactly once per build: a batch
 * that was not written (SIGKILL, a refused lease, a swap) leaves the old cursor, and is read
 * again; one that was written moved the cursor with it.
 */
import { randomUUID } from 'node:crypto';
import { type ActorRef, type AnyActorDefinition, type Pack, ProjectionError } from '@troupe/runtime';
import { fold, stateAt } from '@troupe/runtime/resolution';
import { CorruptDataError, VC, type VectorClock, actorKey } from '@troupe/runtime/store';
import { ViewLeaseLostError, ViewVersionMismatchError } from './errors/index.js';
import { type ActorRows, affectedKeys, planBatch, rowMap } from './batchPlan.js';
import type { HeldState } from './stateCache.js';
import type { ViewContext } from './viewContext.js';
import { type Contribution, type Parts, type ViewMeta, decodeContribution, decodeParts, describeMeta, encodeContribution, encodeParts, encodeRow, parseMeta, viewFormatVersion } from './viewCodec.js';
import type { ViewKeySet } from './viewKeys.js';
import type { ViewLease } from './viewLease.js';
import type { ViewReply } from './viewScripts.js';

/** A batch found the view moved under it (another build swapped in, or the cursor moved): read it again. */
export class ViewMovedError extends Error {}

/** The view's meta and cursor, read together. */
export interface ViewHead {
  readonly meta: ViewMeta | undefined;
  readonly cursor: string | undefined;
}

export interface StepReport {
  /** Packs read from the log. */
  readonly packs: number;
  /** Actors whose contribution was replaced. */
  readonly actors: number;
  /** Row keys written or deleted. */
  readonly keys: number;
  /** Whether the batch reached the end of the log. */
  readonly caughtUp: boolean;
  /** Whether the batch wrote anything (false: nothing new, and the view was ready already). */
  readonly wrote: boolean;
  readonly position: string | undefined;
}

/** The meta and the cursor of a key set, in one MULTI (one snapshot). */
export async function readHead(ctx: ViewContext<unknown>, keys: ViewKeySet): Promise<ViewHead> {
  const results = await ctx.runner.run(async () => {
    const replies = (await ctx.client.multi().hgetall(keys.meta).get(keys.cursor).exec()) ?? [];
    for (const [error] of replies) if (error) throw error;
    return replies.map(([, value]) => value);
  }, [keys.meta, keys.cursor]);
  const meta = parseMeta((results[0] ?? {}) as Record<string, string>, keys.meta);
  const cursor = (results[1] as string | null) ?? undefined;
  checkMeta(ctx, keys, meta);
  if (!meta && cursor !== undefined) throw new CorruptDataError(keys.meta, `the view has a cursor (${keys.cursor}) but no meta`);
  return { meta, cursor };
}

/** ViewVersionMismatchError unless the meta names this projection, version and format. */
export function checkMeta(ctx: ViewContext<unknown>, keys: ViewKeySet, meta: ViewMeta | undefined): void {
  if (!meta) return;
  const { name, version } = ctx.projection;
  if (meta.name !== name || meta.version !== version || meta.format !== viewFormatVersion) {
    throw new ViewVersionMismatchError(keys.meta, describeMeta({ name, version, format: viewFormatVersion }), describeMeta(meta));
  }
}

export class ViewWriter<Row> {
  /** The build id this writer gives a view it creates (kept across retries of the first batch). */
  private freshBuild: string | undefined;

  constructor(
    private readonly ctx: ViewContext<Row>,
    readonly keys: ViewKeySet,
    private readonly lease: ViewLease,
  ) {}

  /** One batch. Throws ViewMovedError (read again), ViewLeaseLostError, ProjectionError (nothing written), store errors. */
  async step(): Promise<StepReport> {
    const { ctx } = this;
    const head = await readHead(ctx as ViewContext<unknown>, this.keys);
    const changes = await ctx.store.changesSince(head.cursor, ctx.options.batchSize);
    const caughtUp = changes.packs.length < ctx.options.batchSize;
    const alreadyReady = head.meta?.readyAt !== undefined;
    if (changes.cursor === head.cursor && (alreadyReady || !caughtUp)) {
      return { packs: 0, actors: 0, keys: 0, caughtUp, wrote: false, position: head.cursor };
    }
    const { updates, states } = await this.recompute(changes.packs);
    const keys = affectedKeys(updates);
    const writes = planBatch(updates, await this.readParts(keys), ctx.projection.combine);
    const build = head.meta?.build ?? (this.freshBuild ??= randomUUID());
    await this.write(head, build, changes.cursor, caughtUp, writes);
    for (const [actor, held] of states) ctx.states.set(actor, held);
    return { packs: changes.packs.length, actors: updates.length, keys: keys.length, caughtUp, wrote: true, position: changes.cursor };
  }

  /**
   * The new rows of every actor of the projection's types the packs touched, from its state after
   * them (`stateAfter`); an actor whose packs change nothing (a concurrent branch whose merge is
   * not here yet, or a batch replayed after a crash: its contribution is at those packs already)
   * keeps its contribution. ProjectionError when `rows` throws.
   */
  private async recompute(packs: readonly Pack[]): Promise<{ updates: ActorRows<Row>[]; states: Map<string, HeldState> }> {
    const { ctx } = this;
    const touched = new Map<string, { actor: ActorRef; packs: Pack[] }>();
    for (const pack of packs) {
      if (!ctx.projection.types.has(pack.actor.type)) continue;
      const key = actorKey(pack.actor);
      const entry = touched.get(key) ?? { actor: pack.actor, packs: [] };
      entry.packs.push(pack);
      touched.set(key, entry);
    }
    const entries = [...touched.entries()].map(([key, e]) => ({ key, ...e }));
    const previous = await this.readContributions(entries.map((e) => e.key));
    const after = await mapLimited(entries, ctx.options.readsInFlightMax, (e, i) => this.stateAfter(e.key, e.actor, e.packs, previous[i]));
    const updates: ActorRows<Row>[] = [];
    const states = new Map<string, HeldState>();
    for (const [i, e] of entries.entries()) {
      const state = after[i];
      if (!state) continue;
      let rows: Map<string, Row>;
      try {
        rows = rowMap(ctx.projection.rows(e.actor, state.state));
      } catch (error) {
        throw new ProjectionError(ctx.projection.id, e.key, state.versionKey, error);
      }
      updates.push({ actor: e.key, version: state.versionKey, rows, previous: previous[i] });
      states.set(e.key, state);
    }
    return { updates, states };
  }

  /**
   * The actor's state after the packs that arrived, from the packs themselves, as MemoryView does:
   * the version its contribution is at is the base; a pack not after it is skipped (an older one,
   * or another branch: its merge will carry it); a merge pack carries its state; a command pack
   * whose parent is the base is folded onto the base's state (the runner's cache, else loaded once;
   * a root onto `initial()`); any other pack after the base is loaded (`stateAt`). Undefined when
   * nothing changed. No heads are read: at quiescence an actor's last pack in the log is its only
   * head (the log lists every pack after its parents).
   */
  private async stateAfter(key: string, actor: ActorRef, arrived: readonly Pack[], previous: Contribution | undefined): Promise<HeldState | undefined> {
    const definition = this.ctx.definitions.get(actor.type) as AnyActorDefinition;
    const baseKey = previous?.version;
    let version: VectorClock | undefined = baseKey === undefined ? undefined : VC.decode(baseKey);
    let state: unknown;
    let stateKnown = false;
    let readAt: VectorClock | undefined;
    const baseState = async (): Promise<unknown> => {
      if (version === undefined) return definition.initial();
      const cached = this.ctx.states.get(key);
      if (cached && cached.versionKey === VC.encode(version)) return cached.state;
      return (await stateAt(this.ctx.store, definition, actor, version)).state;
    };
    let changed = false;
    for (const pack of arrived) {
      if (version !== undefined && VC.compare(pack.version, version) !== 'after') continue;
      changed = true;
      if (pack.kind === 'merge') {
        state = pack.state;
        stateKnown = true;
        readAt = undefined;
      } else if (readAt === undefined && (version === undefined ? pack.parents.length === 0 : pack.parents.length === 1 && VC.encode(pack.parents[0]!) === VC.encode(version))) {
        state = fold(definition, stateKnown ? state : await baseState(), pack.events);
        stateKnown = true;
      } else {
        readAt = pack.version;
        stateKnown = false;
      }
      version = pack.version;
    }
    if (!changed || version === undefined) return undefined;
    if (readAt !== undefined) state = (await stateAt(this.ctx.store, definition, actor, readAt)).state;
    return { version, versionKey: VC.encode(version), state };
  }

  private async readContributions(actors: readonly string[]): Promise<(Contribution | undefined)[]> {
    if (actors.length === 0) return [];
    const key = this.keys.contributions;
    const values = await this.ctx.runner.run(() => this.ctx.client.hmgetBuffer(key, ...actors), [key]);
    return values.map((bytes, i) => (bytes ? decodeContribution(bytes, key, actors[i]!) : undefined));
  }

  private async readParts(rowKeys: readonly string[]): Promise<Map<string, Parts<Row>>> {
    const parts = new Map<string, Parts<Row>>();
    if (rowKeys.length === 0) return parts;
    const key = this.keys.parts;
    const values = await this.ctx.runner.run(() => this.ctx.client.hmgetBuffer(key, ...rowKeys), [key]);
    values.forEach((bytes, i) => {
      if (bytes) parts.set(rowKeys[i]!, decodeParts<Row>(bytes, key, rowKeys[i]!));
    });
    return parts;
  }

  private async write(head: ViewHead, build: string, cursor: string, caughtUp: boolean, writes: ReturnType<typeof planBatch<Row>>): Promise<void> {
    const lease = this.lease.held;
    if (lease === undefined) throw new ViewLeaseLostError(this.ctx.projection.id, '(none)', '');
    const { name, version } = this.ctx.projection;
    const args: (string | Buffer | number)[] = [lease, name, String(version), String(viewFormatVersion), build, head.cursor ?? '', cursor, caughtUp ? '1' : '0', String(Date.now())];
    args.push(writes.contributions.length);
    for (const [actor, contribution] of writes.contributions) args.push(actor, encodeContribution(contribution));
    args.push(writes.partsSet.length);
    for (const [key, parts] of writes.partsSet) args.push(key, encodeParts(parts));
    args.push(writes.partsDeleted.length, ...writes.partsDeleted);
    args.push(writes.rowsSet.length);
    for (const [key, row] of writes.rowsSet) args.push(key, encodeRow(row));
    args.push(writes.rowsDeleted.length, ...writes.rowsDeleted);
    const k = this.keys;
    const reply = (await this.ctx.scripts.call('troupeViewWriteBatch', [k.lease, k.meta, k.cursor, k.contributions, k.parts, k.rows], args)) as ViewReply[];
    refusal(this.ctx.projection.id, k, reply, this.lease, lease);
  }
}

/** Throws what a view script's reply refused (nothing when it is {'ok'}). */
export function refusal(view: string, keys: ViewKeySet, reply: ViewReply[], lease: ViewLease, held: string): void {
  const [what, a, b, c] = reply.map((x) => (x === null ? '' : String(x)));
  switch (what) {
    case 'ok':
      return;
    case 'lease':
      lease.lost(a!);
      throw new ViewLeaseLostError(view, held, a!);
    case 'meta':
      throw new ViewVersionMismatchError(keys.meta, `the view this runner writes (${view})`, a ? `projection '${a}' version ${b} (format ${c})` : 'a meta without name, version or format');
    case 'build':
    case 'moved':
      throw new ViewMovedError(`view ${view}: the ${what === 'build' ? 'build' : 'cursor'} changed under the batch (now ${a || 'none'})`);
    case 'nometa':
      throw new CorruptDataError(keys.meta, `the view has a cursor (${keys.cursor}) but no meta`);
    case 'type':
      throw new CorruptDataError(a!, `holds a ${b} where troupe keeps a ${c}`);
    default:
      throw new Error(`unexpected reply of a view script: ${JSON.stringify(reply)}`);
  }
}


/** `f` over `items`, at most `limit` at once, results in order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, f: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await f(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
