import { type RuntimeErrorCode, TroupeError } from './troupeError.js';

/**
 * The store's backend cannot be reached, or did not answer in time. A write that timed out may
 * still have landed: retry with the same command id (the store answers a repeated id with the
 * first result and applies nothing twice).
 */
export class StoreUnavailableError extends TroupeError<RuntimeErrorCode> {
  readonly endpoint: string;
  constructor(endpoint: string, detail: string, cause?: unknown) {
    super('STORE_UNAVAILABLE', `store at ${endpoint} is unavailable: ${detail}`, { cause });
    this.endpoint = endpoint;
  }
}
