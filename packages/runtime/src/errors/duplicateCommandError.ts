import { type RuntimeErrorCode, TroupeError } from './troupeError.js';

/**
 * An append of a command pack whose command id the store already recorded for the actor. The store
 * refuses it whatever the message said (`checkDuplicate: false` included), so one command id is
 * applied at most once per store; the runtime answers the caller with the recorded result.
 */
export class DuplicateCommandError extends TroupeError<RuntimeErrorCode> {
  readonly actorKey: string;
  readonly commandId: string;
  constructor(actorKey: string, commandId: string) {
    super('DUPLICATE_COMMAND', `command ${commandId} was already applied to ${actorKey}: it is not appended again`);
    this.actorKey = actorKey;
    this.commandId = commandId;
  }
}
