import { type RuntimeErrorCode, TroupeError } from './troupeError.js';

export class UnknownCommandError extends TroupeError<RuntimeErrorCode> {
  readonly actorType: string;
  readonly command: string;
  constructor(actorType: string, command: string, known: readonly string[]) {
    super(
      'UNKNOWN_COMMAND',
      `actor type '${actorType}' has no command '${command}' (commands: ${known.join(', ')})`,
    );
    this.actorType = actorType;
    this.command = command;
  }
}
