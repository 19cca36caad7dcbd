import { VC } from '../vectorClock/index.js';

/**
 * One actor's packs in causal order: every pack after its parents, the same order on every store.
 * A pack's version strictly dominates each parent's (a command increments one entry, a merge takes
 * the pointwise max of concurrent heads), so the sum of its counters is larger than any parent's:
 * sorting by that sum, then by version key, is a topological order with no graph walk.
 */
export function causalOrder<P extends { readonly version: Readonly<Record<string, number>> }>(packs: readonly P[]): P[] {
  return packs
    .map((pack) => ({ pack, sum: counterSum(pack.version), key: VC.encode(pack.version) }))
    .sort((a, b) => a.sum - b.sum || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((entry) => entry.pack);
}

function counterSum(version: Readonly<Record<string, number>>): number {
  let sum = 0;
  for (const replica in version) sum += version[replica]!;
  return sum;
}

/** Default of `EventStore.history`'s `limit`: one actor's history read whole, for inspection and tools. */
export const historyPacksMax = 10_000;
