import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { basicAck, basicProperties, basicPublish, encodeAck, encodePublish, fastFrames } from './frames.js';

// amqplib's own encoders, to compare bytes with.
const require = createRequire(import.meta.url);
const amqplibDir = dirname(require.resolve('amqplib'));
const defs = require(join(amqplibDir, 'lib/defs.js')) as {
  encodeMethod(method: number, channel: number, fields: object): Buffer;
  encodeProperties(id: number, channel: number, size: number, props: object): Buffer;
};
const { makeBodyFrame } = require(join(amqplibDir, 'lib/frame.js')) as { makeBodyFrame(channel: number, payload: Buffer): Buffer };
const Args = require(join(amqplibDir, 'lib/api_args.js')) as { publish(exchange: string, routingKey: string, options?: object): Record<string, unknown> };

function amqplibPublish(channel: number, exchange: string, routingKey: string, options: object, content: Buffer): Buffer {
  const fieldsAndProps = Args.publish(exchange, routingKey, options);
  const parts = [defs.encodeMethod(basicPublish, channel, fieldsAndProps), defs.encodeProperties(basicProperties, channel, content.length, fieldsAndProps)];
  if (content.length > 0) parts.push(makeBodyFrame(channel, content));
  return Buffer.concat(parts);
}

const samples: [string, string, object, Buffer][] = [
  ['troupe.commands', 'troupe.shard.3-of-16', { persistent: true, mandatory: true, replyTo: 'amq.rabbitmq.reply-to', correlationId: 'a1b2.r5', messageId: 'a1b2.7', contentType: 'application/x-troupe-msgpack' }, Buffer.from('command body')],
  ['', 'amq.rabbitmq.reply-to.g1h2AA5yZXBseUA2ODk1NzY4AAAL8gAAAABnNnX8', { correlationId: 'c'.repeat(255) }, Buffer.alloc(300, 7)],
  ['', 'q', {}, Buffer.alloc(0)],
  ['ex', 'rk', { persistent: false, priority: 9, expiration: 60_000, type: 'tÿpe ✓', userId: 'guest', appId: 'app', contentEncoding: 'gzip', deliveryMode: 2 }, Buffer.from([1, 2, 3])],
  ['ex', 'ünïcode ✓', { mandatory: false, messageId: 'm' }, Buffer.alloc(1_800, 1)],
];

describe('fast AMQP frames', () => {
  it('encode a publish to exactly the bytes amqplib writes', () => {
    for (const channel of [1, 17, 65_535]) {
      for (const [exchange, routingKey, options, content] of samples) {
        const expected = amqplibPublish(channel, exchange, routingKey, options, content);
        const fields = Args.publish(exchange, routingKey, options);
        const actual = encodePublish(channel, fields, fields, content);
        if (expected.length >= 2048) expect(actual).toBeUndefined();
        else expect(actual?.toString('hex')).toBe(expected.toString('hex'));
      }
    }
  });

  it("leave to amqplib what they do not handle: headers, timestamp, large messages, values amqplib refuses", () => {
    const body = Buffer.from('x');
    const refused: object[] = [
      { headers: { a: 1 } },
      { CC: 'other' },
      { timestamp: 1_700_000_000 },
      { correlationId: 'c'.repeat(256) },
      { priority: 256 },
      { priority: 1.5 },
      { messageId: 42 },
    ];
    for (const options of refused) {
      const fields = Args.publish('ex', 'rk', options);
      expect(encodePublish(1, fields, fields, body)).toBeUndefined();
    }
    const fields = Args.publish('ex', 'rk', {});
    expect(encodePublish(1, fields, fields, Buffer.alloc(2_100))).toBeUndefined();
    expect(encodePublish(1, { ...fields, exchange: null }, fields, body)).toBeUndefined();
    expect(encodePublish(1, { ...fields, immediate: true }, fields, body)).toBeUndefined();
  });

  it('encode an ack to exactly the bytes amqplib writes', () => {
    for (const [deliveryTag, multiple] of [
      [1, false],
      [65_536, true],
      [2 ** 40 + 5, false],
      [Number.MAX_SAFE_INTEGER, true],
    ] as const) {
      expect(encodeAck(3, { deliveryTag, multiple })?.toString('hex')).toBe(defs.encodeMethod(basicAck, 3, { deliveryTag, multiple }).toString('hex'));
    }
    expect(encodeAck(3, { deliveryTag: 1.5, multiple: false })).toBeUndefined();
  });

  it('route publishes and acks through the channel buffer, everything else to amqplib', () => {
    const written: Buffer[] = [];
    const calls: string[] = [];
    const connection = {
      channels: [undefined, { buffer: { write: (chunk: Buffer) => (written.push(chunk), true) } }],
      sentSinceLastCheck: false,
      sendMessage: () => (calls.push('sendMessage'), true),
      sendMethod: () => (calls.push('sendMethod'), true),
    };
    expect(fastFrames({ connection })).toBe(true);
    const c = connection as unknown as { sendMessage: (...args: unknown[]) => boolean; sendMethod: (...args: unknown[]) => boolean };
    const fields = Args.publish('ex', 'rk', { persistent: true });
    expect(c.sendMessage(1, basicPublish, fields, basicProperties, fields, Buffer.from('x'))).toBe(true);
    expect(c.sendMethod(1, basicAck, { deliveryTag: 4, multiple: true })).toBe(true);
    expect(written.map((b) => b.toString('hex'))).toEqual([amqplibPublish(1, 'ex', 'rk', { persistent: true }, Buffer.from('x')).toString('hex'), defs.encodeMethod(basicAck, 1, { deliveryTag: 4, multiple: true }).toString('hex')]);
    expect(connection.sentSinceLastCheck).toBe(true);
    const headers = Args.publish('ex', 'rk', { headers: { h: 1 } });
    c.sendMessage(1, basicPublish, headers, basicProperties, headers, Buffer.from('x'));
    c.sendMethod(1, 3932250, { deliveryTag: 4, multiple: false, requeue: false });
    expect(calls).toEqual(['sendMessage', 'sendMethod']);
    expect(fastFrames({})).toBe(false);
  });
});
