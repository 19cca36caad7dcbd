import { RedisStore, failFastRedisOptions } from '@troupe/redis';
import { StoreUnavailableError, redactUrl } from '@troupe/runtime/store';
import { type StoreFactory, ioredisConnection, prefixedStores } from '@troupe/sim';
import { Redis } from 'ioredis';

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
 * Each store has its own ioredis client (the store's fail-fast options), whose connection the
 * nemesis cuts in the middle of store calls (`connectionDrop` faults, `ioredisConnection`).
 */
export function redisSimStores(url: string = simRedisDefaults.url, shards: number = simRedisDefaults.shards): StoreFactory {
  return prefixedStores(
    async (prefix) => {
      const client = new Redis(url, failFastRedisOptions);
      // Before connecting: its 'error' listener keeps ioredis from logging connection errors as unhandled.
      const connection = ioredisConnection(client);
      try {
        await client.connect();
      } catch (error) {
        client.disconnect();
        // As connectRedisStore reports it: the store's error, naming the server without its password.
        throw new StoreUnavailableError(redactUrl(url), redactUrl((error as Error).message), error);
      }
      const store = new RedisStore({ client, ownsClient: true, prefix, shards });
      await store.verifyLayout().catch(async (error: unknown) => {
        await store.close();
        throw error;
      });
      return { store, connection };
    },
    { kind: 'redis', url, shards },
  );
}
