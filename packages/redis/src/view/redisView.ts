/**
 * A view kept in Redis (#16): the rows of a projection, in the region's Redis beside the store
 * whose log it follows, shared by every process of the region and kept across restarts. The same
 * semantics as the runtime's MemoryView (rows derived from each actor's state at its single head,
 * combined per key; a diverged actor keeps its rows until its merge arrives), so at quiescence it
 * equals `viewFromScratch` over the converged histories. One runner per view per region writes it
 * (a fenced lease); anyone reads it.
 */
import type { ActorRef, AnyActorDefinition, ProjectionDefinition, VectorClock } from '@troupe/runtime';
import { ViewTimeoutError } from '@troupe/runtime';
import { StoreUnavailableError, VC, actorKey } from '@troupe/runtime/store';
import { type ConnectOptions, connectRedisStore } from '../connect.js';
import { CommandRunner } from '../redisStore/errorMapping.js';
import type { RedisStore } from '../redisStore/index.js';
import { ViewLeaseHeldError, ViewLeaseLostError } from './errors/index.js';
import { type RebuildReport, rebuildView } from './rebuild.js';
import { StateCache } from './stateCache.js';
import { clientOf } from './storeClient.js';
import { decodeContribution, decodeRow, parseMeta } from './viewCodec.js';
import type { ViewContext } from './viewContext.js';
import { type ViewKeys, viewKeys } from './viewKeys.js';
import { ViewLease } from './viewLease.js';
import { type RedisViewObserver, type RedisViewOptions, resolveViewOptions } from './viewOptions.js';
import { ViewScripts } from './viewScripts.js';
import { checkMeta, readHead, ViewMovedError, ViewWriter } from './viewWriter.js';

/** `openRedisView`'s options: the projection, the view options, and the store (or how to connect one, which the view then closes). */
export type OpenRedisViewOptions<Row> = RedisViewOptions & { readonly projection: ProjectionDefinition<Row> } & (
    | { readonly store: RedisStore }
    | (ConnectOptions & { readonly store?: undefined })
  );

/** What `status()` reports (what `troupe projections` lists). */
export interface RedisViewStatus {
  /** The view id, `name-version`. */
  readonly view: string;
  /** Whether anything was written yet. */
  readonly exists: boolean;
  /** The position in the store's log (a cursor of the store), undefined before the first batch. */
  readonly position: string | undefined;
  /** Packs of the log after the position (null when the position is not one of this store's: see `lagError`). */
  readonly lagPacks: number | null;
  readonly lagError?: string;
  /** Whether the view caught up with the log at least once (and when). */
  readonly ready: boolean;
  readonly readyAt?: number;
  /** When the last batch was written. */
  readonly updatedAt?: number;
  /** Row keys in the view. */
  readonly rows: number;
  /** The runner holding the lease now, or null. */
  readonly lease: { readonly holder: string; readonly token: number; readonly expiresInMs: number } | null;
  /** The lease (`<token> <holder>`) of the last batch written. */
  readonly writer?: string;
}

export interface CatchUpReport {
  readonly packs: number;
  readonly batches: number;
  readonly position: string | undefined;
}

/**
 * Opens a view of `projection` kept in Redis: checks that its keys, if any, hold this projection's
 * name, version and format (ViewVersionMismatchError otherwise; damaged meta: CorruptDataError).
 * Reads need nothing more; `start()` runs it, `catchUp()` brings it to the log's end once.
 */
export async function openRedisView<Row>(options: OpenRedisViewOptions<Row>): Promise<RedisView<Row>> {
  const { projection, store: given, ...rest } = options;
  const resolved = resolveViewOptions(rest);
  const store = given ?? (await connectRedisStore(connectOptionsOf(rest as ConnectOptions)));
  try {
    const client = clientOf(store);
    const runner = new CommandRunner(client, store.endpoint, store.prefix);
    const ctx: ViewContext<Row> = {
      store,
      client,
      runner,
      scripts: new ViewScripts(client, runner),
      projection,
      definitions: new Map<string, AnyActorDefinition>(projection.from.map((d) => [d.type, d])),
      options: resolved,
      states: new StateCache(resolved.statesCachedMax),
    };
    const view = new RedisView<Row>(ctx, viewKeys(store.prefix, projection.name, projection.version), given === undefined);
    await readHead(ctx as ViewContext<unknown>, view.keys.live);
    return view;
  } catch (error) {
    if (!given) await store.close();
    throw error;
  }
}

function connectOptionsOf(options: ConnectOptions): ConnectOptions {
  const { url, cluster, redisOptions, prefix, shards, packBytesMax, replicasToAcknowledge, replicationTimeoutMs, chainPacksPerCallMax } = options;
  const picked = { url, cluster, redisOptions, prefix, shards, packBytesMax, replicasToAcknowledge, replicationTimeoutMs, chainPacksPerCallMax };
  return Object.fromEntries(Object.entries(picked).filter(([, v]) => v !== undefined)) as ConnectOptions;
}

export class RedisView<Row = unknown> {
  /** The view id: `name-version`. */
  readonly id: string;
  readonly projection: ProjectionDefinition<Row>;
  private readonly lease: ViewLease;
  private readonly writer: ViewWriter<Row>;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Steps the running loop started so far, and callers of `catchUp` waiting for a catch-up by a step started after they asked. */
  private stepsStarted = 0;
  private caughtUpWaiters: { readonly after: number; readonly resolve: () => void; readonly reject: (error: unknown) => void }[] = [];

  /** Use `openRedisView`. */
  constructor(
    private readonly ctx: ViewContext<Row>,
    /** The view's Redis keys (live, and the shadow a rebuild builds). */
    readonly keys: ViewKeys,
    private readonly ownsStore: boolean,
  ) {
    this.id = ctx.projection.id;
    this.projection = ctx.projection;
    const { holder, leaseTtlMs, renewEveryMs } = ctx.options;
    this.lease = new ViewLease(ctx.scripts, keys.live, {
      holder,
      ttlMs: leaseTtlMs,
      renewEveryMs,
      onLost: (lease, current) => this.tell('leaseLost', { view: this.id, lease, current }),
    });
    this.writer = new ViewWriter(ctx, keys.live, this.lease);
  }

  /** The store the view follows (and lives beside). */
  get store(): RedisStore {
    return this.ctx.store;
  }

  /** The lease this process holds on the view (`<token> <holder>`), or undefined. */
  get heldLease(): string | undefined {
    return this.lease.held;
  }

  // ---- reading: no lease needed ----

  /** The row under `key`, or undefined. */
  async get(key: string): Promise<Row | undefined> {
    const rowsKey = this.keys.live.rows;
    const bytes = await this.ctx.runner.run(() => this.ctx.client.hgetBuffer(rowsKey, key), [rowsKey]);
    return bytes ? decodeRow<Row>(bytes, rowsKey, key) : undefined;
  }

  /** Every row, sorted by key (one HGETALL: one consistent snapshot of the view). */
  async rows(): Promise<ReadonlyMap<string, Row>> {
    const rowsKey = this.keys.live.rows;
    const hash = await this.ctx.runner.run(() => this.ctx.client.hgetallBuffer(rowsKey), [rowsKey]);
    const keys = Object.keys(hash).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return new Map(keys.map((key) => [key, decodeRow<Row>(hash[key]!, rowsKey, key)]));
  }

  /** The version of `actor` the view's rows come from (undefined: none yet). */
  async versionOf(actor: ActorRef): Promise<VectorClock | undefined> {
    const key = this.keys.live.contributions;
    const field = actorKey(actor);
    const bytes = await this.ctx.runner.run(() => this.ctx.client.hgetBuffer(key, field), [key]);
    return bytes ? VC.decode(decodeContribution(bytes, key, field).version) : undefined;
  }

  /** The view's position in the store's log (undefined before its first batch). */
  async position(): Promise<string | undefined> {
    return (await readHead(this.ctx as ViewContext<unknown>, this.keys.live)).cursor;
  }

  /** Packs of the store's log the view has not read yet. */
  async lag(): Promise<number> {
    return this.ctx.store.backlog(await this.position());
  }

  /** Whether the view caught up with the log at least once. */
  async isReady(): Promise<boolean> {
    return (await readHead(this.ctx as ViewContext<unknown>, this.keys.live)).meta?.readyAt !== undefined;
  }

  /** Position, lag, readiness, rows and lease, as `troupe projections` lists them. */
  async status(): Promise<RedisViewStatus> {
    const k = this.keys.live;
    const replies = await this.ctx.runner.run(async () => {
      const results = (await this.ctx.client.multi().hgetall(k.meta).get(k.cursor).get(k.lease).pttl(k.lease).hlen(k.rows).exec()) ?? [];
      for (const [error] of results) if (error) throw error;
      return results.map(([, value]) => value);
    }, [k.meta, k.cursor, k.lease, k.rows]);
    const meta = parseMeta(replies[0] as Record<string, string>, k.meta);
    checkMeta(this.ctx as ViewContext<unknown>, k, meta);
    const position = (replies[1] as string | null) ?? undefined;
    const leaseValue = replies[2] as string | null;
    let lagPacks: number | null = null;
    let lagError: string | undefined;
    try {
      lagPacks = await this.ctx.store.backlog(position);
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      lagError = (error as Error).message;
    }
    const space = leaseValue?.indexOf(' ') ?? -1;
    return {
      view: this.id,
      exists: meta !== undefined,
      position,
      lagPacks,
      ...(lagError ? { lagError } : {}),
      ready: meta?.readyAt !== undefined,
      ...(meta?.readyAt !== undefined ? { readyAt: meta.readyAt } : {}),
      ...(meta?.updatedAt !== undefined ? { updatedAt: meta.updatedAt } : {}),
      rows: Number(replies[4]),
      lease: leaseValue && space > 0 ? { token: Number(leaseValue.slice(0, space)), holder: leaseValue.slice(space + 1), expiresInMs: Number(replies[3]) } : null,
      ...(meta?.writer !== undefined ? { writer: meta.writer } : {}),
    };
  }

  /** Resolves once the view has caught up with the log at least once (by whichever runner); ViewTimeoutError after `timeoutMs` (default 30 s). */
  async waitUntilReady(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    await this.poll(() => this.isReady(), 'readiness', options.timeoutMs);
  }

  /** Resolves with the rows once `predicate` holds for them (read every `pollMs`); ViewTimeoutError after `timeoutMs` (default 30 s). */
  async waitUntil(predicate: (rows: ReadonlyMap<string, Row>) => boolean, options: { readonly timeoutMs?: number } = {}): Promise<ReadonlyMap<string, Row>> {
    let rows: ReadonlyMap<string, Row> = new Map();
    await this.poll(async () => predicate((rows = await this.rows())), 'the condition', options.timeoutMs);
    return rows;
  }

  /**
   * Read-your-writes: resolves with the rows once the view reflects `actor` at `version` or later
   * (e.g. a command reply's version); ViewTimeoutError after `timeoutMs` (default 30 s).
   */
  async waitFor(actor: ActorRef, version: VectorClock, options: { readonly timeoutMs?: number } = {}): Promise<ReadonlyMap<string, Row>> {
    await this.poll(async () => {
      const held = await this.versionOf(actor);
      return held !== undefined && VC.dominatedBy(version, held);
    }, `${actorKey(actor)}@${VC.encode(version)}`, options.timeoutMs);
    return this.rows();
  }

  private async poll(done: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await done()) return;
      const left = deadline - Date.now();
      if (left <= 0) throw new ViewTimeoutError(this.id, what, timeoutMs);
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.ctx.options.pollMs, left)));
    }
  }

  // ---- running: one runner per view per region ----

  /**
   * Brings the view to the end of the store's log once, under the lease (taken, then given back):
   * ViewLeaseHeldError when another runner holds it. When `start()` runs in this process, waits
   * instead for its next catch-up by a batch started after this call (ViewLeaseHeldError while it
   * is in standby).
   */
  async catchUp(): Promise<CatchUpReport> {
    if (this.loop) {
      // A step already under way may have read the log before what the caller waits for: wait for one started after this call.
      const after = this.stepsStarted;
      await new Promise<void>((resolve, reject) => this.caughtUpWaiters.push({ after, resolve, reject }));
      return { packs: 0, batches: 0, position: await this.position() };
    }
    const got = await this.lease.acquire();
    if (!got.acquired) throw new ViewLeaseHeldError(this.id, got.heldBy, got.expiresInMs);
    try {
      let packs = 0;
      let batches = 0;
      for (;;) {
        try {
          const report = await this.writer.step();
          packs += report.packs;
          if (report.wrote) batches++;
          if (report.caughtUp) return { packs, batches, position: report.position };
        } catch (error) {
          if (!(error instanceof ViewMovedError)) throw error;
        }
      }
    } finally {
      await this.lease.release();
    }
  }

  /**
   * Runs the view until `stop()`: takes the lease when free (waiting in standby while another
   * runner holds it), writes batch after batch, polls the log every `pollMs` once caught up, and
   * goes back to standby when it loses the lease. A transient error (Redis unreachable) is
   * retried with backoff. Resolves after `stop()` (the batch in progress finished, the lease given
   * back); rejects with what stopped it otherwise: ProjectionError (`rows` threw: nothing of that
   * batch was written, the position did not move), ViewVersionMismatchError, CorruptDataError.
   */
  start(): Promise<void> {
    if (this.loop) return this.loop;
    this.running = true;
    this.loop = this.run().finally(() => {
      this.loop = undefined;
      this.running = false;
    });
    return this.loop;
  }

  /** Stops the runner after its current batch and gives the lease back. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop?.catch(() => undefined);
  }

  /** Builds the view again beside the live one and swaps it in atomically (see rebuild.ts). ViewLeaseHeldError when a rebuild runs already. */
  rebuild(): Promise<RebuildReport> {
    return rebuildView(this.ctx, this.keys);
  }

  /** Stops the runner; closes the store when the view connected it. */
  async close(): Promise<void> {
    await this.stop();
    if (this.ownsStore) await this.ctx.store.close();
  }

  private async run(): Promise<void> {
    const { pollMs, retryInitialMs, retryMaxMs, renewEveryMs } = this.ctx.options;
    let retryMs = retryInitialMs;
    let behind = true;
    try {
      while (this.running) {
        try {
          if (this.lease.held === undefined) {
            const got = await this.lease.acquire();
            if (!got.acquired) {
              const held = new ViewLeaseHeldError(this.id, got.heldBy, got.expiresInMs);
              for (const waiter of this.caughtUpWaiters.splice(0)) waiter.reject(held);
              this.tell('standby', { view: this.id, heldBy: got.heldBy, expiresInMs: got.expiresInMs });
              await this.sleep(Math.max(pollMs, Math.min(got.expiresInMs, renewEveryMs)));
              continue;
            }
            this.tell('leaseAcquired', { view: this.id, lease: got.lease, token: this.lease.token! });
            behind = true;
          }
          const step = ++this.stepsStarted;
          const report = await this.writer.step();
          retryMs = retryInitialMs;
          if (report.wrote && report.position !== undefined) this.tell('batch', { view: this.id, packs: report.packs, actors: report.actors, keys: report.keys, position: report.position });
          if (!report.caughtUp) {
            behind = true;
            continue;
          }
          if (behind) this.tell('caughtUp', { view: this.id, position: report.position });
          behind = false;
          this.caughtUpWaiters = this.caughtUpWaiters.filter((waiter) => (waiter.after < step ? void waiter.resolve() : true));
          await this.sleep(pollMs);
        } catch (error) {
          if (error instanceof ViewMovedError || error instanceof ViewLeaseLostError) continue;
          if (!(error instanceof StoreUnavailableError)) throw error;
          this.tell('retrying', { view: this.id, error, retryInMs: retryMs });
          await this.sleep(retryMs);
          retryMs = Math.min(retryMs * 2, retryMaxMs);
        }
      }
    } finally {
      for (const waiter of this.caughtUpWaiters.splice(0)) waiter.resolve();
      await this.lease.release();
    }
  }

  private sleep(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private tell<K extends keyof RedisViewObserver>(name: K, o: Parameters<NonNullable<RedisViewObserver[K]>>[0]): void {
    try {
      (this.ctx.options.observer[name] as ((arg: typeof o) => void) | undefined)?.(o);
    } catch (error) {
      process.emitWarning(`a view observer threw: ${(error as Error)?.message ?? String(error)}`);
    }
  }
}
