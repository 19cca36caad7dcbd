import { Packr } from 'msgpackr';
import { CorruptDataError } from '../errors/index.js';
import type { Pack } from '../model/index.js';

/** First byte of every encoded record: lets a future format live beside this one. */
export const formatVersion = 1;

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: true });

/** Encodes any msgpack-able value behind the format byte. */
export function encodeValue(value: unknown): Buffer {
  const body = packr.pack(value);
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = formatVersion;
  body.copy(out, 1);
  return out;
}

/** Decodes what `encodeValue` wrote; `where` names the key in errors. */
export function decodeValue(bytes: Uint8Array, where: string): unknown {
  if (bytes.length < 2) throw new CorruptDataError(where, `${bytes.length} bytes is too short for a record`);
  if (bytes[0] !== formatVersion) {
    throw new CorruptDataError(where, `unknown format byte ${bytes[0]} (this build reads format ${formatVersion})`);
  }
  try {
    return packr.unpack(bytes.subarray(1));
  } catch (error) {
    throw new CorruptDataError(where, `msgpack decoding failed: ${(error as Error).message}`, error);
  }
}

export function encodePack(pack: Pack): Buffer {
  return encodeValue(pack);
}

/** Decodes and shape-checks a pack: a decodable but foreign value is corrupt data too. */
export function decodePack(bytes: Uint8Array, where: string): Pack {
  const value = decodeValue(bytes, where) as Partial<Pack> | null;
  if (
    value === null ||
    typeof value !== 'object' ||
    (value.kind !== 'command' && value.kind !== 'merge') ||
    typeof value.version !== 'object' ||
    !Array.isArray(value.parents) ||
    !Array.isArray(value.events) ||
    !Array.isArray(value.commandIds) ||
    typeof value.ts !== 'number' ||
    typeof value.actor !== 'object'
  ) {
    throw new CorruptDataError(where, 'decoded value is not a pack');
  }
  return value as Pack;
}
