import { TroupeError } from '@troupe/runtime';
import type { RedisViewErrorCode } from './redisViewErrorCode.js';

/**
 * This runner's lease expired (a pause longer than `leaseTtlMs`: GC, SIGSTOP, a slow network) or
 * another runner took it: the write script refused its token and wrote nothing.
 */
export class ViewLeaseLostError extends TroupeError<RedisViewErrorCode> {
  constructor(
    readonly view: string,
    /** The lease this runner held: `<token> <holder>`. */
    readonly held: string,
    /** What the lease key holds now ('' when nobody holds it). */
    readonly current: string,
  ) {
    super(
      'VIEW_LEASE_LOST',
      `view ${view}: this runner's lease ${held} is no longer the current one (${current === '' ? 'expired' : `now ${current}`}): ` +
        `nothing was written; raise leaseTtlMs if pauses this long are expected`,
    );
  }
}
