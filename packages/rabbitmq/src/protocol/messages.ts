import { Packr, RESERVE_START_SPACE } from 'msgpackr';
import type { EventRecord, VectorClock } from '@troupe/runtime';
import { decodeValue } from '@troupe/runtime/store';
import { MalformedMessageError } from '../errors/index.js';
import { type BusReply, type Replicas, type ReplicationReport, isReplicas, isReplicasTimeout, isReplicationReport, replicasMax, replicasTimeoutMsMax } from './replication.js';

/** Wire format version of bus messages (the first byte is the codec's format byte). */
export const busProtocolVersion = 1;

/** A command as it travels from a client to a worker (msgpack, behind the codec's format byte). */
export interface CommandMessage {
  readonly v: typeof busProtocolVersion;
  readonly type: string;
  readonly id: string;
  readonly command: string;
  readonly payload: unknown;
  readonly commandId: string;
  /**
   * False only when the client generated the id and this is its first publish: the worker then
   * skips the duplicate lookup unless the broker marks the message redelivered.
   */
  readonly checkDuplicate: boolean;
  readonly correlationId?: string;
  readonly initiatedBy?: string;
  /**
   * Reply only once this many regions (this one included), or 'all' the declared ones, hold the
   * command's pack, or `replicasTimeoutMs` has passed (the reply then says it was not confirmed).
   */
  readonly replicas?: Replicas;
  /** How long the worker waits for `replicas`, ms; present exactly when `replicas` is. */
  readonly replicasTimeoutMs?: number;
  /**
   * True when the client reads reply batches (`replyBatchType`): the worker may then answer this
   * command together with others of the same client in one message. Workers that predate it
   * ignore it and answer one by one.
   */
  readonly batchReplies?: boolean;
}

/** A worker's answer: the runtime's reply, or why the command could not be executed. */
export type ReplyMessage =
  | ({ readonly v: typeof busProtocolVersion } & BusReply)
  | { readonly v: typeof busProtocolVersion; readonly status: 'failed'; readonly commandId: string; readonly code: string; readonly message: string };

/**
 * First byte of every bus message: 1, the runtime codec's plain msgpack format, then the msgpack
 * body (the same packer options as the codec). Pinned here instead of following the codec's
 * current record format (which may add a checksum or change layout for stored records): the bus
 * has its own version, `busProtocolVersion`; a rolling upgrade must not make workers of the
 * previous release dead-letter the new clients' commands; other-language clients stay simple; and
 * AMQP over TCP needs no record checksum. Reading goes through the codec, which reads format 1.
 */
export const busFrameFormat = 1;

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: true });

/**
 * The format byte, then the msgpack body, packed straight behind a byte msgpackr reserves at the
 * start (no second buffer and copy per message). The result is a view of msgpackr's buffer, which
 * later packs never write over.
 */
function encodeFrame(value: unknown): Buffer {
  const out = packr.pack(value, RESERVE_START_SPACE | 1);
  out[0] = busFrameFormat;
  return out;
}

export function encodeCommand(message: CommandMessage): Buffer {
  return encodeFrame(message);
}

export function encodeReply(message: ReplyMessage): Buffer {
  return encodeFrame(message);
}

const isText = (value: unknown, max = 256): value is string => typeof value === 'string' && value.length > 0 && value.length <= max;

/** Decodes and checks a command message; throws MalformedMessageError naming what is wrong. */
export function decodeCommand(bytes: Uint8Array): CommandMessage {
  let value: unknown;
  try {
    value = decodeValue(bytes, 'command message');
  } catch (error) {
    throw new MalformedMessageError((error as Error).message);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedMessageError('a command message must be a msgpack map');
  const m = value as Record<string, unknown>;
  if (m.v !== busProtocolVersion) throw new MalformedMessageError(`unknown bus protocol version ${String(m.v)} (this worker reads ${busProtocolVersion})`);
  for (const field of ['type', 'id', 'command', 'commandId'] as const) {
    if (!isText(m[field])) throw new MalformedMessageError(`field '${field}' must be a string of 1-256 characters`);
  }
  if (typeof m.checkDuplicate !== 'boolean') throw new MalformedMessageError("field 'checkDuplicate' must be a boolean");
  for (const field of ['correlationId', 'initiatedBy'] as const) {
    if (m[field] !== undefined && !isText(m[field])) throw new MalformedMessageError(`field '${field}' must be a string of 1-256 characters when present`);
  }
  if (m.replicas !== undefined && !isReplicas(m.replicas)) throw new MalformedMessageError(`field 'replicas' must be 'all' or an integer in 1..${replicasMax} when present`);
  if (m.replicas === undefined ? m.replicasTimeoutMs !== undefined : !isReplicasTimeout(m.replicasTimeoutMs)) {
    throw new MalformedMessageError(`field 'replicasTimeoutMs' must be an integer in 1..${replicasTimeoutMsMax}, present exactly when 'replicas' is`);
  }
  if (m.batchReplies !== undefined && typeof m.batchReplies !== 'boolean') throw new MalformedMessageError("field 'batchReplies' must be a boolean when present");
  return m as unknown as CommandMessage;
}

/** Decodes a reply; undefined when it is not one (the client then ignores it). */
export function decodeReply(bytes: Uint8Array): ReplyMessage | undefined {
  let value: unknown;
  try {
    value = decodeValue(bytes, 'reply message');
  } catch {
    return undefined;
  }
  return asReply(value);
}

/** `value` when it is a reply, else undefined. */
function asReply(value: unknown): ReplyMessage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as { v?: unknown; status?: unknown; commandId?: unknown };
  if (m.v !== busProtocolVersion || typeof m.commandId !== 'string') return undefined;
  if (m.status !== 'accepted' && m.status !== 'rejected' && m.status !== 'failed') return undefined;
  return value as ReplyMessage;
}

/**
 * The AMQP `type` of a message holding several replies to one client (to commands that said
 * `batchReplies`): one message instead of one per command costs the broker one publish and one
 * delivery for all of them (measured: a reply per message added ~22-27 µs of broker CPU per
 * command, batched replies ~5). A message without this type holds one reply, its correlation id
 * in the message's properties.
 */
export const replyBatchType = 'troupe.replies';

/** One reply of a batch: the command's correlation id, and the reply as `encodeReply` made it. */
export interface EncodedReply {
  readonly correlationId: string;
  readonly bytes: Buffer;
}

/**
 * A reply batch: the format byte, then a msgpack array of `[correlationId, reply]` pairs, each
 * reply the msgpack of `encodeReply` (written as it is, not encoded again).
 */
export function encodeReplyBatch(replies: readonly EncodedReply[]): Buffer {
  let size = 1 + 5;
  const ids: Buffer[] = [];
  for (const { correlationId, bytes } of replies) {
    const id = Buffer.from(correlationId, 'utf8');
    ids.push(id);
    size += 1 + 3 + id.length + bytes.length - 1;
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  out[at++] = busFrameFormat;
  at = arrayHeader(out, at, replies.length);
  for (let i = 0; i < replies.length; i++) {
    out[at++] = 0x92; // fixarray of 2
    const id = ids[i]!;
    if (id.length < 32) out[at++] = 0xa0 | id.length;
    else if (id.length < 256) {
      out[at++] = 0xd9;
      out[at++] = id.length;
    } else {
      out[at++] = 0xda;
      out.writeUInt16BE(id.length, at);
      at += 2;
    }
    at += id.copy(out, at);
    const bytes = replies[i]!.bytes;
    at += bytes.copy(out, at, 1);
  }
  return out.subarray(0, at);
}

function arrayHeader(out: Buffer, at: number, length: number): number {
  if (length < 16) {
    out[at] = 0x90 | length;
    return at + 1;
  }
  if (length < 0x10000) {
    out[at] = 0xdc;
    out.writeUInt16BE(length, at + 1);
    return at + 3;
  }
  out[at] = 0xdd;
  out.writeUInt32BE(length, at + 1);
  return at + 5;
}

/** Decodes a reply batch; undefined when it is not one. A pair that is not a reply is left out. */
export function decodeReplyBatch(bytes: Uint8Array): { readonly correlationId: string; readonly reply: ReplyMessage }[] | undefined {
  let value: unknown;
  try {
    value = decodeValue(bytes, 'reply batch');
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  const replies: { correlationId: string; reply: ReplyMessage }[] = [];
  for (const pair of value as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string') continue;
    const reply = asReply(pair[1]);
    if (reply) replies.push({ correlationId: pair[0], reply });
  }
  return replies;
}

/**
 * The reply a client hands its caller: the runtime's reply without the wire version, with the
 * worker's replication report when it sent a well-formed one.
 */
export function toCommandReply(reply: ReplyMessage & { status: 'accepted' | 'rejected' }): BusReply {
  if (reply.status === 'rejected') return { status: 'rejected', commandId: reply.commandId, reason: reply.reason };
  const replication: unknown = reply.replication;
  return {
    status: 'accepted',
    commandId: reply.commandId,
    version: reply.version as VectorClock,
    events: reply.events as readonly EventRecord[],
    duplicate: reply.duplicate,
    ...(isReplicationReport(replication) ? { replication: replication as ReplicationReport } : {}),
  };
}
