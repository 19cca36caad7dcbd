import { InvalidOptionError } from '@troupe/runtime';
import type { Cluster, Redis } from 'ioredis';

export interface RedisStoreOptions {
  /**
   * An ioredis client: `Redis` or `Cluster`. Build it with `failFastRedisOptions` (or let
   * `connectRedisStore` build it) so that calls fail at once while Redis is down.
   */
  readonly client: Redis | Cluster;
  /** First part of every key. Default 'troupe'. Two stores with different prefixes share nothing. */
  readonly prefix?: string;
  /**
   * Number of log shards. Actors are spread over shards by a hash of `type:id`; all keys of one
   * actor and its shard's replication log share the hash tag `{<prefix>.<shard>}`, so every script touches
   * one Cluster slot. Fixed for the life of the data: opening a store with another value fails.
   * Default 16.
   */
  readonly shards?: number;
  /**
   * Largest encoded pack accepted, bytes: a positive integer of at most 512 MiB (`packBytesMaxLimit`,
   * Redis's default `proto-max-bulk-len`: no larger value can be sent). Default 8 MiB.
   */
  readonly packBytesMax?: number;
  /** Most packs one `loadChain` script call walks (a longer chain takes more calls). Default 2,000. */
  readonly chainPacksPerCallMax?: number;
  /** @deprecated Renamed `chainPacksPerCallMax`; this name is read for one more release. */
  readonly chainPacksPerCall?: number;
  /**
   * Replicas that must confirm each append and merge before it resolves: after the write, `WAIT
   * replicasToAcknowledge replicationTimeoutMs` on the same connection. A write fewer replicas
   * confirmed in time rejects with `ReplicationTimeoutError` (a `StoreUnavailableError`: outcome
   * unknown, retry with the same command id). Default 0: no WAIT (Redis replication is
   * asynchronous; a failover can lose the last acknowledged writes, see README "Durability").
   */
  readonly replicasToAcknowledge?: number;
  /** How long a write waits for `replicasToAcknowledge` replicas, ms. Default 1,000. */
  readonly replicationTimeoutMs?: number;
  /** Close the client on `close()`. Default false (true from `connectRedisStore`). */
  readonly ownsClient?: boolean;
  /** Names the server in errors. Default: taken from the client's options. */
  readonly endpoint?: string;
}

/** The default of every `RedisStoreOptions` field that has one. */
export const redisStoreDefaults = {
  prefix: 'troupe',
  shards: 16,
  packBytesMax: 8 * 1024 * 1024,
  chainPacksPerCallMax: 2_000,
  /** @deprecated Renamed `chainPacksPerCallMax`; kept for one more release. */
  chainPacksPerCall: 2_000,
  replicasToAcknowledge: 0,
  replicationTimeoutMs: 1_000,
  ownsClient: false,
} as const;

/** Highest `packBytesMax`: 512 MiB, Redis's default `proto-max-bulk-len` (the largest string a client may send). */
export const packBytesMaxLimit = 512 * 1024 * 1024;

/** Highest `shards`: one shard is one Cluster slot, and a `changesSince` call sends one LLEN per shard. */
export const shardsMax = 4096;

/** The options with defaults applied, checked. */
export interface ResolvedOptions {
  readonly prefix: string;
  readonly shards: number;
  readonly packBytesMax: number;
  readonly chainPacksPerCallMax: number;
  readonly replicasToAcknowledge: number;
  readonly replicationTimeoutMs: number;
  readonly ownsClient: boolean;
}

export function resolveOptions(options: RedisStoreOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    prefix: options.prefix ?? redisStoreDefaults.prefix,
    shards: options.shards ?? redisStoreDefaults.shards,
    packBytesMax: options.packBytesMax ?? redisStoreDefaults.packBytesMax,
    chainPacksPerCallMax: options.chainPacksPerCallMax ?? options.chainPacksPerCall ?? redisStoreDefaults.chainPacksPerCallMax,
    replicasToAcknowledge: options.replicasToAcknowledge ?? redisStoreDefaults.replicasToAcknowledge,
    replicationTimeoutMs: options.replicationTimeoutMs ?? redisStoreDefaults.replicationTimeoutMs,
    ownsClient: options.ownsClient ?? redisStoreDefaults.ownsClient,
  };
  if (!Number.isInteger(resolved.shards) || resolved.shards < 1 || resolved.shards > shardsMax) {
    throw new InvalidOptionError('shards', `must be an integer in 1..${shardsMax}, got ${resolved.shards}`);
  }
  // NaN would turn the check off (every comparison with it is false).
  if (!Number.isInteger(resolved.packBytesMax) || resolved.packBytesMax < 1 || resolved.packBytesMax > packBytesMaxLimit) {
    throw new InvalidOptionError('packBytesMax', `must be a positive integer of at most ${packBytesMaxLimit} (512 MiB, Redis's default proto-max-bulk-len), got ${resolved.packBytesMax}`);
  }
  if (!Number.isInteger(resolved.chainPacksPerCallMax) || resolved.chainPacksPerCallMax < 1) {
    throw new InvalidOptionError('chainPacksPerCallMax', `must be a positive integer, got ${resolved.chainPacksPerCallMax}`);
  }
  if (!Number.isInteger(resolved.replicasToAcknowledge) || resolved.replicasToAcknowledge < 0) {
    throw new InvalidOptionError('replicasToAcknowledge', `must be a non-negative integer, got ${resolved.replicasToAcknowledge}`);
  }
  // WAIT's timeout 0 means "forever": a write would hang while the replicas are gone.
  if (!Number.isInteger(resolved.replicationTimeoutMs) || resolved.replicationTimeoutMs < 1) {
    throw new InvalidOptionError('replicationTimeoutMs', `must be a positive integer (ms), got ${resolved.replicationTimeoutMs}`);
  }
  // Key names are built from the prefix without escaping, and the SCAN pattern of `destroy()`
  // must match this store's keys only: no glob characters, no ':' or braces.
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(resolved.prefix)) {
    throw new InvalidOptionError('prefix', `must be 1-64 characters of [A-Za-z0-9_.-], got '${resolved.prefix}'`);
  }
  return resolved;
}
