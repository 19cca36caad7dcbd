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
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as { v?: unknown; status?: unknown; commandId?: unknown };
  if (m.v !== busProtocolVersion || typeof m.commandId !== 'string') return undefined;
  if (m.status !== 'accepted' && m.status !== 'rejected' && m.status !== 'failed') return undefined;
  return value as ReplyMessage;
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
