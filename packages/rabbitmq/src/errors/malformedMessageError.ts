import { TroupeError } from '@troupe/runtime';
import type { BusErrorCode } from './busErrorCode.js';

/**
 * Bytes on a shard queue that are not a command of this protocol version (thrown by
 * `decodeCommand`): the worker dead-letters them and answers MALFORMED_MESSAGE.
 */
export class MalformedMessageError extends TroupeError<BusErrorCode> {
  constructor(detail: string) {
    super('MALFORMED_MESSAGE', detail);
  }
}
