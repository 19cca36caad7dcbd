import { TroupeError } from '@troupe/runtime';
import type { BusErrorCode } from './busErrorCode.js';

/** The broker cannot be reached, or the connection was lost while a command waited for its reply. */
export class BusUnavailableError extends TroupeError<BusErrorCode> {
  readonly url: string;
  /** Set when a sent command's outcome is unknown (the connection was lost before its reply): retry with it. */
  readonly commandId: string | undefined;
  constructor(url: string, detail: string, cause?: unknown, commandId?: string) {
    super('BUS_UNAVAILABLE', `RabbitMQ at ${url} is unavailable: ${detail}`, { cause });
    this.url = url;
    this.commandId = commandId;
  }
}
