import { type RuntimeErrorCode, TroupeError } from './troupeError.js';

export class InvalidPayloadError extends TroupeError<RuntimeErrorCode> {
  readonly actorType: string;
  readonly command: string;
  readonly reason: string;
  constructor(actorType: string, command: string, reason: string) {
    super('INVALID_PAYLOAD', `invalid payload for ${actorType}.${command}: ${reason}`);
    this.actorType = actorType;
    this.command = command;
    this.reason = reason;
  }
}
