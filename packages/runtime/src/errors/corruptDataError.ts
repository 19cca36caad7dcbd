import { type RuntimeErrorCode, TroupeError } from './troupeError.js';

/** Stored bytes that do not decode to what troupe wrote there. `where` names the key or record. */
export class CorruptDataError extends TroupeError<RuntimeErrorCode> {
  readonly where: string;
  constructor(where: string, detail: string, cause?: unknown) {
    super('CORRUPT_DATA', `corrupt data at ${where}: ${detail}`, { cause });
    this.where = where;
  }
}
