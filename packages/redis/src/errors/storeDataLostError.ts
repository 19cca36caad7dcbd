import { TroupeError } from '@troupe/runtime';
import type { RedisStoreErrorCode } from './redisStoreErrorCode.js';

/**
 * The Redis behind a store no longer holds the store's data: its identity keys (written once, at
 * the first connection, in every shard's hash slot) are gone or belong to another store. Redis was
 * restarted without persistence, flushed, or failed over to a node without the data. Every
 * append and merge checks the identity in its script and writes nothing when it does not match,
 * so no command decides on the emptied state; from then on every call of the store rejects with
 * this error. Not transient: retrying cannot bring the data back.
 */
export class StoreDataLostError extends TroupeError<RedisStoreErrorCode> {
  /** The store's key prefix. */
  readonly prefix: string;
  /** The server (credentials redacted). */
  readonly endpoint: string;
  constructor(prefix: string, endpoint: string, detail: string) {
    super(
      'STORE_DATA_LOST',
      `the Redis at ${endpoint} lost the data of the troupe store '${prefix}' (${detail}): it was restarted ` +
        `without persistence, flushed, or failed over to a node without the data. Nothing was written. Stop every ` +
        `process using this store, restore the data from a backup or the other region, and run Redis with ` +
        `'appendonly yes' (see "Durability" in the @troupe/redis README); to start over empty instead, delete the ` +
        `store with store.destroy() (or RedisStore.destroyPrefix({ url, prefix: '${prefix}' }) when connectRedisStore refuses ` +
        `to connect) and connect again`,
    );
    this.prefix = prefix;
    this.endpoint = endpoint;
  }
}
