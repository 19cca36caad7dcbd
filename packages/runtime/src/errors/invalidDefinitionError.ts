import { type RuntimeErrorCode, TroupeError } from './troupeError.js';

/** A programmer error in an actor definition or runtime options, raised at definition time. */
export class InvalidDefinitionError extends TroupeError<RuntimeErrorCode> {
  constructor(detail: string) {
    super('INVALID_DEFINITION', detail);
  }
}
