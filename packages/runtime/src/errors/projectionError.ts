import { type RuntimeErrorCode, TroupeError } from './troupeError.js';

/** A view's `rows` threw for an actor: the view stops there (its position does not move) until it is fixed. */
export class ProjectionError extends TroupeError<RuntimeErrorCode> {
  constructor(
    readonly view: string,
    readonly actor: string,
    readonly version: string,
    cause: unknown,
  ) {
    super('PROJECTION_FAILED', `view ${view} failed on ${actor}@${version}: ${(cause as Error)?.message ?? String(cause)} (the view stopped there; fix the projection and bump its version)`, { cause });
  }
}

/** `waitUntil` or `waitFor` gave up: the view did not reach what was asked within the time. */
export class ViewTimeoutError extends TroupeError<RuntimeErrorCode> {
  constructor(view: string, what: string, timeoutMs: number) {
    super('VIEW_TIMEOUT', `view ${view} did not reach ${what} within ${timeoutMs} ms`);
  }
}
