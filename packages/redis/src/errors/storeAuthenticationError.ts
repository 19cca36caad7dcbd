import { TroupeError } from '@troupe/runtime';
import type { RedisStoreErrorCode } from './redisStoreErrorCode.js';

/**
 * Redis refused the store's credentials: a wrong or missing password, or an unknown or disabled
 * user (Redis replies WRONGPASS or NOAUTH). Not transient. `endpoint` and the message never hold
 * the password.
 */
export class StoreAuthenticationError extends TroupeError<RedisStoreErrorCode> {
  /** The server (credentials redacted). */
  readonly endpoint: string;
  constructor(endpoint: string, detail: string, cause?: unknown) {
    super(
      'STORE_AUTHENTICATION_FAILED',
      `Redis at ${endpoint} refused the credentials (${detail}): give the right password in the URL ` +
        `('redis://:password@host:port' or 'redis://user:password@host:port'; option 'url') or in ` +
        `redisOptions.password / redisOptions.username`,
      { cause },
    );
    this.endpoint = endpoint;
  }
}
