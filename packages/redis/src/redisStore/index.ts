export { RedisStore, type DestroyPrefixOptions } from './redisStore.js';
export { type RedisStoreOptions, redisStoreDefaults } from './options.js';
export type { ActorKeys } from './keySchema.js';
export type { NodePersistence, PersistenceProtection, PersistenceReport } from './persistence.js';
