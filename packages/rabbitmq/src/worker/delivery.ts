import type { Channel, ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import { type ReplyMessage, encodeReply } from '../protocol/messages.js';
import { isDirectReplyTo } from '../protocol/replyTo.js';
import type { ChannelAcks } from './acks.js';

/** A message as a shard consumer received it, with what decides whether it may still be started. */
export interface Delivery {
  /** The connection it came on (`Session.generation` then). */
  readonly generation: number;
  readonly shard: number;
  /** The shard consumer's epoch then: a hand-over bumps it. */
  readonly epoch: number;
  /** The channel it must be acknowledged on. */
  readonly channel: Channel;
  /** That channel's acknowledgements: every ack and nack of its deliveries goes through it. */
  readonly acks: ChannelAcks;
  readonly message: ConsumeMessage;
  /** `performance.now()` at delivery, for the latency histogram. */
  readonly deliveredAt: number;
}

/**
 * Acknowledges, at the end of this event-loop turn (see `ChannelAcks`); a closed channel is only
 * logged (the broker redelivers, the duplicate lookup answers).
 */
export function ack(delivery: Delivery): void {
  delivery.acks.ack(delivery.message.fields.deliveryTag);
}

/** Rejects without requeueing (the queue's dead-lettering takes it); throws when the channel is closed. */
export function nack(delivery: Delivery): void {
  delivery.channel.nack(delivery.message, false, false);
  delivery.acks.settled(delivery.message.fields.deliveryTag);
}

/**
 * Answers the client on its reply-to queue, when it asked for an answer, and only when that is
 * a direct reply-to name (the worker refuses other names on delivery already; this keeps any
 * later path from publishing where a message says). Published on `channel`, the worker's reply
 * connection's (see `Session.replyChannel`), never on the consuming one. A reply over `bytesMax`
 * is not sent: the broker would refuse it by closing the reply channel (406), and the replies of
 * other commands published on that channel before the worker learnt of the close would be
 * dropped with it (their callers time out and resend). The command stays applied and
 * acknowledged; its client times out (a retry with its id too).
 */
export function reply(delivery: Delivery, body: ReplyMessage, log: Logger, bytesMax: number, channel: Channel | undefined): void {
  const { message } = delivery;
  const replyTo = message.properties.replyTo as unknown;
  if (replyTo === undefined || replyTo === null || replyTo === '') return;
  if (typeof replyTo !== 'string' || !isDirectReplyTo(replyTo)) {
    log.warn({ replyTo: String(replyTo).slice(0, 300) }, 'not answering: replyTo is not a direct reply-to name');
    return;
  }
  if (!channel) {
    log.warn({ commandId: body.commandId }, 'not answering: the reply connection did not come back in time; the client times out and resends with its command id');
    return;
  }
  try {
    const bytes = encodeReply(body);
    if (bytes.length > bytesMax) {
      log.error({ commandId: body.commandId, bytes: bytes.length, replyBytesMax: bytesMax }, 'not answering: the reply is larger than replyBytesMax (the broker would close the reply channel); the client times out');
      return;
    }
    channel.sendToQueue(replyTo, bytes, { correlationId: message.properties.correlationId });
  } catch (error) {
    log.warn({ err: (error as Error).message }, 'could not send the reply');
  }
}
