import { crc32 } from 'node:zlib';
import { Packr } from 'msgpackr';
import { CorruptDataError } from '../errors/index.js';
import type { ActorRef, EventRecord, Pack } from '../model/index.js';
import type { VectorClock } from '../vectorClock/index.js';

/**
 * First byte of every encoded record: the layout of what follows, so a future format can live
 * beside this one.
 * - 1: a msgpack value as is (snapshots, and packs written by the first releases); read only;
 * - 2: a pack in the compact layout of `encodePack` below; read only;
 * - 3: as 1, then the CRC-32 of the msgpack body (4 bytes, big-endian): what `encodeValue` writes;
 * - 4: as 2, then the CRC-32 of the body: what `encodePack` writes.
 * Every read checks the checksum (as Lokad's event store does), so a flipped byte in a store is a
 * CorruptDataError naming its key, never a silently different state (#14 guard rail 9).
 */
export const formatVersion = 3;
export const packFormatVersion = 4;
const plainFormat = 1;
const compactFormat = 2;
const checksumBytes = 4;

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: true });

/**
 * msgpackr renames an object key `__proto__` to `__proto_` when it decodes into plain objects (its
 * guard against prototype pollution), so a state keyed by user input (an order id "__proto__")
 * came back renamed from a snapshot or a merge pack while the live state kept it (#14). Bodies
 * whose bytes contain `__proto_` (rare: one `indexOf` tells) are decoded with maps as Maps instead
 * and turned into objects whose keys are defined as own data properties: the same value as the
 * live one, and no prototype is ever touched.
 */
const mapPackr = new Packr({ useRecords: false, mapsAsObjects: false, moreTypes: true });
const protoKeyBytes = Buffer.from('__proto_');

function unpack(body: Uint8Array): unknown {
  const view = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (view.indexOf(protoKeyBytes) < 0) return packr.unpack(body);
  return mapsToObjects(mapPackr.unpack(body));
}

function mapsToObjects(value: unknown): unknown {
  if (value instanceof Map) {
    const object: Record<string, unknown> = {};
    for (const [key, item] of value) {
      Object.defineProperty(object, String(key), { value: mapsToObjects(item), enumerable: true, writable: true, configurable: true });
    }
    return object;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = mapsToObjects(value[i]);
  } else if (value instanceof Set) {
    return new Set([...value].map(mapsToObjects));
  }
  return value;
}

/** The path of the first own key named `__proto__` in plain data, if any (`payload.a[2].__proto__`). */
export function protoKeyPath(value: unknown, path = 'payload'): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = protoKeyPath(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (key === '__proto__') return `${path}.__proto__`;
    const found = protoKeyPath((value as Record<string, unknown>)[key], `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
}

/** The format byte, the body, and the body's CRC-32. */
function withFormatByte(format: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(body.length + 1 + checksumBytes);
  out[0] = format;
  out.set(body, 1);
  out.writeUInt32BE(crc32(body), body.length + 1);
  return out;
}

/** The msgpack body of a record, its checksum verified when its format has one. */
function bodyOf(bytes: Uint8Array, where: string): Uint8Array {
  const format = bytes[0];
  if (format === plainFormat || format === compactFormat) return bytes.subarray(1);
  if (bytes.length < 2 + checksumBytes) throw new CorruptDataError(where, `${bytes.length} bytes is too short for a record of format ${format}`);
  const end = bytes.length - checksumBytes;
  const body = bytes.subarray(1, end);
  // Big-endian, read in place (no Buffer view allocated per record).
  const stored = (bytes[end]! * 0x1000000 + ((bytes[end + 1]! << 16) | (bytes[end + 2]! << 8) | bytes[end + 3]!));
  const actual = crc32(body);
  if (stored !== actual) {
    throw new CorruptDataError(where, `checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)} over ${body.length} bytes): the record was altered after it was written`);
  }
  return body;
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function unpackBody(bytes: Uint8Array, where: string): unknown {
  const body = bodyOf(bytes, where);
  try {
    return unpack(body);
  } catch (error) {
    throw new CorruptDataError(where, `msgpack decoding failed: ${(error as Error).message}`, error);
  }
}

/**
 * The bytes a command pack's fingerprint (`packFingerprint`) covers: its encoding in the compact
 * format without checksum (format byte 2 and the body). Stores written before checksums existed
 * hold fingerprints of exactly those bytes, so a pack copied between stores of two releases is
 * still recognised as the same pack, never reported as a VersionCollisionError.
 */
export function fingerprintBytes(encoded: Uint8Array): Uint8Array {
  if (encoded[0] !== packFormatVersion) return encoded;
  const out = Buffer.from(encoded.subarray(0, encoded.length - checksumBytes));
  out[0] = compactFormat;
  return out;
}

/**
 * The value as it will read back from any store: one encode/decode round trip through the codec
 * (a Map becomes a plain object, an ill-formed string gets replacement characters, ...). Folding
 * the canonical value keeps a live actor's state equal to the state a reload computes, and keeps
 * a pack's bytes the same however many times it is copied.
 */
export function canonical<T>(value: T): T {
  return value === undefined ? value : roundTrip(value).value;
}

/** The value through the codec, with its msgpack encoding (what `canonical` and its variants share). */
function roundTrip<T>(value: T): { readonly value: T; readonly encoded: Buffer } {
  const encoded = packr.pack(value);
  return { value: unpack(encoded) as T, encoded };
}

/**
 * `canonical` for input from outside (command payloads): also refuses a key named `__proto__`
 * anywhere in it, which a handler merging the payload into an object (`Object.assign`) would turn
 * into a prototype change. Throws a `TypeError` naming the key's path; the runtime reports it as
 * an InvalidPayloadError. The walk runs only when the encoded bytes contain `__proto_`.
 */
export function canonicalInput<T>(value: T): { readonly value: T; readonly bytes: number } {
  if (value === undefined) return { value, bytes: 0 };
  const { value: result, encoded } = roundTrip(value);
  if (encoded.indexOf(protoKeyBytes) >= 0) {
    const path = protoKeyPath(result);
    if (path) throw new TypeError(`${path}: a key named __proto__ is not accepted in a payload`);
  }
  return { value: result, bytes: encoded.length };
}

/** `canonical`, and the size of the value's msgpack encoding (what it adds to a pack, roughly). */
export function canonicalSized<T>(value: T): { readonly value: T; readonly bytes: number } {
  if (value === undefined) return { value, bytes: 0 };
  const { value: result, encoded } = roundTrip(value);
  return { value: result, bytes: encoded.length };
}

// ---------------------------------------------------------------------------------------------
// The fast path: plain data needs no round trip through msgpack to be in canonical form.

/** Deeper than this, the walk gives up and the codec decides (as deep as any sane payload). */
const plainDepthMax = 64;
const objectPrototype = Object.prototype;

/**
 * A deep copy of `value` when it is plain data the codec reads back unchanged, with an upper
 * bound of its msgpack size; undefined otherwise (the caller then takes the codec's round trip).
 * Plain data: null, booleans, numbers other than -0 (the codec writes -0 as 0), well-formed
 * strings, undefined inside arrays and objects (a hole reads back as undefined, as from the codec),
 * arrays, objects whose prototype is Object.prototype with well-formed keys and no key named
 * `__proto__`, at most `plainDepthMax` deep. For that
 * data msgpackr's round trip is the identity (same values, same key order), so the copy is what
 * `canonical` returns, at a fraction of its cost. `freeze`: the copy is deep-frozen.
 */
function plainCopy(value: unknown, freeze: boolean, depth: number, size: { bound: number }): unknown {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) return plainCopy;
      size.bound += 5 + 3 * value.length;
      return value;
    case 'number':
      if (value === 0 && 1 / value < 0) return plainCopy;
      size.bound += 9;
      return value;
    case 'boolean':
      size.bound += 1;
      return value;
    case 'undefined':
      // Only inside an array or an object (the callers handle a top-level undefined): moreTypes
      // writes it as a 3-byte extension and reads it back as undefined.
      size.bound += 3;
      return value;
    case 'object': {
      if (value === null) {
        size.bound += 1;
        return value;
      }
      if (depth >= plainDepthMax) return plainCopy;
      size.bound += 5;
      if (Array.isArray(value)) {
        const out: unknown[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) {
          const copy = plainCopy(value[i], freeze, depth + 1, size);
          if (copy === plainCopy) return plainCopy;
          out[i] = copy;
        }
        return freeze ? Object.freeze(out) : out;
      }
      if (Object.getPrototypeOf(value) !== objectPrototype) return plainCopy;
      const out: Record<string, unknown> = {};
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        if (key === '__proto__' || !key.isWellFormed()) return plainCopy;
        const copy = plainCopy((value as Record<string, unknown>)[key], freeze, depth + 1, size);
        if (copy === plainCopy) return plainCopy;
        size.bound += 5 + 3 * key.length;
        out[key] = copy;
      }
      return freeze ? Object.freeze(out) : out;
    }
    default:
      return plainCopy;
  }
}

/**
 * `canonical(value)` with an upper bound of its msgpack size (exact when the fast path does not
 * apply): what `canonicalSized` gives when only a comparison with a limit needs the size. When
 * `bound` is at most a limit, so is the exact size; above it, call `canonicalSized` for the exact one.
 */
export function canonicalBounded<T>(value: T): { readonly value: T; readonly bound: number } {
  return boundedOr(value, canonicalSized);
}

/** The fast path's copy and size bound, or what `exact` (the msgpack round trip) gives when it does not apply. */
function boundedOr<T>(value: T, exact: (value: T) => { readonly value: T; readonly bytes: number }): { readonly value: T; readonly bound: number } {
  if (value === undefined) return { value, bound: 0 };
  const size = { bound: 0 };
  const copy = plainCopy(value, false, 0, size);
  if (copy !== plainCopy) return { value: copy as T, bound: size.bound };
  const { value: result, bytes } = exact(value);
  return { value: result, bound: bytes };
}

/**
 * `canonicalBounded`, deep-frozen when it can be (`frozen: true`; not when the value holds a Set,
 * a Date or binary data, see `canonicalFrozen`).
 */
export function canonicalBoundedFrozen<T>(value: T): { readonly value: T; readonly bound: number; readonly frozen: boolean } {
  if (value === null || typeof value !== 'object') {
    const { value: result, bound } = canonicalBounded(value);
    return { value: result, bound, frozen: true };
  }
  const size = { bound: 0 };
  const copy = plainCopy(value, true, 0, size);
  if (copy !== plainCopy) return { value: copy as T, bound: size.bound, frozen: true };
  const { value: result, bytes } = canonicalSized(value);
  const again = plainCopy(result, true, 0, { bound: 0 });
  return again === plainCopy ? { value: result, bound: bytes, frozen: false } : { value: again as T, bound: bytes, frozen: true };
}

/**
 * `canonicalInput` with an upper bound of the size instead of the exact size (see
 * `canonicalBounded`): the same value, the same refusal of `__proto__` keys (plain data never has
 * one: the fast path leaves such values to `canonicalInput`, which throws).
 */
export function canonicalInputBounded<T>(value: T): { readonly value: T; readonly bound: number } {
  return boundedOr(value, canonicalInput);
}

/**
 * The canonical form of `value` (as `canonical`), deep-frozen: a copy, never `value` itself (left
 * as it was). Undefined when that form cannot be frozen: it holds a Set, a Date or binary data,
 * whose contents `Object.freeze` does not protect (a store keeps such values encoded instead).
 */
export function canonicalFrozen<T>(value: T): { readonly value: T } | undefined {
  if (value === null || typeof value !== 'object') return { value: canonical(value) };
  const copy = plainCopy(value, true, 0, { bound: 0 });
  if (copy !== plainCopy) return { value: copy as T };
  const again = plainCopy(canonical(value), true, 0, { bound: 0 });
  return again === plainCopy ? undefined : { value: again as T };
}

/** Encodes any msgpack-able value behind the format byte. */
export function encodeValue(value: unknown): Buffer {
  return withFormatByte(formatVersion, packr.pack(value));
}

/** Decodes what `encodeValue` wrote; `where` names the key in errors. */
export function decodeValue(bytes: Uint8Array, where: string): unknown {
  if (bytes.length < 2) throw new CorruptDataError(where, `${bytes.length} bytes is too short for a record`);
  if (bytes[0] !== formatVersion && bytes[0] !== plainFormat) {
    throw new CorruptDataError(where, `unknown format byte ${bytes[0]} (this build reads formats ${plainFormat} and ${formatVersion} here)`);
  }
  return unpackBody(bytes, where);
}

/**
 * A pack as a msgpack array, with what every event of a pack shares written once:
 * `[type, id, kind, version, parents, commandIds, replica, ts, events, state?]`, each event
 * `[id, type, data, ts?, replica?, causationId?, correlationId?, initiatedBy?]` where a null
 * (or a missing tail) means "as the pack": ts = the pack's ts, replica = the pack's replica,
 * causationId = the pack's first command id, correlationId = the causation id. About half the
 * bytes of the plain object, and faster both ways.
 */
export function encodePack(pack: Pack): Buffer {
  const firstCommand = pack.commandIds[0] ?? '';
  const events = pack.events.map((e) => {
    const tuple: unknown[] = [
      e.id,
      e.type,
      e.data,
      e.ts === pack.ts ? null : e.ts,
      e.replica === pack.replica ? null : e.replica,
      e.causationId === firstCommand ? null : e.causationId,
      e.correlationId === e.causationId ? null : e.correlationId,
    ];
    if (e.initiatedBy !== undefined) tuple.push(e.initiatedBy);
    while (tuple.length > 3 && tuple[tuple.length - 1] === null) tuple.pop();
    return tuple;
  });
  const body: unknown[] = [
    pack.actor.type,
    pack.actor.id,
    pack.kind,
    pack.version,
    pack.parents,
    pack.commandIds,
    pack.replica,
    pack.ts,
    events,
  ];
  if (pack.state !== undefined) body.push(pack.state);
  return withFormatByte(packFormatVersion, packr.pack(body));
}

/** Decodes and shape-checks a pack (either format): a decodable but foreign value is corrupt data too. */
export function decodePack(bytes: Uint8Array, where: string): Pack {
  if (bytes.length < 2) throw new CorruptDataError(where, `${bytes.length} bytes is too short for a record`);
  if (bytes[0] === packFormatVersion || bytes[0] === compactFormat) return decodeCompactPack(unpackBody(bytes, where), where);
  if (bytes[0] === formatVersion || bytes[0] === plainFormat) return checkPlainPack(unpackBody(bytes, where), where);
  throw new CorruptDataError(where, `unknown format byte ${bytes[0]} (this build reads packs in formats ${plainFormat} to ${packFormatVersion})`);
}

function notAPack(where: string, detail: string): CorruptDataError {
  return new CorruptDataError(where, `decoded value is not a pack (${detail})`);
}

function decodeCompactPack(value: unknown, where: string): Pack {
  if (!Array.isArray(value) || value.length < 9 || value.length > 10) throw notAPack(where, 'expected a 9 or 10 element array');
  const type: unknown = value[0];
  const id: unknown = value[1];
  const kind: unknown = value[2];
  const version: unknown = value[3];
  const parents: unknown = value[4];
  const commandIds: unknown = value[5];
  const replica: unknown = value[6];
  const ts: unknown = value[7];
  const events: unknown = value[8];
  if (typeof type !== 'string' || typeof id !== 'string') throw notAPack(where, 'actor');
  if (kind !== 'command' && kind !== 'merge') throw notAPack(where, 'kind');
  if (!isClock(version) || !Array.isArray(parents)) throw notAPack(where, 'version or parents');
  for (let i = 0; i < parents.length; i++) if (!isClock(parents[i])) throw notAPack(where, 'version or parents');
  if (!Array.isArray(commandIds)) throw notAPack(where, 'command ids');
  for (let i = 0; i < commandIds.length; i++) if (typeof commandIds[i] !== 'string') throw notAPack(where, 'command ids');
  if (typeof replica !== 'string' || typeof ts !== 'number' || !Array.isArray(events)) throw notAPack(where, 'replica, ts or events');
  const actor: ActorRef = { type, id };
  const firstCommand = (commandIds[0] as string | undefined) ?? '';
  // Loops and conditional fields instead of map callbacks and object spreads: this runs for
  // every pack a load reads (the Redis replay's client-side cost).
  const records: EventRecord[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const tuple: unknown = events[i];
    if (!Array.isArray(tuple) || tuple.length < 3 || typeof tuple[0] !== 'string' || typeof tuple[1] !== 'string') {
      throw notAPack(where, 'event');
    }
    const causationId = (tuple[5] ?? firstCommand) as string;
    const record: { -readonly [K in keyof EventRecord]: EventRecord[K] } = {
      id: tuple[0],
      actor,
      type: tuple[1],
      data: tuple[2],
      ts: (tuple[3] ?? ts) as number,
      correlationId: (tuple[6] ?? causationId) as string,
      causationId,
      replica: (tuple[4] ?? replica) as string,
    };
    if (tuple[7] !== undefined) record.initiatedBy = tuple[7] as string;
    records[i] = record;
  }
  const pack: { -readonly [K in keyof Pack]: Pack[K] } = {
    actor,
    kind,
    version,
    parents: parents as VectorClock[],
    events: records,
    commandIds: commandIds as string[],
    replica,
    ts,
  };
  if (value.length === 10) pack.state = value[9];
  return pack;
}

function checkPlainPack(value: unknown, where: string): Pack {
  const pack = value as Partial<Pack> | null;
  if (
    pack === null ||
    typeof pack !== 'object' ||
    (pack.kind !== 'command' && pack.kind !== 'merge') ||
    typeof pack.version !== 'object' ||
    !Array.isArray(pack.parents) ||
    !Array.isArray(pack.events) ||
    !Array.isArray(pack.commandIds) ||
    typeof pack.ts !== 'number' ||
    typeof pack.actor !== 'object'
  ) {
    throw notAPack(where, 'format 1 object');
  }
  return pack as Pack;
}

function isClock(value: unknown): value is VectorClock {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  for (const key in value) if (typeof (value as Record<string, unknown>)[key] !== 'number') return false;
  return true;
}
