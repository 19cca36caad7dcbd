import { InvalidCursorError, InvalidOptionError, NotReplicatedError, RegionConfigError } from '../errors/index.js';
import { type ActorRef, actorKey } from '../model/index.js';
import type { EventStore } from '../store/index.js';
import type { FrontierTable, RegionLog } from '../store/regionLog.js';
import { VC, type VectorClock } from '../vectorClock/index.js';

/** Which regions hold a version of an actor, as this region knows it. */
export interface ReplicationState {
  /** Every region of the deployment (declared by this region's replicator), this one included. */
  readonly regions: readonly string[];
  /** Regions known to hold the version: this one, and those whose replicator has read this region's log past it. */
  readonly holding: readonly string[];
  /** The others: they may hold it already (through a third region) but this region cannot tell yet. */
  readonly missing: readonly string[];
}

export interface AwaitReplicatedOptions {
  /** How many regions must hold the version, this one included: a number, or 'all' (default). */
  readonly regions?: 'all' | number;
  /** Give up after this long with NotReplicatedError. Default 30,000. */
  readonly timeoutMs?: number;
  /** How often to read the frontier table again while waiting. Default 50. */
  readonly pollMs?: number;
  /** Stops the wait: it rejects with the signal's reason (e.g. a worker stopping answers at once instead). */
  readonly signal?: AbortSignal;
}

/**
 * Whether every region holds a version (causal stability), answered from this region's store
 * alone: region R holds the version when R's replicator has read this region's log past the
 * point where this region held it (`RegionLog.logMark`), as this region's frontier table says.
 * The table only ever understates progress, so `holding` never names a region that lacks the
 * version (I8); a region that got it through a third one is counted once it has also read this
 * region's log that far, which every replicator of a full mesh does.
 */
export async function replicationState(store: EventStore & RegionLog, here: string, actor: ActorRef, version: VectorClock, mark?: string): Promise<ReplicationState> {
  const regions = await declaredRegions(store, here);
  const [pack] = await store.getPacks(actor, [VC.encode(version)]);
  if (!pack) throw new InvalidOptionError('version', `${actorKey(actor)}@${VC.encode(version)} is not held by region ${here}'s store`);
  return holdersOf(regions, here, await plausibleFrontier(store, here), store, mark ?? (await store.logMark(actor)));
}

/**
 * Waits until `options.regions` regions (default all) hold the actor's version, and returns who
 * holds it; throws NotReplicatedError naming the regions still missing after `timeoutMs`.
 */
export async function awaitReplicated(
  store: EventStore & RegionLog,
  here: string,
  actor: ActorRef,
  version: VectorClock,
  options: AwaitReplicatedOptions = {},
): Promise<ReplicationState> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const pollMs = options.pollMs ?? 50;
  if (!(timeoutMs >= 0) || !Number.isFinite(timeoutMs)) throw new InvalidOptionError('timeoutMs', `must be a finite number ≥ 0, got ${String(timeoutMs)}`);
  if (!(pollMs > 0) || !Number.isFinite(pollMs)) throw new InvalidOptionError('pollMs', `must be a finite number > 0, got ${String(pollMs)}`);
  const regions = await declaredRegions(store, here);
  const wanted = options.regions === undefined || options.regions === 'all' ? regions.length : options.regions;
  if (!Number.isSafeInteger(wanted) || wanted < 1 || wanted > regions.length) {
    throw new InvalidOptionError('regions', `must be 'all' or a whole number from 1 to ${regions.length} (the regions declared: ${regions.join(', ')}), got ${String(options.regions)}`);
  }
  const [pack] = await store.getPacks(actor, [VC.encode(version)]);
  if (!pack) throw new InvalidOptionError('version', `${actorKey(actor)}@${VC.encode(version)} is not held by region ${here}'s store`);
  const mark = await store.logMark(actor);
  const deadline = Date.now() + timeoutMs;
  const { signal } = options;
  for (;;) {
    signal?.throwIfAborted();
    const state = holdersOf(regions, here, await plausibleFrontier(store, here), store, mark);
    if (state.holding.length >= wanted) return state;
    const left = deadline - Date.now();
    if (left <= 0) throw new NotReplicatedError(actorKey(actor), VC.encode(version), wanted, state.holding, state.missing, timeoutMs);
    await pause(Math.min(pollMs, left), signal);
  }
}

/** The regions holding everything before `mark` in `here`'s log, from a frontier table. */
export function holdersOf(regions: readonly string[], here: string, table: FrontierTable, log: Pick<RegionLog, 'markReached'>, mark: string): ReplicationState {
  const holding: string[] = [];
  const missing: string[] = [];
  for (const region of regions) {
    const entry = table[region]?.[here];
    if (region === here || (entry !== undefined && log.markReached(entry.cursor, mark))) holding.push(region);
    else missing.push(region);
  }
  return { regions, holding, missing };
}

/**
 * The frontier table without the entries about `here`'s log that this store cannot have handed
 * out (a cursor ahead of its log, or of another identity: `backlog` refuses them), as after this
 * region's Redis was restored from an older backup while the other regions' rows still say how far
 * they read the lost log. Such a row would otherwise count a region as holding what it lacks.
 */
async function plausibleFrontier(store: EventStore & RegionLog, here: string): Promise<FrontierTable> {
  const table = await store.frontier();
  const result: Record<string, Record<string, FrontierTable[string][string]>> = {};
  for (const [reader, row] of Object.entries(table)) {
    const kept: Record<string, FrontierTable[string][string]> = {};
    for (const [source, entry] of Object.entries(row)) {
      if (source === here) {
        try {
          await store.backlog(entry.cursor);
        } catch (error) {
          if (error instanceof InvalidCursorError) continue;
          throw error;
        }
      }
      kept[source] = entry;
    }
    result[reader] = kept;
  }
  return result;
}

async function declaredRegions(store: RegionLog, here: string): Promise<string[]> {
  const regions = await store.regions();
  if (regions.length === 0) {
    throw new RegionConfigError(`no regions are declared in region ${here}'s store: start its replicator (troupe replicate), which declares them`);
  }
  if (!regions.includes(here)) {
    throw new RegionConfigError(`region ${here} is not among the regions declared in its store (${regions.join(', ')}): is this the right store, or the right replica id?`);
  }
  return regions;
}

/** Waits `ms`, or rejects with the signal's reason as soon as it is aborted. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    const abort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    function done(): void {
      signal?.removeEventListener('abort', abort);
      resolve();
    }
    signal?.addEventListener('abort', abort, { once: true });
  });
}
