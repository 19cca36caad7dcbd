import { TroupeError } from './troupeError.js';

/** The store's backend cannot be reached (or did not answer in time). Nothing was written. */
export class StoreUnavailableError extends TroupeError {
  readonly endpoint: string;
  constructor(endpoint: string, detail: string, cause?: unknown) {
    super('STORE_UNAVAILABLE', `store at ${endpoint} is unavailable: ${detail}`, { cause });
    this.endpoint = endpoint;
  }
}
