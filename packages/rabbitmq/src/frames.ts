/**
 * The AMQP frames the bus sends most (a small `basic.publish` with its header and body frames, and
 * `basic.ack`), written into one pooled buffer instead of amqplib's one zero-filled `Buffer.alloc`
 * per frame. Those are off-heap allocations of their own (above 64 bytes), three per message plus
 * one per ack: in a profile of the bus at 1,000 commands in flight, ~0.2 s of 3.4 s of CPU went
 * to creating them, and more to collecting them. The bytes are exactly amqplib's (a unit test
 * compares them); anything outside the cases handled here (headers, a timestamp, a cluster id, a
 * message of `singleChunkMax` bytes or more, a value amqplib would refuse) is left to amqplib.
 */

/** `basic.publish` (class 60, method 40), `basic.ack` (60, 80), basic properties (class 60): amqplib's ids. */
export const basicPublish = 3932200;
export const basicAck = 3932240;
export const basicProperties = 60;

const frameMethod = 1;
const frameHeader = 2;
const frameBody = 3;
const frameEnd = 206;
/** Frame type, channel, size before the payload; the end octet after it. */
const frameOverhead = 8;
/** amqplib writes a message in one piece below this size (its SINGLE_CHUNK_THRESHOLD); so does this. */
export const singleChunkMax = 2048;

/** The short-string properties and their flag bits, in the order AMQP writes them. */
const shortStringBefore = [
  ['contentType', 0x8000],
  ['contentEncoding', 0x4000],
] as const;
const shortStringAfter = [
  ['correlationId', 0x0400],
  ['replyTo', 0x0200],
  ['expiration', 0x0100],
  ['messageId', 0x0080],
] as const;
const shortStringLast = [
  ['type', 0x0020],
  ['userId', 0x0010],
  ['appId', 0x0008],
] as const;

const shortStrings = [...shortStringBefore, ...shortStringAfter, ...shortStringLast];

type Fields = Readonly<Record<string, unknown>>;

/** Big-endian writes without Buffer's argument checks (every offset here is within the buffer). */
function put16(out: Buffer, offset: number, value: number): void {
  out[offset] = value >>> 8;
  out[offset + 1] = value & 0xff;
}

function put32(out: Buffer, offset: number, value: number): void {
  out[offset] = value >>> 24;
  out[offset + 1] = (value >>> 16) & 0xff;
  out[offset + 2] = (value >>> 8) & 0xff;
  out[offset + 3] = value & 0xff;
}

/** A short string (its length checked by `shortLength`): length octet, UTF-8 bytes; the offset after it. */
function putShortString(out: Buffer, offset: number, value: string): number {
  const written = out.write(value, offset + 1, 'utf8');
  out[offset] = written;
  return offset + 1 + written;
}

/** Byte length of a short string, or -1 when amqplib would refuse it (not a string, 256 bytes or more). */
function shortLength(value: unknown): number {
  if (typeof value !== 'string') return -1;
  const length = Buffer.byteLength(value, 'utf8');
  return length < 256 ? length : -1;
}

const isOctet = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 255;

/** True when `headers` encodes as an empty table (amqplib always sends one: its Args.publish makes an object). */
function emptyTable(headers: unknown): boolean {
  if (headers === undefined || headers === null) return true;
  if (typeof headers !== 'object') return false;
  for (const _ in headers) return false;
  return true;
}

/**
 * The method, header and body frames of a `basic.publish` on `channel`, in one buffer; undefined
 * when this case is amqplib's to handle.
 */
export function encodePublish(channel: number, fields: Fields, props: Fields, content: Buffer): Buffer | undefined {
  if (fields.ticket !== undefined || fields.immediate) return undefined;
  const exchange = fields.exchange === undefined ? '' : fields.exchange;
  const routingKey = fields.routingKey === undefined ? '' : fields.routingKey;
  const exchangeLength = shortLength(exchange);
  const routingKeyLength = shortLength(routingKey);
  if (exchangeLength < 0 || routingKeyLength < 0) return undefined;
  if (props.timestamp != null || props.clusterId != null || !emptyTable(props.headers)) return undefined;
  // Header payload: class, weight, body size, flags (14), the properties.
  let propsLength = 0;
  for (const [name] of shortStrings) {
    const value = props[name];
    if (value == null) continue;
    const length = shortLength(value);
    if (length < 0) return undefined;
    propsLength += 1 + length;
  }
  if (props.headers != null) propsLength += 4;
  for (const name of ['deliveryMode', 'priority'] as const) {
    const value = props[name];
    if (value == null) continue;
    if (!isOctet(value)) return undefined;
    propsLength += 1;
  }
  const methodLength = frameOverhead + 4 + 2 + 1 + exchangeLength + 1 + routingKeyLength + 1;
  const headerLength = frameOverhead + 14 + propsLength;
  const bodyLength = content.length > 0 ? frameOverhead + content.length : 0;
  const total = methodLength + headerLength + bodyLength;
  if (total >= singleChunkMax) return undefined;

  const out = Buffer.allocUnsafe(total);
  // Method frame.
  out[0] = frameMethod;
  put16(out, 1, channel);
  put32(out, 3, methodLength - frameOverhead);
  put32(out, 7, basicPublish);
  put16(out, 11, 0);
  let offset = 13;
  out[offset++] = exchangeLength;
  offset += out.write(exchange as string, offset, 'utf8');
  out[offset++] = routingKeyLength;
  offset += out.write(routingKey as string, offset, 'utf8');
  out[offset++] = fields.mandatory ? 1 : 0;
  out[offset++] = frameEnd;
  // Header frame: class, weight, body size as a 64-bit integer (a message here is below 2 KiB), flags.
  const header = offset;
  out[offset] = frameHeader;
  put16(out, offset + 1, channel);
  put32(out, offset + 3, headerLength - frameOverhead);
  put16(out, offset + 7, basicProperties);
  put16(out, offset + 9, 0);
  put32(out, offset + 11, 0);
  put32(out, offset + 15, content.length);
  offset += 21;
  let flags = 0;
  for (const [name, flag] of shortStringBefore) {
    const value = props[name];
    if (value == null) continue;
    flags |= flag;
    offset = putShortString(out, offset, value as string);
  }
  if (props.headers != null) {
    flags |= 0x2000;
    put32(out, offset, 0);
    offset += 4;
  }
  if (props.deliveryMode != null) {
    flags |= 0x1000;
    out[offset++] = props.deliveryMode as number;
  }
  if (props.priority != null) {
    flags |= 0x0800;
    out[offset++] = props.priority as number;
  }
  for (const [name, flag] of shortStringAfter) {
    const value = props[name];
    if (value == null) continue;
    flags |= flag;
    offset = putShortString(out, offset, value as string);
  }
  for (const [name, flag] of shortStringLast) {
    const value = props[name];
    if (value == null) continue;
    flags |= flag;
    offset = putShortString(out, offset, value as string);
  }
  put16(out, header + 19, flags);
  out[offset++] = frameEnd;
  // Body frame.
  if (content.length > 0) {
    out[offset] = frameBody;
    put16(out, offset + 1, channel);
    put32(out, offset + 3, content.length);
    offset += 7;
    offset += content.copy(out, offset);
    out[offset++] = frameEnd;
  }
  return out;
}

/** A `basic.ack` frame on `channel`; undefined when the tag is not a safe integer (amqplib's case). */
export function encodeAck(channel: number, fields: Fields): Buffer | undefined {
  const tag = fields.deliveryTag === undefined ? 0 : fields.deliveryTag;
  if (typeof tag !== 'number' || !Number.isSafeInteger(tag) || tag < 0) return undefined;
  const out = Buffer.allocUnsafe(21);
  out[0] = frameMethod;
  put16(out, 1, channel);
  put32(out, 3, 13);
  put32(out, 7, basicAck);
  put32(out, 11, Math.floor(tag / 0x1_0000_0000));
  put32(out, 15, tag >>> 0);
  out[19] = fields.multiple ? 1 : 0;
  out[20] = frameEnd;
  return out;
}

interface ConnectionInternals {
  sendMessage?: (channel: number, method: number, fields: Fields, properties: number, props: Fields, content: Buffer) => boolean;
  sendMethod?: (channel: number, method: number, fields: Fields) => boolean;
  channels?: ({ buffer?: { write(chunk: Buffer): boolean } } | undefined)[];
  sentSinceLastCheck?: boolean;
}

/**
 * Makes amqplib's connection under `model` write small publishes and acks with `encodePublish`
 * and `encodeAck` (same bytes, same channel buffer, same return value). Uses amqplib internals
 * (`connection.sendMessage`, `sendMethod`, `channels[n].buffer`); when they are not there it does
 * nothing and returns false.
 */
export function fastFrames(model: unknown): boolean {
  const connection = (model as { connection?: ConnectionInternals } | undefined)?.connection;
  const sendMessage = connection?.sendMessage;
  const sendMethod = connection?.sendMethod;
  if (!connection || typeof sendMessage !== 'function' || typeof sendMethod !== 'function' || !Array.isArray(connection.channels)) return false;
  const bufferOf = (channel: number) => connection.channels?.[channel]?.buffer;
  connection.sendMessage = function fastSendMessage(this: ConnectionInternals, channel, method, fields, properties, props, content) {
    const buffer = method === basicPublish && properties === basicProperties && Buffer.isBuffer(content) ? bufferOf(channel) : undefined;
    const frames = buffer ? encodePublish(channel, fields, props, content) : undefined;
    if (!buffer || !frames) return sendMessage.call(this, channel, method, fields, properties, props, content);
    this.sentSinceLastCheck = true;
    return buffer.write(frames);
  };
  connection.sendMethod = function fastSendMethod(this: ConnectionInternals, channel, method, fields) {
    const buffer = method === basicAck ? bufferOf(channel) : undefined;
    const frame = buffer ? encodeAck(channel, fields) : undefined;
    if (!buffer || !frame) return sendMethod.call(this, channel, method, fields);
    this.sentSinceLastCheck = true;
    return buffer.write(frame);
  };
  return true;
}
