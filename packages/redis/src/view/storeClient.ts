import type { Cluster, Redis } from 'ioredis';
import type { RedisStore } from '../redisStore/index.js';

/**
 * The ioredis client of a RedisStore, which a view shares (one connection per process, and the
 * view's keys live in the store's Redis). RedisStore keeps its context private and has no
 * accessor for it yet, so this reads the field by name; `redisView.int.spec.ts` fails if it moves.
 */
export function clientOf(store: RedisStore): Redis | Cluster {
  const client = (store as unknown as { ctx?: { client?: Redis | Cluster } }).ctx?.client;
  if (!client) throw new Error('RedisStore no longer keeps its client at ctx.client: update view/storeClient.ts');
  return client;
}
