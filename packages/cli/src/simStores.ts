import { connectRedisStore } from '@troupe/redis';
import { type StoreFactory, prefixedStores } from '@troupe/sim';

/** `troupe sim --store redis` defaults. */
export const simRedisDefaults = {
  /** Database 9, away from the default database an app's worker uses. */
  url: 'redis://127.0.0.1:6379/9',
  /** Log shards of each replica's RedisStore. */
  shards: 4,
} as const;

/**
 * `troupe sim --store redis`: each replica gets its own RedisStore under a fresh prefix
 * (`prefixedStores`), deleted with `RedisStore.destroy()` at the end of the run, also when it
 * throws. A hard kill (SIGKILL) leaves the keys: delete `sim-*` from the database by hand.
 */
export function redisSimStores(url: string = simRedisDefaults.url, shards: number = simRedisDefaults.shards): StoreFactory {
  return prefixedStores((prefix) => connectRedisStore({ url, prefix, shards }), { kind: 'redis', url, shards });
}
