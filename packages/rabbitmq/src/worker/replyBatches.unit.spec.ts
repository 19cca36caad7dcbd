import type { Channel, ConsumeMessage } from 'amqplib';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { type ReplyMessage, busProtocolVersion, decodeReply, decodeReplyBatch, replyBatchType } from '../protocol/messages.js';
import type { ChannelAcks } from './acks.js';
import type { Delivery } from './delivery.js';
import { ReplyBatches } from './replyBatches.js';

const log = pino({ level: 'silent' });
const client = (n: number) => `amq.rabbitmq.reply-to.client${n}`;
const body = (commandId: string): ReplyMessage => ({ v: busProtocolVersion, status: 'rejected', commandId, reason: 'r'.repeat(50) });
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A reply channel and the acks of a consuming channel that write what happens, in order, to one log. */
function harness() {
  const events: string[] = [];
  const sizes: number[] = [];
  const channel = (name: string) =>
    ({
      sendToQueue(queue: string, content: Buffer, options: { correlationId?: string; type?: string }) {
        sizes.push(content.length);
        if (options.type === replyBatchType) events.push(`${name} batch ${queue} ${decodeReplyBatch(content)!.map((r) => `${r.correlationId}=${r.reply.commandId}`).join(',')}`);
        else events.push(`${name} reply ${queue} ${options.correlationId}=${decodeReply(content)!.commandId}`);
        return true;
      },
    }) as unknown as Channel;
  const acks = { ack: (tag: number) => events.push(`ack ${tag}`) } as unknown as ChannelAcks;
  let tag = 0;
  const delivery = (replyTo: string | undefined, correlationId: string | null = `corr${tag + 1}`): Delivery => ({
    generation: 1,
    shard: 0,
    epoch: 0,
    channel: {} as Channel,
    acks,
    deliveredAt: 0,
    message: { fields: { deliveryTag: ++tag }, properties: { replyTo, correlationId: correlationId ?? undefined }, content: Buffer.alloc(0) } as unknown as ConsumeMessage,
  });
  return { events, sizes, channel, delivery };
}

describe('ReplyBatches', () => {
  it('sends the replies of a turn to one client as one message at the end of the turn, each ack after it', async () => {
    const { events, channel, delivery } = harness();
    const replies = new ReplyBatches(log, 1 << 20);
    const reply = channel('r');
    replies.answer(delivery(client(1)), body('a'), reply, true);
    replies.answer(delivery(client(2)), body('b'), reply, true);
    replies.answer(delivery(client(1)), body('c'), reply, true);
    expect(events).toEqual([]);
    await turn();
    expect(events).toEqual([`r batch ${client(1)} corr1=a,corr3=c`, 'ack 1', 'ack 3', `r reply ${client(2)} corr2=b`, 'ack 2']);
    expect(replies.sent).toEqual({ batches: 1, batched: 2, single: 1 });
  });

  it('answers at once, reply then ack, what is not batched: not asked, no reply wanted, no channel, not a direct reply-to name', () => {
    const { events, channel, delivery } = harness();
    const replies = new ReplyBatches(log, 1 << 20);
    const reply = channel('r');
    replies.answer(delivery(client(1)), body('a'), reply, false);
    replies.answer(delivery(undefined), body('b'), reply, true);
    replies.answer(delivery(client(1)), body('c'), undefined, true);
    replies.answer(delivery('some.queue'), body('d'), reply, true);
    replies.answer(delivery(client(1), null), body('e'), reply, true);
    expect(events).toEqual([`r reply ${client(1)} corr1=a`, 'ack 1', 'ack 2', 'ack 3', 'ack 4', `r reply ${client(1)} undefined=e`, 'ack 5']);
  });

  it('flush() sends what is batched now; a batch never passes bytesMax; a new reply channel starts a new batch', async () => {
    const { events, sizes, channel, delivery } = harness();
    const replies = new ReplyBatches(log, 300);
    const first = channel('r1');
    const second = channel('r2');
    for (let i = 0; i < 10; i++) replies.answer(delivery(client(1)), body(`c${i}`), first, true);
    replies.answer(delivery(client(1)), body('c10'), second, true);
    replies.flush();
    // Every reply once, in order, each ack after the message holding its reply; no message over 300 bytes.
    const sent = events.filter((e) => !e.startsWith('ack')).flatMap((e) => e.split(' ')[3]!.split(','));
    expect(sent).toEqual(Array.from({ length: 11 }, (_, i) => `corr${i + 1}=c${i}`));
    for (let i = 1; i <= 11; i++) {
      const holding = events.findIndex((e) => !e.startsWith('ack') && e.split(' ')[3]!.split(',').includes(`corr${i}=c${i - 1}`));
      expect(events.indexOf(`ack ${i}`)).toBeGreaterThan(holding);
    }
    expect(Math.max(...sizes)).toBeLessThanOrEqual(300);
    expect(events.filter((e) => e.startsWith('r1 batch')).length).toBeGreaterThan(1);
    expect(events.filter((e) => e.startsWith('r2'))).toEqual([`r2 reply ${client(1)} corr11=c10`]);
    const count = events.length;
    await turn();
    expect(events.length).toBe(count);
    // A reply that alone passes bytesMax is not sent (reply() says why), and still acknowledged.
    const small = new ReplyBatches(log, 60);
    small.answer(delivery(client(1)), body('big'), first, true);
    expect(events.slice(count)).toEqual(['ack 12']);
  });

  it('keeps a batch to 64 KiB however large bytesMax is', async () => {
    const { events, sizes, channel, delivery } = harness();
    const replies = new ReplyBatches(log, 2 << 20);
    const reply = channel('r');
    for (let i = 0; i < 1_000; i++) replies.answer(delivery(client(1)), body(`c${i}`), reply, true);
    await turn();
    expect(events.filter((e) => e.startsWith('ack')).length).toBe(1_000);
    expect(sizes.length).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(64 * 1024);
    expect(events.filter((e) => !e.startsWith('ack')).flatMap((e) => e.split(' ')[3]!.split(',')).length).toBe(1_000);
  });

  it('acknowledges the batch even when its publish throws', async () => {
    const { events, delivery } = harness();
    const replies = new ReplyBatches(log, 1 << 20);
    const broken = {
      sendToQueue() {
        throw new Error('Channel closed');
      },
    } as unknown as Channel;
    replies.answer(delivery(client(1)), body('a'), broken, true);
    replies.answer(delivery(client(1)), body('b'), broken, true);
    await turn();
    expect(events).toEqual(['ack 1', 'ack 2']);
  });
});
