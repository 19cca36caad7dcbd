import type { MessageProperties, Options } from 'amqplib';
import type { Logger } from 'pino';
import type { TroupeError } from '@troupe/runtime';
import { busProtocolVersion } from '../protocol/messages.js';
import type { Topology } from '../topology.js';
import { type Delivery, ack, nack, reply } from './delivery.js';
import type { WorkerMetrics } from './metrics.js';
import { type Session, confirmWaitMs, replyWaitMs } from './session.js';

/** The header a dead letter keeps the incoming message's own headers under (nested, never top level). */
export const originalHeadersKey = 'x-troupe-original-headers';

/**
 * The properties of a dead letter: a whitelist, never the incoming message's properties copied.
 * A dead letter is published on the default exchange, where a `CC` or `BCC` header would route it
 * into every queue those headers name (#14 defect 7 again, through the dead-letter path), a
 * `userId` other than the worker's makes the broker close the channel (406), and `expiration` or
 * `replyTo` would be the publisher's, not the worker's. So: `messageId`, `correlationId`,
 * `contentType` and `timestamp` when they have their AMQP types, the worker's `x-troupe-*` headers,
 * and the original headers only nested under `x-troupe-original-headers` (which the broker does not
 * read). Persistent.
 */
export function deadLetterProperties(
  properties: MessageProperties,
  reason: { readonly code: string; readonly reason: string; readonly queue: string; readonly worker: string },
): Options.Publish {
  const text = (value: unknown) => (typeof value === 'string' && value.length <= 255 ? value : undefined);
  const { messageId, correlationId, contentType, timestamp, headers } = properties as unknown as Record<string, unknown>;
  const kept: Options.Publish = {
    persistent: true,
    headers: {
      ...(headers !== null && typeof headers === 'object' && Object.keys(headers).length > 0 ? { [originalHeadersKey]: headers } : {}),
      'x-troupe-error-code': reason.code,
      'x-troupe-reason': reason.reason.slice(0, 1_000),
      'x-troupe-queue': reason.queue,
      'x-troupe-worker': reason.worker,
    },
  };
  if (text(messageId) !== undefined) kept.messageId = text(messageId);
  if (text(correlationId) !== undefined) kept.correlationId = text(correlationId);
  if (text(contentType) !== undefined) kept.contentType = text(contentType);
  if (typeof timestamp === 'number' && Number.isSafeInteger(timestamp) && timestamp >= 0) kept.timestamp = timestamp;
  return kept;
}

/**
 * Moves messages that can never succeed (undecodable, too large, refused by the runtime, a
 * failing actor) to the dead-letter queue with the reason in their headers, acknowledges them,
 * and answers the client with the error. Nothing of them is persisted.
 */
export class DeadLetters {
  constructor(
    private readonly topology: Topology,
    private readonly session: Session,
    private readonly workerId: string,
    private readonly metrics: WorkerMetrics,
    private readonly log: Logger,
    private readonly replyBytesMax: number,
  ) {}

  /**
   * Dead-letters with the error's code and message, and answers the client unless `answer` is
   * false (a replyTo that is not a direct reply-to name is answered nobody). `commandId` and
   * `body` (the command encoded again): when the message was decoded, and its bytes dropped.
   */
  async send(delivery: Delivery, error: TroupeError, options: { readonly commandId?: string; readonly answer?: boolean; readonly body?: Buffer } = {}): Promise<void> {
    const { commandId, answer = true, body = delivery.message.content } = options;
    const { message } = delivery;
    const { code, message: reason } = error;
    const queue = this.topology.shardQueues.find((q) => q === message.fields.routingKey) ?? message.fields.routingKey;
    this.log.warn({ code, reason, commandId, queue }, 'dead-lettering a command');
    try {
      const confirm = await this.session.confirmChannelWithin(confirmWaitMs);
      if (!confirm) throw new Error('no dead-letter channel (reconnecting)');
      await new Promise<void>((resolve, reject) => {
        confirm.sendToQueue(
          this.topology.deadLetterQueue,
          body,
          deadLetterProperties(message.properties, { code, reason, queue, worker: this.workerId }),
          (error) => (error ? reject(new Error(String(error))) : resolve()),
        );
      });
      ack(delivery);
    } catch (failure) {
      // The queue's own dead-lettering (x-death headers, reason 'rejected') is the fallback. It
      // goes through the fanout exchange `<prefix>.dead`, which ignores routing keys (CC/BCC too)
      // and reaches only the dead-letter queue.
      this.log.error({ err: (failure as Error).message }, 'could not publish to the dead-letter queue; rejecting to the broker DLX');
      try {
        nack(delivery);
      } catch {
        return; // channel gone: the message is redelivered and dead-lettered again
      }
    }
    this.metrics.commands.inc({ outcome: 'dead_lettered' });
    if (!answer) return;
    reply(delivery, { v: busProtocolVersion, status: 'failed', commandId: commandId ?? String(message.properties.messageId ?? ''), code, message: reason }, this.log, this.replyBytesMax, await this.session.replyChannelWithin(replyWaitMs));
  }
}
