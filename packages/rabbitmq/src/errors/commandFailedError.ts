import { TroupeError } from '@troupe/runtime';
import type { BusErrorCode, RemoteErrorCode } from './busErrorCode.js';

/** The worker could not execute the command (bad input, a failing actor, limits): it went to the dead-letter queue. */
export class CommandFailedError extends TroupeError<BusErrorCode> {
  /** The code of the error the worker met, e.g. UNKNOWN_COMMAND, INVALID_PAYLOAD or ACTOR_FAILED. */
  readonly remoteCode: RemoteErrorCode;
  readonly commandId: string;
  constructor(commandId: string, remoteCode: RemoteErrorCode, message: string) {
    super('COMMAND_FAILED', `command ${commandId} failed on the worker (${remoteCode}): ${message}`);
    this.remoteCode = remoteCode;
    this.commandId = commandId;
  }
}
