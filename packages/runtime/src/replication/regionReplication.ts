import { InvalidCursorError, InvalidOptionError, RegionConfigError } from '../errors/index.js';
import type { ActorRef } from '../model/index.js';
import { VC } from '../vectorClock/index.js';
import type { EventStore } from '../store/index.js';
import type { FrontierTable, RegionLog } from '../store/regionLog.js';
import { type BatchReport, Replicator, type SyncReport } from './replicator.js';

/** Another region this one copies from: its id and its store (reached over the network). */
export interface RegionSource {
  readonly region: string;
  readonly store: EventStore & RegionLog;
}

export interface RegionBackoff {
  /** First wait after a failure. Default 200 ms. */
  readonly initialMs?: number;
  /** Longest wait. Default 30,000 ms. */
  readonly maxMs?: number;
  /** Share of each wait drawn at random (0: none, 1: anywhere from 0 to the wait). Default 0.5. */
  readonly jitter?: number;
}

export interface RegionReplicationOptions {
  /** This region's id: the replica id its workers write as. */
  readonly region: string;
  /** This region's store: every source is copied into it. */
  readonly store: EventStore & RegionLog;
  /** Merges an actor's heads in this region (e.g. `runtime.resolve`): called after a copy leaves several. */
  readonly resolve: (actor: ActorRef) => Promise<unknown>;
  /** Every other region. */
  readonly sources: readonly RegionSource[];
  /** Packs copied per round trip. Default 500. */
  readonly batchSize?: number;
  /** Wait between two syncs of a link that is caught up. Default 250 ms. */
  readonly idleMs?: number;
  readonly backoff?: RegionBackoff;
  readonly observer?: RegionReplicationObserver;
  /** Random numbers in [0, 1) for the jitter (tests pass a fixed one). Default Math.random. */
  readonly random?: () => number;
}

/** What a link reports as it works: for logs and metrics. Callbacks must not throw or block. */
export interface RegionReplicationObserver {
  /** A link copied and resolved without error after having failed (or for the first time). */
  linkUp?(o: { readonly source: string }): void;
  /** A sync failed: the link waits `retryInMs`, then tries again. */
  linkDown?(o: { readonly source: string; readonly error: unknown; readonly failures: number; readonly retryInMs: number }): void;
  /**
   * The link stopped for good: its cursor is not one the source handed out, the source belongs to
   * another deployment, or the source's store lost its data or refuses the credentials (see `LinkStatus.error`).
   */
  linkBroken?(o: { readonly source: string; readonly error: unknown }): void;
  /** One batch merged, resolved and checkpointed. */
  batch?(o: { readonly source: string; readonly batch: BatchReport; readonly lagPacks: number; readonly lagMs: number }): void;
  /** A sync finished: everything the source's log held was copied. */
  synced?(o: { readonly source: string; readonly report: SyncReport; readonly lagPacks: number }): void;
}

/** One link's state, for status pages. */
export interface LinkStatus {
  readonly source: string;
  /** 'starting' before the first sync, 'up' after a sync succeeded, 'down' after one failed, 'broken' when it stopped for good. */
  readonly state: 'starting' | 'up' | 'down' | 'broken';
  readonly cursor: string | undefined;
  /** Packs in the source's log after the cursor, as last measured. */
  readonly lagPacks: number;
  /** Age of the oldest pack in the last batch copied (0 once caught up), ms. */
  readonly lagMs: number;
  readonly copied: number;
  readonly resolved: number;
  readonly failures: number;
  readonly error?: string;
}

interface Link {
  readonly source: RegionSource;
  readonly replicator: Replicator;
  status: LinkStatus;
  running?: Promise<void>;
  wake?: () => void;
  /** The source's declared regions were checked (once reached). */
  checked: boolean;
  /** When the source's frontier table was last merged in (ms). */
  gossipedAt: number;
}

/** How often a link in a long sync merges the source's frontier table in (besides after every sync). */
const gossipEveryMs = 1_000;

/** The name of the checkpoint a region keeps for its copy of `source`'s log. */
export function checkpointName(source: string): string {
  return `from-${source}`;
}

/**
 * Region-to-region replication as a long-running service (what `troupe replicate` runs): one
 * Replicator per source region, each copying that region's log into this region's store in
 * batches, resolving diverged actors, saving its cursor in this region (so a restart resumes,
 * and a kill mid-batch copies the batch again: merging is idempotent), and publishing how far it
 * got in the frontier table, with the source's own table merged in (gossip): that table is what
 * `awaitReplicated` reads. A failing link backs off with jitter and retries alone; the others go on.
 */
export class RegionReplication {
  readonly region: string;
  private readonly options: RegionReplicationOptions;
  private readonly links: Link[];
  private readonly idleMs: number;
  private readonly backoff: Required<RegionBackoff>;
  private readonly random: () => number;
  /** The options' observer, each callback guarded: one that throws becomes a process warning, never a dead link. */
  private readonly observer: Required<RegionReplicationObserver>;
  private stopping = false;
  private started = false;
  private reportFatal: (error: unknown) => void = () => undefined;
  /**
   * Resolves with the error when this region's own store can no longer be used (its Redis lost the
   * data, or refuses the credentials: codes in `fatalStoreCodes`); every link has stopped by then.
   * `troupe replicate` exits on it. Never resolves otherwise.
   */
  readonly fatal: Promise<unknown> = new Promise((resolve) => (this.reportFatal = resolve));

  constructor(options: RegionReplicationOptions) {
    validate(options);
    this.options = options;
    this.region = options.region;
    this.idleMs = options.idleMs ?? 250;
    this.backoff = { initialMs: 200, maxMs: 30_000, jitter: 0.5, ...options.backoff };
    this.random = options.random ?? Math.random;
    this.observer = guardedRegionObserver(options.observer);
    this.links = options.sources.map((source) => {
      const link: Link = {
        source,
        checked: false,
        gossipedAt: Date.now(),
        status: { source: source.region, state: 'starting', cursor: undefined, lagPacks: 0, lagMs: 0, copied: 0, resolved: 0, failures: 0 },
        replicator: new Replicator(
          { store: source.store, resolve: () => Promise.reject(new Error('a source is never resolved from here')) },
          { store: options.store, resolve: options.resolve },
          {
            batchSize: options.batchSize ?? 500,
            checkpoint: options.store.checkpoint(checkpointName(source.region)),
            // '/' is in no region id, so this name is never another link's checkpoint.
            unresolvedCheckpoint: options.store.checkpoint(`${checkpointName(source.region)}/unresolved`),
            onBatch: (batch) => this.onBatch(link, batch),
          },
        ),
      };
      return link;
    });
  }

  /**
   * Checks the deployment (every source declares the same regions, or none yet), declares the
   * regions in this region's store, and starts every link. Throws RegionConfigError when a source
   * belongs to another deployment; an unreachable source is not an error here (its link retries).
   */
  async start(): Promise<void> {
    if (this.started) throw new InvalidOptionError('start', 'this RegionReplication was started already');
    this.started = true;
    const regions = [this.region, ...this.options.sources.map((s) => s.region)];
    await checkDeployment(this.options.store, this.region, regions);
    // Sources that answer now are checked now, so a source of another deployment is refused at
    // start with nothing copied; one that does not answer is checked by its link before its first copy.
    const answers = await Promise.allSettled(this.links.map((link) => checkDeployment(link.source.store, link.source.region, regions)));
    for (const [i, answer] of answers.entries()) {
      if (answer.status === 'rejected' && answer.reason instanceof RegionConfigError) throw answer.reason;
      if (answer.status === 'fulfilled') this.links[i]!.checked = true;
    }
    await this.options.store.declareRegions(regions);
    for (const link of this.links) link.running = this.loop(link);
  }

  /** Every link's state. */
  status(): LinkStatus[] {
    return this.links.map((link) => link.status);
  }

  /** Stops every link after its current batch (a batch is never left half-done by a stop). */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const link of this.links) {
      link.replicator.pause();
      link.wake?.();
    }
    await Promise.all(this.links.map((link) => link.running));
  }

  private async loop(link: Link): Promise<void> {
    const source = link.source.region;
    while (!this.stopping) {
      try {
        if (!link.checked) {
          await checkDeployment(link.source.store, link.source.region, [this.region, ...this.options.sources.map((s) => s.region)]);
          link.checked = true;
        }
        const report = await link.replicator.sync();
        if (this.stopping) break;
        const cursor = await publishProgress(this.region, this.options.store, link.source, link.replicator.cursor);
        link.gossipedAt = Date.now();
        const lagPacks = await link.source.store.backlog(cursor);
        const wasUp = link.status.state === 'up';
        link.status = {
          ...link.status,
          state: 'up',
          cursor,
          lagPacks,
          lagMs: lagPacks === 0 ? 0 : link.status.lagMs,
          resolved: link.status.resolved + report.resolved.length,
          failures: 0,
        };
        delete (link.status as { error?: string }).error;
        if (!wasUp) this.observer.linkUp?.({ source });
        this.observer.synced?.({ source, report, lagPacks });
        if (report.copied === 0 && report.failed.length === 0) await this.sleep(link, this.idleMs);
        else if (report.failed.length > 0) await this.sleep(link, this.idleMs);
      } catch (error) {
        if (this.stopping) break;
        if (isFatalStoreError(error) && (await this.ownStoreFails())) {
          this.stopping = true;
          for (const other of this.links) {
            other.replicator.pause();
            other.wake?.();
          }
          // Every other link finishes its batch first: `fatal` promises that every link has stopped.
          await Promise.all(this.links.filter((other) => other !== link).map((other) => other.running));
          for (const other of this.links) {
            if (other.status.state === 'broken') continue;
            other.status = { ...other.status, state: 'broken', error: other === link ? describe(error) : `this region's store cannot be used: ${describe(error)}` };
            this.observer.linkBroken({ source: other.source.region, error });
          }
          this.reportFatal(error);
          return;
        }
        if (error instanceof InvalidCursorError || error instanceof RegionConfigError || isFatalStoreError(error)) {
          link.status = { ...link.status, state: 'broken', error: describe(error) };
          this.observer.linkBroken?.({ source, error });
          return;
        }
        const failures = link.status.failures + 1;
        const retryInMs = this.delay(failures);
        link.status = { ...link.status, state: 'down', failures, error: describe(error) };
        this.observer.linkDown?.({ source, error, failures, retryInMs });
        await this.sleep(link, retryInMs);
      }
    }
  }

  private async onBatch(link: Link, batch: BatchReport): Promise<void> {
    let oldest = Infinity;
    for (const pack of batch.packs) oldest = Math.min(oldest, pack.ts);
    const lagMs = oldest === Infinity ? 0 : Math.max(0, Date.now() - oldest);
    const lagPacks = await link.source.store.backlog(batch.cursor);
    // During a long catch-up the source's table is merged in too, once a second, so this region
    // keeps learning the others' progress before the sync drains (stability's liveness).
    if (Date.now() - link.gossipedAt >= gossipEveryMs) {
      await publishProgress(this.region, this.options.store, link.source, batch.cursor);
      link.gossipedAt = Date.now();
    } else {
      await this.options.store.mergeFrontier({ [this.region]: { [link.source.region]: { cursor: batch.cursor, at: Date.now() } } });
    }
    link.status = { ...link.status, cursor: batch.cursor, lagPacks, lagMs, copied: link.status.copied + batch.copied };
    this.observer.batch?.({ source: link.source.region, batch, lagPacks, lagMs });
  }

  /** Whether this region's own store fails with a fatal store error (it, not the source, lost its data). */
  private async ownStoreFails(): Promise<boolean> {
    try {
      await this.options.store.regions();
      return false;
    } catch (error) {
      return isFatalStoreError(error);
    }
  }

  private delay(failures: number): number {
    const base = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** Math.min(failures - 1, 30));
    return Math.round(base * (1 - this.backoff.jitter * this.random()));
  }

  private sleep(link: Link, ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        link.wake = undefined;
        resolve();
      }
      link.wake = done;
    });
  }
}

/**
 * What a link does after each sync (and what a simulator or your own loop around a `Replicator`
 * does to take part in stability): publishes `here`'s position in `source`'s log, with the time (a
 * heartbeat), in `here`'s frontier table, and merges the source's table into it (gossip: what the
 * source knows of every region's progress becomes known here; `here`'s own row is written only by
 * `here`'s links, a stale copy of it in a source's table is never taken back). A link that has
 * copied nothing yet (an empty source) has read everything there is: its position is the start of
 * the source's log. Returns the position published.
 */
export async function publishProgress(here: string, store: RegionLog, source: RegionSource, cursor: string | undefined): Promise<string> {
  const position = cursor ?? (await source.store.changesSince(undefined, 0)).cursor;
  const theirs: FrontierTable = await source.store.frontier();
  const { [here]: _ownRow, ...others } = theirs;
  await store.mergeFrontier({ ...others, [here]: { [source.region]: { cursor: position, at: Date.now() } } });
  return position;
}

const observerCallbacks = ['linkUp', 'linkDown', 'linkBroken', 'batch', 'synced'] as const satisfies readonly (keyof RegionReplicationObserver)[];

/** Every callback of `observer` (or a no-op), each calling it inside a try: an exception becomes a process warning. */
function guardedRegionObserver(observer: RegionReplicationObserver | undefined): Required<RegionReplicationObserver> {
  const guarded: Record<string, (o: unknown) => void> = {};
  for (const name of observerCallbacks) {
    guarded[name] = (o: unknown) => {
      try {
        (observer?.[name] as ((arg: unknown) => void) | undefined)?.call(observer, o);
      } catch (error) {
        process.emitWarning(`a region replication observer threw in ${name}: ${(error as Error)?.message ?? String(error)}`);
      }
    };
  }
  return guarded as unknown as Required<RegionReplicationObserver>;
}

/**
 * Store error codes after which retrying cannot help: the Redis lost the store's data (a source in
 * that state breaks its link; this region's own store stops the replicator), or refuses the
 * credentials. Read by code, so a store package needs no import from here.
 */
export const fatalStoreCodes: readonly string[] = ['STORE_DATA_LOST', 'STORE_AUTHENTICATION_FAILED'];

function isFatalStoreError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && fatalStoreCodes.includes(code);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function validate(options: RegionReplicationOptions): void {
  const ids = [options.region, ...options.sources.map((s) => s.region)];
  for (const id of ids) {
    if (typeof id !== 'string' || !VC.isValidReplicaId(id)) {
      throw new RegionConfigError(`region id '${String(id)}' is not valid: it is the replica id its workers write as, 1-64 characters of [A-Za-z0-9_.-]`);
    }
  }
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw new RegionConfigError(`region id '${id}' is used twice${id === options.region ? ' (a source has this region\'s own id)' : ''}: every region needs its own id`);
    seen.add(id);
  }
  if (options.sources.length === 0) throw new RegionConfigError('no source regions: a region replicates from at least one other');
  if (options.sources.some((s) => s.store === options.store)) throw new RegionConfigError('a source region has this region\'s own store');
  const { batchSize, idleMs, backoff } = options;
  if (batchSize !== undefined && (!Number.isSafeInteger(batchSize) || batchSize < 1)) throw new InvalidOptionError('batchSize', `must be a positive integer, got ${String(batchSize)}`);
  if (idleMs !== undefined && !(idleMs >= 0 && Number.isFinite(idleMs))) throw new InvalidOptionError('idleMs', `must be a finite number ≥ 0, got ${String(idleMs)}`);
  if (backoff?.jitter !== undefined && !(backoff.jitter >= 0 && backoff.jitter <= 1)) throw new InvalidOptionError('backoff.jitter', `must be from 0 to 1, got ${String(backoff.jitter)}`);
  for (const key of ['initialMs', 'maxMs'] as const) {
    const value = backoff?.[key];
    if (value !== undefined && !(value > 0 && Number.isFinite(value))) throw new InvalidOptionError(`backoff.${key}`, `must be a finite number > 0, got ${String(value)}`);
  }
}

/**
 * Refuses to replicate into or out of a store of another deployment: a store that declared
 * regions must have declared this same set (the order aside).
 */
async function checkDeployment(store: RegionLog, region: string, regions: readonly string[]): Promise<void> {
  const held = await store.regions();
  if (held.length > 0 && !sameSet(held, regions)) {
    throw new RegionConfigError(
      `region ${region}'s store declares the regions ${held.join(', ')}, but this replicator was given ${regions.join(', ')}: ` +
        'is it the right store? (regions joining and leaving are not supported yet: start every replicator with the same regions)',
    );
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
