import { type RuntimeErrorCode, TroupeError } from './troupeError.js';

/** `awaitReplicated` timed out before enough regions held the version. */
export class NotReplicatedError extends TroupeError<RuntimeErrorCode> {
  constructor(
    readonly actor: string,
    readonly version: string,
    readonly wanted: number,
    readonly holding: readonly string[],
    readonly missing: readonly string[],
    timeoutMs: number,
  ) {
    super(
      'NOT_REPLICATED',
      `${actor}@${version} reached ${holding.length} of the ${wanted} regions asked for within ${timeoutMs} ms ` +
        `(held by ${holding.join(', ') || 'none'}; not known to be held by ${missing.join(', ') || 'none'})`,
    );
  }
}
