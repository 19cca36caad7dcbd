/**
 * Stable machine-readable codes of the errors this package throws beside the runtime's own
 * (`StoreUnavailableError`, `AppendConflictError`, ... keep their `RuntimeErrorCode`).
 */
export type RedisStoreErrorCode =
  /** The Redis lost the store's data (restarted empty, flushed, a failover to an empty node): nothing was written; stop. */
  | 'STORE_DATA_LOST'
  /** Redis refused the credentials (wrong or missing password, unknown user): fix the URL or `redisOptions`. */
  | 'STORE_AUTHENTICATION_FAILED';
