import { TroupeError } from '@troupe/runtime';
import type { BusErrorCode } from './busErrorCode.js';

/**
 * No reply came in time. The command may still be applied later (it waits in its shard queue):
 * retry with the same `commandId` to get its one result; nothing is applied twice.
 */
export class CommandTimeoutError extends TroupeError<BusErrorCode> {
  readonly commandId: string;
  readonly timeoutMs: number;
  constructor(commandId: string, timeoutMs: number, target: string) {
    super('COMMAND_TIMEOUT', `no reply to command ${commandId} for ${target} within ${timeoutMs} ms; retry with the same commandId to get its result without applying it twice`);
    this.commandId = commandId;
    this.timeoutMs = timeoutMs;
  }
}
