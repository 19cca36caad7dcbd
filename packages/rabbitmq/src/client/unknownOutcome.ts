import { LimitExceededError } from '@troupe/runtime';
import { BusUnavailableError } from '../errors/index.js';

/** A broker's refusal of a message larger than its `max_message_size` (it closes the channel with 406). */
export interface SizeRefusal {
  readonly maxBytes: number;
}

/**
 * Reads RabbitMQ's channel-close reason for an oversize publish ("PRECONDITION_FAILED - message
 * size 2097161 is larger than configured max size 1048576"); undefined for any other reason.
 */
export function sizeRefusalOf(error: Error | undefined): SizeRefusal | undefined {
  const match = /message size (\d+) is larger than (?:configured )?max size (\d+)/.exec(error?.message ?? '');
  return match ? { maxBytes: Number(match[2]) } : undefined;
}

/**
 * The error for a command that was handed to the channel and then lost its confirm or its reply
 * (the channel or the connection closed, the broker nacked it). Its outcome is unknown: the
 * broker may have queued it and a worker may have applied it (or will), so the error carries the
 * command id, and a retry with that id gets its one result instead of applying it twice. The one
 * known outcome is a broker's size refusal of this very command: nothing was queued, and the
 * caller gets LimitExceededError naming the broker setting (`limit` 'max_message_size').
 */
export function unknownOutcomeError(url: string, command: { readonly commandId: string; readonly bytes: number }, detail: string, closeReason?: Error): Error {
  const refusal = sizeRefusalOf(closeReason);
  if (refusal && command.bytes > refusal.maxBytes) {
    return new LimitExceededError(
      'max_message_size',
      `the broker refused command ${command.commandId}: its ${command.bytes} bytes exceed the broker's max_message_size of ${refusal.maxBytes} bytes, nothing was queued; keep the bus's commandBytesMax at most the broker's max_message_size`,
    );
  }
  return new BusUnavailableError(url, `${detail}; it may still be applied: retry with commandId ${command.commandId}`, closeReason, command.commandId);
}
