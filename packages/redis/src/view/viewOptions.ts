import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { InvalidOptionError } from '@troupe/runtime';

/** What a runner reports as it goes (the CLI logs it); a callback that throws becomes a process warning. */
export interface RedisViewObserver {
  /** This runner took the view's lease (`token`: its fencing token). */
  leaseAcquired?(o: { readonly view: string; readonly lease: string; readonly token: number }): void;
  /** Another runner holds the lease: this one waits (polls for it). */
  standby?(o: { readonly view: string; readonly heldBy: string; readonly expiresInMs: number }): void;
  /** This runner lost its lease (expired while paused, or taken): it wrote nothing since, and waits to take it again. */
  leaseLost?(o: { readonly view: string; readonly lease: string; readonly current: string }): void;
  /** A batch was written: packs read, actors recomputed, row keys written, the new position. */
  batch?(o: { readonly view: string; readonly packs: number; readonly actors: number; readonly keys: number; readonly position: string }): void;
  /** The view reached the end of the log (each time it does after having been behind). */
  caughtUp?(o: { readonly view: string; readonly position: string | undefined }): void;
  /** A batch failed on a transient error (Redis unreachable): retried after `retryInMs`. */
  retrying?(o: { readonly view: string; readonly error: unknown; readonly retryInMs: number }): void;
}

export interface RedisViewOptions {
  /** Packs read from the store's log per batch (one write script per batch). Default 500. */
  readonly batchSize?: number;
  /** How often a caught-up runner reads the log again, and how often `waitUntil`/`waitFor` read the view. Default 100 ms. */
  readonly pollMs?: number;
  /** How long the lease lasts without a renewal: a runner that dies is replaced after at most this. Default 10,000 ms. */
  readonly leaseTtlMs?: number;
  /** How often the holder renews its lease. Default a third of `leaseTtlMs`. */
  readonly renewEveryMs?: number;
  /** How the lease names this runner (no spaces). Default `<hostname>:<pid>:<random>`. */
  readonly holder?: string;
  /** Actor states kept in memory, so a pack that extends one is folded onto it instead of loading the actor again. Default 10,000. */
  readonly statesCachedMax?: number;
  /** Actors whose heads and states a batch reads at once. Default 32. */
  readonly readsInFlightMax?: number;
  /** First wait after a batch failed on a transient error (doubling, with the next option as its cap). Default 200 ms. */
  readonly retryInitialMs?: number;
  /** Longest wait between two tries of a failing batch. Default 5,000 ms. */
  readonly retryMaxMs?: number;
  readonly observer?: RedisViewObserver;
}

export const redisViewDefaults = {
  batchSize: 500,
  pollMs: 100,
  leaseTtlMs: 10_000,
  statesCachedMax: 10_000,
  readsInFlightMax: 32,
  retryInitialMs: 200,
  retryMaxMs: 5_000,
} as const;

export interface ResolvedViewOptions {
  readonly batchSize: number;
  readonly pollMs: number;
  readonly leaseTtlMs: number;
  readonly renewEveryMs: number;
  readonly holder: string;
  readonly statesCachedMax: number;
  readonly readsInFlightMax: number;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  readonly observer: RedisViewObserver;
}

function positiveInteger(name: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > max) {
    throw new InvalidOptionError(name, `must be an integer in 1..${max}, got ${String(value)}`);
  }
  return value as number;
}

export function resolveViewOptions(options: RedisViewOptions): ResolvedViewOptions {
  const batchSize = positiveInteger('batchSize', options.batchSize ?? redisViewDefaults.batchSize, 100_000);
  const pollMs = positiveInteger('pollMs', options.pollMs ?? redisViewDefaults.pollMs, 3_600_000);
  const leaseTtlMs = positiveInteger('leaseTtlMs', options.leaseTtlMs ?? redisViewDefaults.leaseTtlMs, 3_600_000);
  const renewEveryMs = positiveInteger('renewEveryMs', options.renewEveryMs ?? Math.max(1, Math.floor(leaseTtlMs / 3)), 3_600_000);
  if (renewEveryMs >= leaseTtlMs) throw new InvalidOptionError('renewEveryMs', `must be below leaseTtlMs (${leaseTtlMs}), got ${renewEveryMs}: the lease would expire between renewals`);
  const holder = options.holder ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  if (typeof holder !== 'string' || !/^[\x21-\x7e]{1,200}$/.test(holder)) throw new InvalidOptionError('holder', `must be 1-200 printable characters without spaces, got '${String(holder)}'`);
  const retryInitialMs = positiveInteger('retryInitialMs', options.retryInitialMs ?? redisViewDefaults.retryInitialMs, 3_600_000);
  const retryMaxMs = positiveInteger('retryMaxMs', options.retryMaxMs ?? redisViewDefaults.retryMaxMs, 3_600_000);
  if (retryMaxMs < retryInitialMs) throw new InvalidOptionError('retryMaxMs', `must be at least retryInitialMs (${retryInitialMs}), got ${retryMaxMs}`);
  return {
    batchSize,
    pollMs,
    leaseTtlMs,
    renewEveryMs,
    holder,
    statesCachedMax: positiveInteger('statesCachedMax', options.statesCachedMax ?? redisViewDefaults.statesCachedMax),
    readsInFlightMax: positiveInteger('readsInFlightMax', options.readsInFlightMax ?? redisViewDefaults.readsInFlightMax, 10_000),
    retryInitialMs,
    retryMaxMs,
    observer: options.observer ?? {},
  };
}
