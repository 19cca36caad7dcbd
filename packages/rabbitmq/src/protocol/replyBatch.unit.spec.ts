import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '@troupe/runtime/store';
import { type ReplyMessage, busFrameFormat, busProtocolVersion, decodeReplyBatch, encodeReply, encodeReplyBatch } from './messages.js';

const accepted = (commandId: string): ReplyMessage => ({ v: busProtocolVersion, status: 'accepted', commandId, version: { r1: 3 }, events: [{ id: 'e1', type: 'added', data: { by: 1 } }] as never, duplicate: false });
const rejected = (commandId: string): ReplyMessage => ({ v: busProtocolVersion, status: 'rejected', commandId, reason: 'no ✓' });
const failed = (commandId: string): ReplyMessage => ({ v: busProtocolVersion, status: 'failed', commandId, code: 'ACTOR_FAILED', message: 'boom' });

describe('reply batches', () => {
  it('decode to the replies encoded, each with its correlation id, whatever the ids and the count', () => {
    for (const count of [1, 2, 15, 16, 300, 70_000]) {
      const replies = Array.from({ length: count }, (_, i) => {
        const correlationId = ['c', 'x'.repeat(31), 'y'.repeat(32), 'z'.repeat(255), 'ü'.repeat(200)][i % 5]! + i;
        const reply = [accepted, rejected, failed][i % 3]!(`cmd-${i}`);
        return { correlationId, reply };
      });
      const bytes = encodeReplyBatch(replies.map(({ correlationId, reply }) => ({ correlationId, bytes: encodeReply(reply) })));
      expect(bytes[0]).toBe(busFrameFormat);
      // The same value the codec would encode: an array of [correlationId, reply] pairs.
      expect(decodeValue(bytes, 'batch')).toEqual(replies.map(({ correlationId, reply }) => [correlationId, reply]));
      expect(decodeReplyBatch(bytes)).toEqual(replies);
    }
  });

  it('leave out what is not a reply, and refuse what is not a batch', () => {
    const good = accepted('cmd-1');
    const mixed = encodeValue([['c1', good], ['c2', { v: 99, status: 'accepted', commandId: 'x' }], ['c3'], [4, good], 'junk', ['c5', failed('cmd-5')]]);
    expect(decodeReplyBatch(mixed)).toEqual([
      { correlationId: 'c1', reply: good },
      { correlationId: 'c5', reply: failed('cmd-5') },
    ]);
    expect(decodeReplyBatch(encodeValue({ v: 1 }))).toBeUndefined();
    expect(decodeReplyBatch(Buffer.from([9, 9, 9]))).toBeUndefined();
  });
});
