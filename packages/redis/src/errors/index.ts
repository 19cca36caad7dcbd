export type { RedisStoreErrorCode } from './redisStoreErrorCode.js';
export { StoreDataLostError } from './storeDataLostError.js';
export { StoreAuthenticationError } from './storeAuthenticationError.js';
export { ReplicationTimeoutError } from './replicationTimeoutError.js';
