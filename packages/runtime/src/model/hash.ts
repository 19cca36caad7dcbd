/** FNV-1a, 32 bits: a stable, fast, well-spread hash for routing (shards, default machine ids). Not cryptographic. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
