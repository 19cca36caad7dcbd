import { type RuntimeErrorCode, TroupeError } from './troupeError.js';

/** An actor id that is not 1-256 characters of well-formed Unicode: ids are store keys and must read back the same. */
export class InvalidActorIdError extends TroupeError<RuntimeErrorCode> {
  readonly actorType: string;
  constructor(actorType: string, id: unknown) {
    const shown = typeof id === 'string' ? `'${id.length > 40 ? `${id.slice(0, 40)}…` : id}' (${id.length} characters)` : `a ${id === null ? 'null' : typeof id}`;
    super('INVALID_ACTOR_ID', `invalid id for actor type '${actorType}': got ${shown}; an actor id must be a string of 1-256 characters of well-formed Unicode`);
    this.actorType = actorType;
  }
}
