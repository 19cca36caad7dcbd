import { connectRedisStore } from '@troupe/redis';
import { type StoreFactory, prefixedStores } from '../stores.js';

/**
 * Redis stores for the simulator's own tests (`troupe sim --store redis` wires the same in
 * @troupe/cli, which the simulator does not depend on): `prefixedStores` on `connectRedisStore`.
 */
export function redisStores(url: string, shards = 4): StoreFactory {
  return prefixedStores((prefix) => connectRedisStore({ url, prefix, shards }), { kind: 'redis', url, shards });
}
