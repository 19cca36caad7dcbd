/** FNV-1a, 32 bits: a stable, fast, well-spread hash for routing (shards, default machine ids). Not cryptographic. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * 8 hex characters that tell two packs of one version apart: a hash of kind, command ids and event
 * ids. Stores keep it beside each pack so that `merge` can recognise a different pack arriving
 * under a version they hold (VersionCollisionError) without decoding anything.
 */
export function packFingerprint(pack: { readonly kind: string; readonly commandIds: readonly string[]; readonly events: readonly { readonly id: string }[] }): string {
  const text = `${pack.kind}\u0000${pack.commandIds.join('\u0000')}\u0000${pack.events.map((e) => e.id).join('\u0000')}`;
  return fnv1a32(text).toString(16).padStart(8, '0');
}
