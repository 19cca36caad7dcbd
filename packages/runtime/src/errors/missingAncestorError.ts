import { type RuntimeErrorCode, TroupeError } from './troupeError.js';

/** A pack names a parent the store does not hold (replication out of order, or data lost). */
export class MissingAncestorError extends TroupeError<RuntimeErrorCode> {
  readonly actorKey: string;
  readonly version: string;
  constructor(actorKey: string, version: string) {
    super('MISSING_ANCESTOR', `pack ${version} of ${actorKey} is not in the store`);
    this.actorKey = actorKey;
    this.version = version;
  }
}
