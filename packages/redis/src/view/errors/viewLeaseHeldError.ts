import { TroupeError } from '@troupe/runtime';
import type { RedisViewErrorCode } from './redisViewErrorCode.js';

/** Another runner holds the view's lease: one runner per view per region (`catchUp` and `rebuild` do not wait for it). */
export class ViewLeaseHeldError extends TroupeError<RedisViewErrorCode> {
  constructor(
    readonly view: string,
    /** `<token> <holder>` of the runner holding it. */
    readonly heldBy: string,
    readonly expiresInMs: number,
  ) {
    super(
      'VIEW_LEASE_HELD',
      `view ${view} is being written by another runner (lease ${heldBy}, expires in ${expiresInMs} ms unless renewed): ` +
        `one runner per view per region; stop it, or read the view without running it`,
    );
  }
}
