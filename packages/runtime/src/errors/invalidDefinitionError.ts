import { TroupeError } from './troupeError.js';

/** A programmer error in an actor definition or runtime options, raised at definition time. */
export class InvalidDefinitionError extends TroupeError {
  constructor(detail: string) {
    super('INVALID_DEFINITION', detail);
  }
}
