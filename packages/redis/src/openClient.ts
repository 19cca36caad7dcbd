import { redactUrl, StoreUnavailableError } from '@troupe/runtime/store';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { StoreAuthenticationError } from './errors/index.js';
import { isAuthenticationError } from './redisStore/errorMapping.js';

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

/** Where a store's client connects: one Redis by URL, or a Cluster by its startup nodes. */
export interface ServerOptions {
  /** `redis://host:port/db`. Default `redis://127.0.0.1:6379`. Ignored when `cluster` is given. */
  readonly url?: string;
  /** Startup nodes of a Redis Cluster, as `host:port`. */
  readonly cluster?: readonly string[];
  /** Extra ioredis options, merged over `failFastRedisOptions`. */
  readonly redisOptions?: RedisOptions;
}

/**
 * A connected client (`failFastRedisOptions`) and the endpoint errors name (credentials
 * redacted), for `connectRedisStore` and `RedisStore.destroyPrefix`. A refused password is a
 * StoreAuthenticationError, any other failure a StoreUnavailableError.
 */
export async function openClient(options: ServerOptions): Promise<{ client: Redis | Cluster; endpoint: string }> {
  const { url = 'redis://127.0.0.1:6379', cluster, redisOptions } = options;
  // Errors name the server without its password (a URL may carry one: redis://:pw@host).
  const endpoint = redactUrl(cluster ? `redis cluster ${cluster.join(',')}` : url);
  const client = cluster
    ? new Cluster(
        cluster.map((node) => {
          const [host, port] = node.split(':');
          return { host: host ?? '127.0.0.1', port: Number(port ?? 6379) };
        }),
        { lazyConnect: true, enableOfflineQueue: false, redisOptions: { ...failFastRedisOptions, ...redisOptions } } satisfies ClusterOptions,
      )
    : new Redis(url, { ...failFastRedisOptions, ...redisOptions });
  // Connection errors surface as StoreUnavailableError on the commands that meet them; the
  // client keeps reconnecting in the background. The last one is kept for a failed connect:
  // ioredis rejects connect() with "Connection is closed" after Redis refused the password, and
  // only the 'error' event carries the WRONGPASS / NOAUTH reply.
  // A Cluster reports each node's failure as 'node error' (its connect() then rejects with "None
  // of startup nodes is available"): those count too.
  let lastError: unknown;
  const keep = (error: unknown) => {
    if (!isAuthenticationError(lastError) || isAuthenticationError(error)) lastError = error;
  };
  client.on('error', keep);
  if (cluster) client.on('node error', keep);
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    const reason = isAuthenticationError(lastError) ? lastError : error;
    if (isAuthenticationError(reason)) throw new StoreAuthenticationError(endpoint, redactUrl((reason as Error).message), reason);
    throw new StoreUnavailableError(endpoint, redactUrl((error as Error).message), error);
  }
  return { client, endpoint };
}
