import { VC, type VectorClock } from '../vectorClock/index.js';

/**
 * Pure head maintenance shared by stores: the heads after adding `version` to `heads`.
 * A version dominated by (or equal to) an existing head does not become a head; heads the new
 * version dominates stop being heads. Returns undefined when nothing changes.
 */
export function nextHeads(heads: readonly VectorClock[], version: VectorClock): VectorClock[] | undefined {
  // The common case, one comparison and no filter: one head, which the new version follows.
  if (heads.length === 1 && VC.compare(heads[0]!, version) === 'before') return [version];
  for (const head of heads) {
    if (VC.dominatedBy(version, head)) return undefined;
  }
  const kept = heads.filter((head) => !VC.dominatedBy(head, version));
  kept.push(version);
  return kept;
}

export function sameKeySet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  // One head (the usual case) or none: no Set.
  if (a.length <= 1) return a[0] === b[0];
  const set = new Set(a);
  for (const key of b) if (!set.has(key)) return false;
  return true;
}
