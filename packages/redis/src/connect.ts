import { StoreUnavailableError } from '@troupe/runtime/store';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { RedisStore, type RedisStoreOptions } from './redisStore/index.js';

/**
 * Client options that make a store fail fast while Redis is unreachable (no offline queue, no
 * silent retries of a command), time out commands that hang, and reconnect in the background.
 */
export const failFastRedisOptions: RedisOptions = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: 5_000,
  connectTimeout: 2_000,
  retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000),
};

export interface ConnectOptions extends Omit<RedisStoreOptions, 'client' | 'ownsClient' | 'endpoint'> {
  /** `redis://host:port/db`. Default `redis://127.0.0.1:6379`. Ignored when `cluster` is given. */
  readonly url?: string;
  /** Startup nodes of a Redis Cluster, as `host:port`. */
  readonly cluster?: readonly string[];
  /** Extra ioredis options, merged over `failFastRedisOptions`. */
  readonly redisOptions?: RedisOptions;
}

/** Connects, checks the key layout, and returns a store that closes its client on `close()`. */
export async function connectRedisStore(options: ConnectOptions = {}): Promise<RedisStore> {
  const { url = 'redis://127.0.0.1:6379', cluster, redisOptions, ...storeOptions } = options;
  const endpoint = cluster ? `redis cluster ${cluster.join(',')}` : url;
  const client = cluster
    ? new Cluster(
        cluster.map((node) => {
          const [host, port] = node.split(':');
          return { host: host ?? '127.0.0.1', port: Number(port ?? 6379) };
        }),
        { lazyConnect: true, enableOfflineQueue: false, redisOptions: { ...failFastRedisOptions, ...redisOptions } } satisfies ClusterOptions,
      )
    : new Redis(url, { ...failFastRedisOptions, ...redisOptions });
  client.on('error', () => {
    // Connection errors surface as StoreUnavailableError on the commands that meet them; the
    // client keeps reconnecting in the background.
  });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new StoreUnavailableError(endpoint, (error as Error).message, error);
  }
  let store: RedisStore;
  try {
    store = new RedisStore({ ...storeOptions, client, ownsClient: true, endpoint });
  } catch (error) {
    client.disconnect();
    throw error;
  }
  try {
    await store.verifyLayout();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
