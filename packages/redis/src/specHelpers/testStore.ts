/** Helpers of this package's own tests (not published, not exported). */
import type { ActorRef } from '@troupe/runtime/store';
import { uniqueSuffix } from '@troupe/runtime/testkit';
import type { Redis } from 'ioredis';
import { connectRedisStore, type ConnectOptions } from '../connect.js';
import type { RedisStore } from '../redisStore/index.js';

/** The Redis every test may use: the local service, database 9, keys under a fresh prefix per store. */
export const testRedisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/9';

/** A store under a prefix nobody else uses; `store.destroy()` deletes its keys and closes it. */
export function createTestStore(options: ConnectOptions = {}): Promise<RedisStore> {
  return connectRedisStore({ url: testRedisUrl, prefix: `test-${uniqueSuffix()}`, ...options });
}

/** A second store object over the data of `store` (its prefix and shard count, a connection of its own): what a process that connects again gets. */
export function reopenTestStore(store: RedisStore, options: ConnectOptions = {}): Promise<RedisStore> {
  return connectRedisStore({ url: testRedisUrl, prefix: store.prefix, shards: store.shards, ...options });
}

/**
 * Rewrites what `store` holds for `actor` as a store without the linear-run index wrote it: no
 * `:l` list, every parent link without its position in the index (`c` + fingerprint + first parent).
 */
export async function toLayoutWithoutIndex(raw: Redis, store: RedisStore, actor: ActorRef): Promise<void> {
  const keys = store.keysOf(actor);
  const links = await raw.hgetall(keys.parents);
  for (const [version, info] of Object.entries(links)) {
    if (/@\d+$/.test(info)) await raw.hset(keys.parents, version, info.replace(/@\d+$/, ''));
  }
  await raw.del(keys.runs);
}
