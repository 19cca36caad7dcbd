/**
 * What the store writes into Redis values besides the runtime's codec: pack bytes checked against
 * `packBytesMax`, decoding errors that name the key and field, the parent info of a pack (the
 * `:r` hash) and the shard log entries.
 */
import { type ActorRef, CorruptDataError, decodePack, encodePack, LimitExceededError, type Pack, VC, actorKey, packFingerprint } from '@troupe/runtime/store';

/** The pack's bytes (format byte + msgpack); more than `packBytesMax` throws LimitExceededError naming that option. */
export function encodePackChecked(pack: Pack, version: string, packBytesMax: number): Buffer {
  const bytes = encodePack(pack);
  if (bytes.length > packBytesMax) {
    throw new LimitExceededError('packBytesMax', `pack ${actorKey(pack.actor)}@${version} is ${bytes.length} bytes, more than ${packBytesMax}`);
  }
  return bytes;
}

/** A stored pack; bytes that do not decode throw CorruptDataError naming `<key> field <field>`. */
export function decodePackAt(bytes: Buffer, key: string, field: string): Pack {
  return decodePack(bytes, `${key} field ${field}`);
}

/**
 * A pack's parent info in the `:r` hash: kind ('c' or 'm'), the pack's 8-hex fingerprint (which
 * tells a re-sent pack from a different one under the same version), then (command packs) the
 * first parent's key. The scripts may append `@<position>` in the run index.
 */
export function parentInfo(pack: Pack, encoded: Buffer, firstParent = pack.parents[0] ? VC.encode(pack.parents[0]) : ''): string {
  const fingerprint = packFingerprint(pack, encoded);
  if (pack.kind === 'merge') return `m${fingerprint}`;
  return `c${fingerprint}${firstParent}`;
}

/** Characters JSON writes as they are: names made of them need no JSON.stringify (~1 µs per append). */
const plainJson = /^[A-Za-z0-9_.:,@ -]*$/;

/** The shard log entry of a pack: JSON [type, id, version, 0 | 1 (ships a snapshot)]. */
export function logEntry(actor: ActorRef, version: string, withSnapshot: boolean): string {
  if (plainJson.test(actor.type) && plainJson.test(actor.id) && plainJson.test(version)) {
    return `["${actor.type}","${actor.id}","${version}",${withSnapshot ? 1 : 0}]`;
  }
  return JSON.stringify([actor.type, actor.id, version, withSnapshot ? 1 : 0]);
}

/** A parsed shard log entry; anything else throws CorruptDataError naming the log. */
export function parseLogEntry(bytes: Buffer, logKey: string): { actor: ActorRef; version: string; withSnapshot: boolean } {
  try {
    const entry = JSON.parse(String(bytes)) as unknown;
    if (Array.isArray(entry) && entry.length === 4 && entry.slice(0, 3).every((x) => typeof x === 'string') && (entry[3] === 0 || entry[3] === 1)) {
      return { actor: { type: entry[0], id: entry[1] }, version: entry[2], withSnapshot: entry[3] === 1 };
    }
  } catch {
    // reported below
  }
  throw new CorruptDataError(logKey, `log entry '${String(bytes).slice(0, 80)}' is not [type, id, version, snapshot]`);
}
