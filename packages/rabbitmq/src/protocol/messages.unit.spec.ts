import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { encodeValue } from '@troupe/runtime/store';
import { MalformedMessageError } from '../errors/index.js';
import { type CommandMessage, busFrameFormat, busProtocolVersion, decodeCommand, decodeReply, encodeCommand, encodeReply } from './messages.js';

const command: CommandMessage = { v: busProtocolVersion, type: 'counter', id: 'c1', command: 'add', payload: { by: 2 }, commandId: 'x.1', checkDuplicate: false };

describe('bus wire format', () => {
  it('frames every message with byte 1 and plain msgpack, whatever the store codec writes', () => {
    expect(busFrameFormat).toBe(1);
    expect(encodeCommand(command)[0]).toBe(1);
    expect(encodeReply({ v: busProtocolVersion, status: 'rejected', commandId: 'x.1', reason: 'no' })[0]).toBe(1);
  });

  it('is byte 1 then exactly the msgpack of the message, and earlier encodings stay intact', () => {
    const plain = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: true });
    const messages = Array.from({ length: 2_000 }, (_, i) => ({ ...command, id: `c${i}`, payload: { by: i, text: 'x'.repeat(i % 300) } }));
    const encoded = messages.map((m) => encodeCommand(m));
    for (const [i, m] of messages.entries()) expect(Buffer.compare(encoded[i]!, Buffer.concat([Buffer.from([1]), plain.pack(m)]))).toBe(0);
    const large = { ...command, payload: { blob: 'y'.repeat(100_000) } };
    expect(decodeCommand(encodeCommand(large))).toEqual(large);
  });

  it('round-trips commands and replies', () => {
    expect(decodeCommand(encodeCommand(command))).toEqual(command);
    const failed = { v: busProtocolVersion, status: 'failed', commandId: 'x.1', code: 'ACTOR_FAILED', message: 'boom' } as const;
    expect(decodeReply(encodeReply(failed))).toEqual(failed);
  });

  it("reads a command in the runtime codec's current value format too", () => {
    expect(decodeCommand(encodeValue(command))).toEqual(command);
  });

  it('refuses what is not a command of this version with MalformedMessageError', () => {
    for (const bytes of [Buffer.from([1]), Buffer.from([9, 1, 2]), encodeCommand({ ...command, v: 2 as 1 }), encodeCommand({ ...command, id: '' })]) {
      expect(() => decodeCommand(bytes)).toThrow(MalformedMessageError);
    }
    expect(decodeReply(Buffer.from([1, 0xc0]))).toBeUndefined();
  });
});
