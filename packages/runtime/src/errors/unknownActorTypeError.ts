import { type RuntimeErrorCode, TroupeError } from './troupeError.js';

export class UnknownActorTypeError extends TroupeError<RuntimeErrorCode> {
  readonly actorType: string;
  constructor(actorType: string, known: readonly string[]) {
    super(
      'UNKNOWN_ACTOR_TYPE',
      `unknown actor type '${actorType}' (registered: ${known.length ? known.join(', ') : 'none'})`,
    );
    this.actorType = actorType;
  }
}
