import type { Channel } from 'amqplib';
import type { Logger } from 'pino';
import { type EncodedReply, type ReplyMessage, encodeReply, encodeReplyBatch, replyBatchType } from '../protocol/messages.js';
import { isDirectReplyTo } from '../protocol/replyTo.js';
import { type Delivery, ack, reply } from './delivery.js';

/** The replies of one turn to one client (one direct reply-to name), on one reply channel. */
interface Batch {
  readonly channel: Channel;
  readonly replyTo: string;
  readonly replies: EncodedReply[];
  /** Their deliveries, acknowledged once the batch is published. */
  readonly deliveries: Delivery[];
  bytes: number;
}

/** Room a batch keeps for its framing (array headers, correlation ids' headers) under `bytesMax`. */
const framingPerReply = 4;

/**
 * A batch's size at most (or `bytesMax` when lower): large enough to hold the replies of a busy
 * turn (~50 - 200 of ~330 bytes at 1,000 commands in flight), small enough to go in one frame
 * and to keep a client from waiting on one large message.
 */
const batchBytesMax = 64 * 1024;

/**
 * Answers commands, then acknowledges them: each reply before its ack, as `reply` + `ack` do.
 * The replies of one event-loop turn to one client whose commands said `batchReplies` leave as
 * one message (`replyBatchType`), published at the end of the turn (a `process.nextTick`, before
 * the turn's socket writes), and their acks are asked for right after it; a batch alone in its
 * turn goes as a plain reply. Anything else (no batching asked, no reply wanted, not a direct
 * reply-to name, no reply channel, a reply too large to batch) is answered and acknowledged at
 * once, as before. A batch never exceeds `bytesMax` (the broker's message size limit) nor 64 KiB:
 * the next reply starts a new one.
 *
 * Callers must `flush()` before flushing the acks of a channel they close (a hand-over, a stop),
 * so no reply and no ack asked for is left behind.
 */
export class ReplyBatches {
  private readonly batches = new Map<string, Batch>();
  private scheduled = false;
  private readonly batchMax: number;
  /** Counts of messages published, for tests and measurements. */
  readonly sent = { batches: 0, batched: 0, single: 0 };

  constructor(
    private readonly log: Logger,
    private readonly bytesMax: number,
  ) {
    this.batchMax = Math.min(bytesMax, batchBytesMax);
  }

  /** Answers `delivery` with `body` on `channel`, then acknowledges it (see the class comment). */
  answer(delivery: Delivery, body: ReplyMessage, channel: Channel | undefined, batch: boolean): void {
    const replyTo = delivery.message.properties.replyTo as unknown;
    const correlationId = delivery.message.properties.correlationId as unknown;
    if (!batch || !channel || typeof replyTo !== 'string' || !isDirectReplyTo(replyTo) || typeof correlationId !== 'string') {
      reply(delivery, body, this.log, this.bytesMax, channel);
      ack(delivery);
      this.sent.single++;
      return;
    }
    let bytes: Buffer;
    try {
      bytes = encodeReply(body);
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'could not send the reply');
      ack(delivery);
      return;
    }
    if (bytes.length + correlationId.length * 3 + framingPerReply + 6 > this.batchMax) {
      // Alone it may still fit (`reply` checks, and says why when it does not).
      reply(delivery, body, this.log, this.bytesMax, channel);
      ack(delivery);
      this.sent.single++;
      return;
    }
    let open = this.batches.get(replyTo);
    const size = bytes.length + correlationId.length * 3 + framingPerReply;
    if (open && (open.channel !== channel || open.bytes + size > this.batchMax)) {
      this.batches.delete(replyTo);
      this.publish(open);
      open = undefined;
    }
    if (!open) {
      open = { channel, replyTo, replies: [], deliveries: [], bytes: 6 };
      this.batches.set(replyTo, open);
    }
    open.replies.push({ correlationId, bytes });
    open.deliveries.push(delivery);
    open.bytes += size;
    if (this.scheduled) return;
    this.scheduled = true;
    process.nextTick(() => this.flush());
  }

  /** Publishes every open batch and asks for its acks. */
  flush(): void {
    this.scheduled = false;
    if (this.batches.size === 0) return;
    const batches = [...this.batches.values()];
    this.batches.clear();
    for (const batch of batches) this.publish(batch);
  }

  /** Publishes `batch` (a plain reply when it holds one), then acknowledges its deliveries; a failed publish is only logged. */
  private publish(batch: Batch): void {
    const { channel, replyTo, replies, deliveries } = batch;
    try {
      if (replies.length === 1) {
        channel.sendToQueue(replyTo, replies[0]!.bytes, { correlationId: replies[0]!.correlationId });
        this.sent.single++;
      } else {
        channel.sendToQueue(replyTo, encodeReplyBatch(replies), { type: replyBatchType });
        this.sent.batches++;
        this.sent.batched += replies.length;
      }
    } catch (error) {
      this.log.warn({ err: (error as Error).message, replies: replies.length }, 'could not send the replies');
    }
    for (const delivery of deliveries) ack(delivery);
  }
}
