import type { Logger } from 'pino';
import type { TroupeError } from '@troupe/runtime';
import { busProtocolVersion } from '../protocol/messages.js';
import type { Topology } from '../topology.js';
import { type Delivery, ack, reply } from './delivery.js';
import type { WorkerMetrics } from './metrics.js';
import { type Session, replyWaitMs } from './session.js';

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
    const { channel, message } = delivery;
    const { code, message: reason } = error;
    const queue = this.topology.shardQueues.find((q) => q === message.fields.routingKey) ?? message.fields.routingKey;
    this.log.warn({ code, reason, commandId, queue }, 'dead-lettering a command');
    const confirm = this.session.confirmChannel;
    try {
      if (!confirm) throw new Error('no dead-letter channel (reconnecting)');
      await new Promise<void>((resolve, reject) => {
        confirm.sendToQueue(
          this.topology.deadLetterQueue,
          body,
          {
            ...message.properties,
            persistent: true,
            headers: {
              ...message.properties.headers,
              'x-troupe-error-code': code,
              'x-troupe-reason': reason.slice(0, 1_000),
              'x-troupe-queue': queue,
              'x-troupe-worker': this.workerId,
            },
          },
          (error) => (error ? reject(new Error(String(error))) : resolve()),
        );
      });
      ack(delivery, this.log);
    } catch (failure) {
      // The queue's own dead-lettering (x-death headers, reason 'rejected') is the fallback.
      this.log.error({ err: (failure as Error).message }, 'could not publish to the dead-letter queue; rejecting to the broker DLX');
      try {
        channel.nack(message, false, false);
      } catch {
        return; // channel gone: the message is redelivered and dead-lettered again
      }
    }
    this.metrics.commands.inc({ outcome: 'dead_lettered' });
    if (!answer) return;
    reply(delivery, { v: busProtocolVersion, status: 'failed', commandId: commandId ?? String(message.properties.messageId ?? ''), code, message: reason }, this.log, this.replyBytesMax, await this.session.replyChannelWithin(replyWaitMs));
  }
}
