import { type ActorRef, TroupeError } from '@troupe/runtime';
import type { BusErrorCode } from './busErrorCode.js';

/**
 * The actor's own code threw (a bug, not a rejection) while a worker executed a command. Nothing
 * was persisted; the worker dead-letters the command and the client gets a CommandFailedError
 * with `remoteCode` ACTOR_FAILED. The thrown value is the `cause`.
 */
export class ActorFailedError extends TroupeError<BusErrorCode> {
  readonly actor: ActorRef;
  readonly command: string;
  constructor(actor: ActorRef, command: string, cause: unknown) {
    super('ACTOR_FAILED', `${actor.type}:${actor.id} threw on '${command}': ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.actor = actor;
    this.command = command;
  }
}
