import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fastIncoming } from './incoming.js';

// amqplib's own connection, channel and encoders: the same bytes go through an unchanged
// connection and through one with `fastIncoming`, and what the consumers get must be the same.
const require = createRequire(import.meta.url);
const amqplibDir = dirname(require.resolve('amqplib'));
const defs = require(join(amqplibDir, 'lib/defs.js')) as {
  BasicDeliver: number;
  BasicAck: number;
  BasicProperties: number;
  encodeMethod(method: number, channel: number, fields: object): Buffer;
  encodeProperties(id: number, channel: number, size: number, props: object): Buffer;
};
const { makeBodyFrame, HEARTBEAT_BUF } = require(join(amqplibDir, 'lib/frame.js')) as { makeBodyFrame(channel: number, payload: Buffer): Buffer; HEARTBEAT_BUF: Buffer };
const { Connection } = require(join(amqplibDir, 'lib/connection.js')) as { Connection: new (stream: Duplex) => AmqplibConnection };
const { Channel } = require(join(amqplibDir, 'lib/channel_model.js')) as { Channel: new (connection: AmqplibConnection) => AmqplibChannel };

interface AmqplibConnection {
  accept: (frame: { channel: number }) => unknown;
  channels: ({ channel: { accept(frame: unknown): unknown } } | null)[];
  recvFrame(): unknown;
  acceptLoop(): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
}

interface AmqplibChannel {
  ch: number;
  allocate(): AmqplibChannel;
  registerConsumer(tag: string, callback: (message: unknown) => void): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
}

/** amqplib's `mainAccept` (not exported): a frame goes to its channel. */
function mainAccept(this: AmqplibConnection, frame: { channel: number }): unknown {
  const record = this.channels[frame.channel];
  if (!record) throw new Error(`frame on unknown channel ${frame.channel}`);
  return record.channel.accept(frame);
}

/** What a consumer or a channel saw, in a form that keeps key order, undefined values and bytes. */
function dump(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === undefined) return '<undefined>';
    if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) return `<bytes ${Buffer.from((v as { data: number[] }).data).toString('hex')}>`;
    return v;
  });
}

/** An amqplib connection over a fake socket, opened (main accept), two channels consuming with tag 'c1' / 'c2'. */
function open(fast: boolean, throwOn?: string, onMessage?: (connection: AmqplibConnection, messageId: string | undefined) => void) {
  const socket = new Duplex({
    read() {},
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
  const connection = new Connection(socket);
  connection.accept = mainAccept;
  const seen: string[] = [];
  const originalCalls = { count: 0 };
  const original = connection.recvFrame;
  connection.recvFrame = function counted(this: AmqplibConnection) {
    originalCalls.count++;
    return original.call(this);
  };
  connection.on('frameError', (error) => seen.push(`frameError ${(error as Error).message}`));
  for (const tag of ['c1', 'c2']) {
    const channel = new Channel(connection).allocate();
    channel.registerConsumer(tag, (message) => {
      seen.push(`${channel.ch} delivery ${dump(message)}`);
      const id = (message as { properties: { messageId?: string } }).properties.messageId;
      onMessage?.(connection, id);
      if (throwOn !== undefined && id === throwOn) throw new Error('consumer failed');
    });
    channel.on('ack', (fields) => seen.push(`${channel.ch} ack ${dump(fields)}`));
    channel.on('error', (error) => seen.push(`${channel.ch} error ${(error as Error).message}`));
  }
  if (fast) expect(fastIncoming({ connection })).toBe(true);
  connection.acceptLoop();
  return { socket, seen, originalCalls };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

function deliver(channel: number, tag: string, deliveryTag: number, props: object, content: Buffer, options: { redelivered?: boolean; exchange?: string; routingKey?: string; bodyFrames?: number } = {}): Buffer {
  const parts = [
    defs.encodeMethod(defs.BasicDeliver, channel, { consumerTag: tag, deliveryTag, redelivered: options.redelivered ?? false, exchange: options.exchange ?? 'troupe.commands', routingKey: options.routingKey ?? 'troupe.shard.3-of-16' }),
    defs.encodeProperties(defs.BasicProperties, channel, content.length, props),
  ];
  const frames = options.bodyFrames ?? 1;
  const step = Math.ceil(content.length / frames);
  for (let at = 0; at < content.length; at += step) parts.push(makeBodyFrame(channel, content.subarray(at, at + step)));
  return Buffer.concat(parts);
}

const commandProps = { headers: {}, deliveryMode: 2, replyTo: 'amq.rabbitmq.reply-to.g1h2AA5yZXBseUA2ODk1NzY4AAAL8gAAAABnNnX8', correlationId: 'a1b2.r5', messageId: 'm1', contentType: 'application/x-troupe-msgpack' };

/** A stream with what the bus receives (deliveries, confirms, heartbeats) and what is left to amqplib. */
function sampleStream(): Buffer {
  const body = Buffer.from('command body');
  return Buffer.concat([
    deliver(1, 'c1', 1, commandProps, body),
    deliver(1, 'c1', 2, { ...commandProps, messageId: 'm2', correlationId: 'a1b2.r6' }, body, { redelivered: true }),
    defs.encodeMethod(defs.BasicAck, 2, { deliveryTag: 7, multiple: true }),
    deliver(2, 'c2', 1, { correlationId: 'x' }, Buffer.from([1, 2, 3]), { exchange: '', routingKey: 'amq.rabbitmq.reply-to.abc' }),
    HEARTBEAT_BUF,
    // Every property, a timestamp, unicode.
    deliver(1, 'c1', 3, { contentType: 'tÿpe ✓', contentEncoding: 'gzip', headers: {}, deliveryMode: 1, priority: 9, correlationId: 'c'.repeat(255), replyTo: 'r', expiration: '60000', messageId: 'm3', timestamp: 1_700_000_000, type: 't', userId: 'guest', appId: 'app', clusterId: 'cl' }, Buffer.alloc(300, 7), { routingKey: 'ünïcode ✓' }),
    // Left to amqplib: headers with values, no properties, an empty body, a body in three frames.
    deliver(2, 'c2', 2, { headers: { 'x-death': [{ count: 1, reason: 'rejected' }], 'x-first-death-reason': 'rejected' }, messageId: 'm4' }, Buffer.from('dead')),
    deliver(1, 'c1', 4, {}, Buffer.from('bare')),
    deliver(1, 'c1', 5, { messageId: 'm5' }, Buffer.alloc(0)),
    deliver(2, 'c2', 3, { messageId: 'm6' }, Buffer.alloc(100, 3), { bodyFrames: 3 }),
    defs.encodeMethod(defs.BasicAck, 1, { deliveryTag: 2 ** 40 + 5, multiple: false }),
    deliver(1, 'c1', 2 ** 45, commandProps, body),
  ]);
}

async function feed(socket: Duplex, chunks: Buffer[]): Promise<void> {
  for (const chunk of chunks) {
    socket.push(chunk);
    await turn();
  }
}

describe('fast incoming deliveries', () => {
  it('hand consumers exactly what amqplib does, however the bytes are cut into reads', async () => {
    const stream = sampleStream();
    const cuts: number[][] = [[], [1], [7], [stream.length - 1]];
    for (let at = 3; at < stream.length; at += 37) cuts.push([at]);
    for (let at = 5; at < stream.length - 200; at += 211) cuts.push([at, at + 50, at + 51, at + 180]);
    for (const cut of cuts) {
      const chunks = [0, ...cut, stream.length].slice(1).map((end, i, ends) => stream.subarray(i === 0 ? 0 : ends[i - 1], end));
      const reference = open(false);
      const fast = open(true);
      await feed(reference.socket, chunks);
      await feed(fast.socket, chunks);
      expect(reference.seen.length).toBe(11);
      expect(fast.seen).toEqual(reference.seen);
    }
  });

  it('interleaved channels and frames left over between reads still come in order', async () => {
    const a = deliver(1, 'c1', 1, commandProps, Buffer.from('a'));
    const b = deliver(2, 'c2', 1, commandProps, Buffer.from('b'));
    // b's method frame between a's header and body: neither delivery is whole in one run of frames.
    const methodA = 8 + a.readUInt32BE(3);
    const headerA = methodA + 8 + a.readUInt32BE(methodA + 3);
    const methodB = 8 + b.readUInt32BE(3);
    const stream = Buffer.concat([a.subarray(0, headerA), b.subarray(0, methodB), a.subarray(headerA), b.subarray(methodB), a]);
    const reference = open(false);
    const fast = open(true);
    await feed(reference.socket, [stream]);
    await feed(fast.socket, [stream]);
    expect(reference.seen.length).toBe(3);
    expect(fast.seen).toEqual(reference.seen);
  });

  it('take whole deliveries and acks without amqplib, and give it what they leave', async () => {
    const body = Buffer.from('command body');
    const plain = Buffer.concat(Array.from({ length: 10 }, (_, i) => [deliver(1 + (i % 2), `c${1 + (i % 2)}`, 1 + i, { ...commandProps, messageId: `m${i}` }, body), defs.encodeMethod(defs.BasicAck, 1, { deliveryTag: i + 1, multiple: false })]).flat());
    const fast = open(true);
    await feed(fast.socket, [plain]);
    expect(fast.seen.length).toBe(20);
    expect(fast.originalCalls.count).toBe(0);
    // A delivery cut in the middle of its body: read on, still taken whole.
    const cutShort = open(true);
    await feed(cutShort.socket, [plain.subarray(0, 150), plain.subarray(150)]);
    expect(cutShort.seen).toEqual(fast.seen);
    expect(cutShort.originalCalls.count).toBe(0);
    const dead = open(true);
    await feed(dead.socket, [deliver(1, 'c1', 1, { headers: { 'x-death': [] } }, body)]);
    expect(dead.seen.length).toBe(1);
    expect(dead.originalCalls.count).toBeGreaterThan(0);
  });

  it('close the channel of a consumer that throws, as amqplib does, and hand it nothing after', async () => {
    const body = Buffer.from('x');
    const stream = Buffer.concat([deliver(1, 'c1', 1, { messageId: 'ok' }, body), deliver(1, 'c1', 2, { messageId: 'boom' }, body), deliver(1, 'c1', 3, { messageId: 'after' }, body), deliver(2, 'c2', 1, { messageId: 'other' }, body)]);
    const reference = open(false, 'boom');
    const fast = open(true, 'boom');
    await feed(reference.socket, [stream]);
    await feed(fast.socket, [stream]);
    expect(reference.seen.length).toBe(3);
    expect(fast.seen).toEqual(reference.seen);
  });

  it('leave to amqplib, with the same outcome, a delivery to a cancelled consumer, an unknown channel, a closing channel or connection', async () => {
    const body = Buffer.from('x');
    // A consumer tag no consumer has (cancelled): amqplib closes the channel ('Unknown consumer').
    const cancelled = Buffer.concat([deliver(1, 'gone', 1, { messageId: 'm1' }, body), deliver(1, 'c1', 2, { messageId: 'm2' }, body), deliver(2, 'c2', 1, { messageId: 'm3' }, body)]);
    // A channel amqplib does not know: a frame error.
    const unknown = Buffer.concat([deliver(2, 'c2', 1, { messageId: 'm1' }, body), deliver(5, 'c5', 1, { messageId: 'm2' }, body), deliver(2, 'c2', 2, { messageId: 'm3' }, body)]);
    // Seen: the cancelled case, only channel 2's delivery (channel 1 is closing, its error comes
    // with the broker's close-ok); the unknown channel, the delivery before it and the frame error.
    for (const [stream, count] of [[cancelled, 1], [unknown, 2]] as const) {
      const reference = open(false);
      const fast = open(true);
      await feed(reference.socket, [stream]);
      await feed(fast.socket, [stream]);
      expect(reference.seen.length).toBe(count);
      expect(fast.seen).toEqual(reference.seen);
    }
    // The connection starts closing while a read's deliveries are handed on: amqplib's closing
    // accept ignores the rest, so no consumer may see them (the fast path must not bypass it).
    const closing = Buffer.concat([deliver(1, 'c1', 1, { messageId: 'm1' }, body), deliver(2, 'c2', 1, { messageId: 'close' }, body), deliver(1, 'c1', 2, { messageId: 'm3' }, body), defs.encodeMethod(defs.BasicAck, 2, { deliveryTag: 1, multiple: false })]);
    const closeOn = (connection: AmqplibConnection, id: string | undefined) => {
      if (id === 'close') connection.accept = function closingAccept() {};
    };
    const reference = open(false, undefined, closeOn);
    const fast = open(true, undefined, closeOn);
    await feed(reference.socket, [closing]);
    await feed(fast.socket, [closing]);
    expect(reference.seen.length).toBe(2);
    expect(fast.seen).toEqual(reference.seen);
  });

  it('refuse a connection without the internals they rely on, or not open yet', () => {
    expect(fastIncoming(undefined)).toBe(false);
    expect(fastIncoming({})).toBe(false);
    expect(fastIncoming({ connection: { recvFrame() {} } })).toBe(false);
    const socket = new Duplex({ read() {}, write(_c, _e, callback) { callback(); } });
    const opening = new Connection(socket);
    expect(fastIncoming({ connection: opening })).toBe(false);
  });
});
