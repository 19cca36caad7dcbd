import { type RuntimeErrorCode, TroupeError } from './troupeError.js';

/**
 * A command handler returned something the runtime cannot persist: neither an array of events nor
 * `reject(reason)`, or an event of a type the definition does not declare. A bug in the app's
 * decider, never persisted.
 */
export class InvalidDecisionError extends TroupeError<RuntimeErrorCode> {
  readonly actorType: string;
  readonly command: string;
  constructor(actorType: string, command: string, detail: string) {
    super('INVALID_DECISION', `${actorType}.${command}: ${detail}`);
    this.actorType = actorType;
    this.command = command;
  }
}
