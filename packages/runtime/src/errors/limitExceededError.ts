import { type RuntimeErrorCode, TroupeError } from './troupeError.js';

export class LimitExceededError extends TroupeError<RuntimeErrorCode> {
  readonly limit: string;
  constructor(limit: string, detail: string) {
    super('LIMIT_EXCEEDED', `${detail} (raise the '${limit}' option if this is expected)`);
    this.limit = limit;
  }
}
