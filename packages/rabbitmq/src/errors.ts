import { TroupeError } from '@troupe/runtime';

/** The broker cannot be reached, or the connection was lost while a command waited for its reply. */
export class BusUnavailableError extends TroupeError {
  readonly url: string;
  /** Set when a sent command's outcome is unknown (the connection was lost before its reply): retry with it. */
  readonly commandId: string | undefined;
  constructor(url: string, detail: string, cause?: unknown, commandId?: string) {
    super('BUS_UNAVAILABLE', `RabbitMQ at ${url} is unavailable: ${detail}`, { cause });
    this.url = url;
    this.commandId = commandId;
  }
}

/**
 * No reply came in time. The command may still be applied later (it waits in its shard queue):
 * retry with the same `commandId` to get its one result; nothing is applied twice.
 */
export class CommandTimeoutError extends TroupeError {
  readonly commandId: string;
  readonly timeoutMs: number;
  constructor(commandId: string, timeoutMs: number, target: string) {
    super('COMMAND_TIMEOUT', `no reply to command ${commandId} for ${target} within ${timeoutMs} ms; retry with the same commandId to get its result without applying it twice`);
    this.commandId = commandId;
    this.timeoutMs = timeoutMs;
  }
}

/** The worker could not execute the command (bad input, a failing actor, limits): it went to the dead-letter queue. */
export class CommandFailedError extends TroupeError {
  /** The code of the error the worker met, e.g. UNKNOWN_COMMAND or INVALID_PAYLOAD. */
  readonly remoteCode: string;
  readonly commandId: string;
  constructor(commandId: string, remoteCode: string, message: string) {
    super('COMMAND_FAILED', `command ${commandId} failed on the worker (${remoteCode}): ${message}`);
    this.remoteCode = remoteCode;
    this.commandId = commandId;
  }
}

/** The broker's queues do not match this process's topology (prefix or shard count). */
export class TopologyMismatchError extends TroupeError {
  constructor(detail: string) {
    super('TOPOLOGY_MISMATCH', detail);
  }
}
