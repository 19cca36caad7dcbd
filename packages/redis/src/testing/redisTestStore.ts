import { uniqueSuffix } from '@troupe/runtime/testkit';
import { Redis } from 'ioredis';
import { connectRedisStore, type ConnectOptions } from '../connect.js';
import { deleteKeysMatching } from '../keys.js';
import type { ActorRef } from '@troupe/runtime';
import type { RedisStore } from '../redisStore.js';

/** The Redis every test may use: the local service, database 9, keys under a fresh prefix per store. */
export const testRedisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/9';

/** A store under a prefix nobody else uses; `dropTestStore` deletes its keys. */
export function createTestStore(options: ConnectOptions = {}): Promise<RedisStore> {
  return connectRedisStore({ url: testRedisUrl, prefix: `test-${uniqueSuffix()}`, ...options });
}

/** Deletes every key of a test store's prefix, then closes it. */
export async function dropTestStore(store: RedisStore, url = testRedisUrl): Promise<void> {
  await store.close();
  const redis = new Redis(url, { lazyConnect: true });
  await redis.connect();
  try {
    await deleteKeysMatching(redis, `${store.prefix}:*`);
  } finally {
    redis.disconnect();
  }
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
