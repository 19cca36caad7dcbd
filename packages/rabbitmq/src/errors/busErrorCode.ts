import type { RuntimeErrorCode } from '@troupe/runtime';

/**
 * Stable machine-readable codes of the errors this package throws, and of the failures a worker
 * reports over the wire (`CommandFailedError.remoteCode`, the `x-troupe-error-code` header of a
 * dead-lettered message). The runtime's own codes (`RuntimeErrorCode`) travel the same way.
 */
export type BusErrorCode =
  /** The broker cannot be reached, or the connection was lost while a command waited. */
  | 'BUS_UNAVAILABLE'
  /** No reply in time: retry with the same `commandId`. */
  | 'COMMAND_TIMEOUT'
  /** The worker dead-lettered the command; `remoteCode` says why. */
  | 'COMMAND_FAILED'
  /** The broker's queues are not this process's topology (prefix, shard count, queue arguments). */
  | 'TOPOLOGY_MISMATCH'
  /** Worker side: a message that is not a command of this protocol version. */
  | 'MALFORMED_MESSAGE'
  /** Worker side: the actor's code threw while handling the command. */
  | 'ACTOR_FAILED'
  /** Worker side: a command whose replyTo is not a direct reply-to name; dead-lettered unexecuted, unanswered. */
  | 'INVALID_REPLY_TO';

/** A code a worker can report for a failed command: the runtime's, the bus's, or one from a newer release. */
export type RemoteErrorCode = RuntimeErrorCode | BusErrorCode | (string & {});
