export type { RedisViewErrorCode } from './redisViewErrorCode.js';
export { ViewVersionMismatchError } from './viewVersionMismatchError.js';
export { ViewLeaseHeldError } from './viewLeaseHeldError.js';
export { ViewLeaseLostError } from './viewLeaseLostError.js';
