import { fingerprintBytes } from '../codec/codec.js';

/** FNV-1a, 32 bits: a stable, fast, well-spread hash for routing (shards, default machine ids). Not cryptographic. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** FNV-1a, 32 bits, over bytes. */
export function fnv1a32Bytes(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i]!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * 8 hex characters that tell two packs of one version apart. Stores keep it beside each pack so
 * that `merge` recognises a different pack arriving under a version they hold
 * (VersionCollisionError) without decoding anything. A command pack's fingerprint covers its
 * encoded bytes (written once, by one replica, then copied verbatim; without the checksum trailer,
 * see `fingerprintBytes`, so releases before and after checksums agree); a merge pack's covers its
 * kind and event ids only, because replicas compute merge packs independently and their states,
 * equal in value, need not encode byte for byte the same.
 */
export function packFingerprint(
  pack: { readonly kind: string; readonly events: readonly { readonly id: string }[] },
  encoded: Uint8Array | (() => Uint8Array),
): string {
  // A merge pack's fingerprint needs no bytes: callers that have none pass a function, called
  // only for command packs (a merge pack's state can be large; encoding it to compare is waste).
  const hash =
    pack.kind === 'merge'
      ? fnv1a32(`merge\u0000${pack.events.map((e) => e.id).join('\u0000')}`)
      : fnv1a32Bytes(fingerprintBytes(typeof encoded === 'function' ? encoded() : encoded));
  return hash.toString(16).padStart(8, '0');
}
