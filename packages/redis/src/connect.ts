import { openClient, type ServerOptions } from './openClient.js';
import { RedisStore, type RedisStoreOptions } from './redisStore/index.js';

export { failFastRedisOptions } from './openClient.js';

export interface ConnectOptions extends Omit<RedisStoreOptions, 'client' | 'ownsClient' | 'endpoint'>, ServerOptions {}

/**
 * Connects, checks the key layout, and returns a store that closes its client on `close()`. A
 * Redis that lost part of the store's data is a StoreDataLostError here: to start over empty,
 * `RedisStore.destroyPrefix({ url, prefix })`, then connect again.
 */
export async function connectRedisStore(options: ConnectOptions = {}): Promise<RedisStore> {
  const { url, cluster, redisOptions, ...storeOptions } = options;
  const { client, endpoint } = await openClient({ url, cluster, redisOptions });
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
