import { RedisStore, failFastRedisOptions } from '@troupe/redis';
import { Redis } from 'ioredis';
import { ioredisConnection } from '../redisConnection.js';
import { type CuttableConnection, type DestroyableStore, type StoreFactory, prefixedStores } from '../stores.js';

/** Test hooks of `redisStores`. */
export interface RedisStoresHooks {
  /** Sees every connection opened (e.g. to add up its cuts and reconnections). */
  readonly onConnection?: (connection: CuttableConnection) => void;
  /** Wraps each RedisStore before the simulator gets it (e.g. a planted store bug). */
  readonly wrap?: (store: RedisStore) => DestroyableStore;
}

/**
 * Redis stores for the simulator's own tests (`troupe sim --store redis` wires the same in
 * @troupe/cli, which the simulator does not depend on): `prefixedStores` on a RedisStore per
 * replica, each on its own ioredis client with the store's fail-fast options, whose connection the
 * nemesis may cut (`ioredisConnection`).
 */
export function redisStores(url: string, shards = 4, hooks: RedisStoresHooks = {}): StoreFactory {
  return prefixedStores(
    async (prefix) => {
      const client = new Redis(url, failFastRedisOptions);
      // Before connecting: its 'error' listener keeps ioredis from logging connection errors as unhandled.
      const connection = ioredisConnection(client);
      try {
        await client.connect();
      } catch (error) {
        client.disconnect();
        throw error;
      }
      const store = new RedisStore({ client, ownsClient: true, prefix, shards });
      await store.verifyLayout().catch(async (error: unknown) => {
        await store.close();
        throw error;
      });
      hooks.onConnection?.(connection);
      return { store: hooks.wrap ? hooks.wrap(store) : store, connection };
    },
    { kind: 'redis', url, shards },
  );
}
