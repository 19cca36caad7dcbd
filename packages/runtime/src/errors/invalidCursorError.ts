import { type RuntimeErrorCode, TroupeError } from './troupeError.js';

/** A log cursor this store did not hand out (another store's, another deployment's, or damaged). */
export class InvalidCursorError extends TroupeError<RuntimeErrorCode> {
  readonly cursor: string;
  constructor(cursor: string, detail: string) {
    super('INVALID_CURSOR', `invalid log cursor '${cursor.length > 80 ? `${cursor.slice(0, 80)}…` : cursor}': ${detail}`);
    this.cursor = cursor;
  }
}
