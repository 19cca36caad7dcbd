/** Helpers of the region replication specs (not built, not published). */
import { afterEach } from 'vitest';
import { createRuntime, type Runtime } from '../hosting/index.js';
import { type ActorRef, actorKey } from '../model/index.js';
import { RegionReplication, type RegionReplicationObserver, type RegionReplicationOptions, holdersOf, replicationState } from '../replication/index.js';
import { type EventStore, MemoryStore } from '../store/index.js';
import type { RegionLog } from '../store/regionLog.js';
import { Ledger } from '../testkit/ledger.js';
import { VC } from '../vectorClock/index.js';

export type RegionStore = EventStore & RegionLog;

/** What a cut link throws: the source's store cannot be reached from the reader. */
export class LinkCutError extends Error {
  constructor(
    readonly reader: string,
    readonly source: string,
  ) {
    super(`network cut: ${reader} cannot reach ${source}'s store`);
  }
}

/**
 * `store` as seen through `isCut`: while it answers true every call fails as an unreachable
 * server would (async methods reject, the two synchronous ones throw); otherwise calls go through.
 */
export function behind<S extends object>(store: S, isCut: () => boolean, error: () => Error): S {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const synchronous = property === 'checkpoint' || property === 'markReached';
      return (...args: unknown[]) => {
        if (isCut()) {
          if (synchronous) throw error();
          return Promise.reject(error());
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/**
 * Who can reach whom: a link reader ← source is the reader's replicator reading the source's
 * store. Each reader sees each source through its own view (`view`), which fails while that link
 * is cut; cuts are one way unless both are cut.
 */
export class TestNetwork {
  private readonly cuts = new Set<string>();

  view(reader: string, source: string, store: RegionStore): RegionStore {
    return behind(store, () => this.cuts.has(`${reader}<-${source}`), () => new LinkCutError(reader, source));
  }

  /** The reader can no longer read the source (one way). */
  cut(reader: string, source: string): void {
    this.cuts.add(`${reader}<-${source}`);
  }

  heal(reader: string, source: string): void {
    this.cuts.delete(`${reader}<-${source}`);
  }

  /** Cuts every link to and from `region` (a region cut off from the others). */
  isolate(region: string, others: readonly string[]): void {
    for (const other of others) {
      if (other === region) continue;
      this.cut(region, other);
      this.cut(other, region);
    }
  }

  healAll(): void {
    this.cuts.clear();
  }

  isCut(reader: string, source: string): boolean {
    return this.cuts.has(`${reader}<-${source}`);
  }
}

/** One observer call of a RegionReplication, recorded with the region that made it. */
export type LinkEvent =
  | { readonly kind: 'linkUp'; readonly region: string; readonly source: string }
  | { readonly kind: 'linkDown'; readonly region: string; readonly source: string; readonly error: unknown; readonly failures: number; readonly retryInMs: number }
  | { readonly kind: 'linkBroken'; readonly region: string; readonly source: string; readonly error: unknown }
  | { readonly kind: 'batch'; readonly region: string; readonly source: string; readonly copied: number; readonly skipped: number; readonly cursor: string }
  | { readonly kind: 'synced'; readonly region: string; readonly source: string; readonly copied: number; readonly skipped: number; readonly failed: number };

/** An observer that appends every call to `events`. */
export function recordingObserver(region: string, events: LinkEvent[]): RegionReplicationObserver {
  return {
    linkUp: ({ source }) => void events.push({ kind: 'linkUp', region, source }),
    linkDown: ({ source, error, failures, retryInMs }) => void events.push({ kind: 'linkDown', region, source, error, failures, retryInMs }),
    linkBroken: ({ source, error }) => void events.push({ kind: 'linkBroken', region, source, error }),
    batch: ({ source, batch }) => void events.push({ kind: 'batch', region, source, copied: batch.copied, skipped: batch.skipped, cursor: batch.cursor }),
    synced: ({ source, report }) =>
      void events.push({ kind: 'synced', region, source, copied: report.copied, skipped: report.skipped, failed: report.failed.length }),
  };
}

/** A region of a test deployment: its store, the runtime writing to it, and (once made) its replication. */
export interface TestRegion {
  readonly id: string;
  readonly store: MemoryStore;
  readonly runtime: Runtime;
  replication?: RegionReplication;
}

/** Regions with Ledger runtimes on their own MemoryStores (machine ids 1, 2, 3...). */
export function makeRegions(ids: readonly string[]): TestRegion[] {
  return ids.map((id, i) => {
    const store = new MemoryStore();
    return { id, store, runtime: createRuntime({ actors: [Ledger], replicaId: id, machineId: i + 1, store }) };
  });
}

/** A RegionReplication of `region` copying from every other region through `net`. */
export function replicationOf(
  region: TestRegion,
  regions: readonly TestRegion[],
  net: TestNetwork,
  options: Partial<Omit<RegionReplicationOptions, 'region' | 'store' | 'sources' | 'resolve'>> & { readonly store?: RegionStore } = {},
): RegionReplication {
  return new RegionReplication({
    region: region.id,
    resolve: (actor) => region.runtime.resolve(actor),
    sources: regions.filter((r) => r.id !== region.id).map((r) => ({ region: r.id, store: net.view(region.id, r.id, r.store) })),
    ...options,
    store: options.store ?? region.store,
  });
}

/** The version key of each region's single head of `actor`, or undefined for a region with several or none. */
export async function headKeys(regions: readonly TestRegion[], actor: ActorRef): Promise<(string | undefined)[]> {
  return Promise.all(
    regions.map(async (r) => {
      const heads = await r.store.heads(actor);
      return heads.length === 1 ? VC.encode(heads[0]!.version) : undefined;
    }),
  );
}

/** Whether every region has one head of `actor`, the same version everywhere. */
export async function convergedOn(regions: readonly TestRegion[], actor: ActorRef): Promise<boolean> {
  const keys = await headKeys(regions, actor);
  return keys[0] !== undefined && keys.every((k) => k === keys[0]);
}

/** Every pack of the store's log in log order (the whole log: test stores are small). */
export async function logOf(store: EventStore): Promise<Awaited<ReturnType<EventStore['changesSince']>>['packs']> {
  return (await store.changesSince(undefined, 1_000_000)).packs;
}

/** How `promise` stands after waiting `ms` (real time): 'pending' when it has not settled by then. */
export async function stateAfter(promise: Promise<unknown>, ms: number): Promise<'fulfilled' | 'rejected' | 'pending'> {
  let state: 'fulfilled' | 'rejected' | 'pending' = 'pending';
  promise.then(
    () => (state = 'fulfilled'),
    () => (state = 'rejected'),
  );
  await new Promise((resolve) => setTimeout(resolve, ms));
  return state;
}

/** What `holdingCheck` found: claims of holding a pack the region lacks (I8), and how many claims it checked. */
export interface HoldingCheck {
  readonly violations: readonly string[];
  /** (region asked, pack, region) triples reported holding (each one checked against that region's store). */
  readonly claims: number;
  /** Triples where the region held the pack but was not reported holding it (the table understates). */
  readonly understated: number;
  /** Packs every region was reported holding (by `replicationState`, what a user's call answers now). */
  readonly stable: number;
  /** Packs every region was reported holding at the pack's own mark (by `holdersOf`). */
  readonly stableAtMark: number;
}

/**
 * Checks I8 everywhere: for every pack of every region's log, the regions that region reports
 * holding it must hold it. Asked twice per pack: with `replicationState` (the mark is the end of
 * the log now, as a user's call gets) and with `holdersOf` at the tightest mark, just past the
 * pack's own log entry (a MemoryStore cursor is a log position: entry i is copied once a cursor
 * reaches i + 1), so an off-by-one in the comparison shows too.
 */
export async function holdingCheck(regions: readonly TestRegion[]): Promise<HoldingCheck> {
  const violations: string[] = [];
  let claims = 0;
  let understated = 0;
  let stable = 0;
  let stableAtMark = 0;
  for (const here of regions) {
    const declared = await here.store.regions();
    if (declared.length === 0) continue;
    const table = await here.store.frontier();
    for (const [i, pack] of (await logOf(here.store)).entries()) {
      const key = VC.encode(pack.version);
      const tight = holdersOf(declared, here.id, table, here.store, String(i + 1));
      const loose = await replicationState(here.store, here.id, pack.actor, pack.version);
      if (loose.holding.length === declared.length) stable++;
      if (tight.holding.length === declared.length) stableAtMark++;
      for (const region of regions) {
        const [held] = await region.store.getPacks(pack.actor, [key]);
        const reported = tight.holding.includes(region.id) || loose.holding.includes(region.id);
        if (reported) claims++;
        if (reported && !held) violations.push(`${here.id} reports ${region.id} holding ${actorKey(pack.actor)}@${key}, which ${region.id} lacks`);
        if (held && !reported) understated++;
      }
    }
  }
  return { violations, claims, understated, stable, stableAtMark };
}

/** The regions a spec starts: stopped (replication, then runtime) after each test, and the list emptied. */
export function regionsStoppedAfterEach(): TestRegion[] {
  const running: TestRegion[] = [];
  afterEach(async () => {
    await Promise.all(running.map((r) => r.replication?.stop()));
    await Promise.all(running.map((r) => r.runtime.stop()));
    running.length = 0;
  });
  return running;
}
