/**
 * @troupe/redis: the troupe EventStore on Redis (standalone or Cluster). The root holds what an
 * application needs (listed in README.md, "API"); test servers and key scans are in
 * `@troupe/redis/testing`.
 */
export { RedisStore, redisStoreDefaults, type RedisStoreOptions } from './redisStore/index.js';
export { connectRedisStore, failFastRedisOptions, type ConnectOptions } from './connect.js';
