export { openRedisView, RedisView, type OpenRedisViewOptions, type RedisViewStatus, type CatchUpReport } from './redisView.js';
export { redisViewDefaults, type RedisViewOptions, type RedisViewObserver } from './viewOptions.js';
export type { RebuildReport } from './rebuild.js';
export { type RedisViewErrorCode, ViewVersionMismatchError, ViewLeaseHeldError, ViewLeaseLostError } from './errors/index.js';
