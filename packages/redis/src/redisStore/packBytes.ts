/**
 * The bytes a pack was read from. `changesSince` notes, for each pack it returns, the stored bytes
 * it decoded it from (current format only: format byte, msgpack, CRC-32, the CRC checked by the
 * decode); `merge` sends those bytes as they are instead of encoding the pack again. Replication
 * copies a pack verbatim (what its fingerprint assumes, see `packFingerprint`) and the copy costs
 * no encode. Packs are immutable values (`Pack`'s fields are readonly): a changed copy is a new
 * object, which has no bytes noted and is encoded.
 */
import { type Pack, packFormatVersion } from '@troupe/runtime/store';
import { encodePackChecked } from './packCodec.js';

const readFrom = new WeakMap<Pack, Buffer>();

/** Notes that `pack` was decoded from `bytes` (ignored for bytes of an earlier format, which merge encodes afresh). */
export function noteBytesRead(pack: Pack, bytes: Buffer): void {
  if (bytes[0] === packFormatVersion) readFrom.set(pack, bytes);
}

/** The pack's bytes: those it was read from when noted, else its encoding; over `packBytesMax` throws LimitExceededError either way. */
export function packBytes(pack: Pack, version: string, packBytesMax: number): Buffer {
  const bytes = readFrom.get(pack);
  if (bytes === undefined || bytes.length > packBytesMax) return encodePackChecked(pack, version, packBytesMax);
  return bytes;
}
