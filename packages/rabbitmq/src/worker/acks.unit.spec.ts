import type { Channel, Message } from 'amqplib';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ChannelAcks } from './acks.js';

/** A channel that records the acks it is asked to send, and what the broker would hold unacknowledged after them. */
function recordingChannel(delivered: number) {
  const frames: [number, boolean][] = [];
  const outstanding = new Set(Array.from({ length: delivered }, (_, i) => i + 1));
  let closed = false;
  const channel = {
    ack(message: Message, multiple?: boolean) {
      if (closed) throw new Error('Channel closed');
      const tag = message.fields.deliveryTag;
      frames.push([tag, multiple === true]);
      if (!outstanding.has(tag)) throw new Error(`PRECONDITION_FAILED - unknown delivery tag ${tag}`);
      if (multiple) for (const t of [...outstanding]) t <= tag && outstanding.delete(t);
      else outstanding.delete(tag);
    },
  };
  return { channel: channel as unknown as Channel, frames, outstanding, nack: (tag: number) => outstanding.delete(tag), close: () => (closed = true) };
}

const log = pino({ level: 'silent' });
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ChannelAcks', () => {
  it('acknowledges an unbroken run of one turn with one multiple ack, at the end of the turn', async () => {
    const c = recordingChannel(5);
    const acks = new ChannelAcks(c.channel, log);
    for (const tag of [2, 1, 3, 4]) acks.ack(tag);
    expect(c.frames).toEqual([]);
    await turn();
    expect(c.frames).toEqual([[4, true]]);
    expect([...c.outstanding]).toEqual([5]);
  });

  it('never covers a delivery left unacknowledged: the acks above it go one by one', async () => {
    const c = recordingChannel(6);
    const acks = new ChannelAcks(c.channel, log);
    // 3 is left unacknowledged on purpose (skipped, failed): 1-2 go as a run, 4-6 alone.
    for (const tag of [1, 2, 4, 5, 6]) acks.ack(tag);
    await turn();
    expect(c.frames).toEqual([
      [2, true],
      [4, false],
      [5, false],
      [6, false],
    ]);
    expect([...c.outstanding]).toEqual([3]);
    // Later turns: still nothing covers 3.
    c.outstanding.add(7).add(8);
    acks.ack(8);
    acks.ack(7);
    await turn();
    expect(c.frames.slice(4)).toEqual([
      [7, false],
      [8, false],
    ]);
    expect([...c.outstanding]).toEqual([3]);
  });

  it('covers a nacked delivery and the ones acknowledged alone before, once the run reaches them', async () => {
    const c = recordingChannel(6);
    const acks = new ChannelAcks(c.channel, log);
    acks.ack(3);
    acks.ack(4);
    await turn();
    expect(c.frames).toEqual([
      [3, false],
      [4, false],
    ]);
    c.nack(2);
    acks.settled(2);
    acks.ack(1);
    acks.ack(5);
    await turn();
    // 1 .. 5 settled: one multiple ack at 5 (2 was nacked, 3 and 4 acknowledged already).
    expect(c.frames.slice(2)).toEqual([[5, true]]);
    expect([...c.outstanding]).toEqual([6]);
  });

  it('flush sends what was asked for at once (before a channel closes)', () => {
    const c = recordingChannel(3);
    const acks = new ChannelAcks(c.channel, log);
    acks.ack(1);
    acks.ack(2);
    acks.flush();
    expect(c.frames).toEqual([[2, true]]);
    acks.flush();
    expect(c.frames).toEqual([[2, true]]);
  });

  it('a closed channel is logged, not thrown', async () => {
    const c = recordingChannel(2);
    const acks = new ChannelAcks(c.channel, log);
    c.close();
    acks.ack(1);
    await turn();
    expect(c.frames).toEqual([]);
  });

  it('stops batching (every ack alone) once too many settled tags wait above an unsettled one', async () => {
    const delivered = 4_200;
    const c = recordingChannel(delivered);
    const acks = new ChannelAcks(c.channel, log);
    for (let tag = 2; tag <= 4_100; tag++) acks.ack(tag);
    await turn();
    expect(c.frames.every(([, multiple]) => !multiple)).toBe(true);
    acks.ack(1);
    acks.ack(4_101);
    acks.ack(4_102);
    await turn();
    expect(c.frames.slice(-3)).toEqual([
      [1, false],
      [4_101, false],
      [4_102, false],
    ]);
    expect(c.outstanding.size).toBe(delivered - 4_102);
  });
});
