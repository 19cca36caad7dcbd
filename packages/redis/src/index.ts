/**
 * @troupe/redis: the troupe EventStore on Redis (standalone or Cluster). The root holds what an
 * application needs (listed in README.md, "API"); test servers and key scans are in
 * `@troupe/redis/testing`.
 */
export {
  RedisStore,
  type DestroyPrefixOptions,
  redisStoreDefaults,
  type RedisStoreOptions,
  type PersistenceReport,
  type PersistenceProtection,
  type NodePersistence,
} from './redisStore/index.js';
export { connectRedisStore, failFastRedisOptions, type ConnectOptions } from './connect.js';
export { type RedisStoreErrorCode, StoreDataLostError, StoreAuthenticationError, ReplicationTimeoutError } from './errors/index.js';
export {
  openRedisView,
  RedisView,
  redisViewDefaults,
  type OpenRedisViewOptions,
  type RedisViewOptions,
  type RedisViewObserver,
  type RedisViewStatus,
  type CatchUpReport,
  type RebuildReport,
  type RedisViewErrorCode,
  ViewVersionMismatchError,
  ViewLeaseHeldError,
  ViewLeaseLostError,
} from './view/index.js';
