/** @troupe/redis: the troupe EventStore on Redis (standalone or Cluster). */
export { RedisStore, redisStoreDefaults, type RedisStoreOptions } from './redisStore.js';
export { connectRedisStore, failFastRedisOptions, type ConnectOptions } from './connect.js';
export { keysMatching, deleteKeysMatching } from './keys.js';
