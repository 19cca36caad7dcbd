import { LimitExceededError, MissingAncestorError } from '../errors/index.js';
import { type ActorRef, type Pack, actorKey } from '../model/index.js';
import type { EventStore } from '../store/index.js';
import { VC } from '../vectorClock/index.js';

export interface AncestryLimits {
  /** Most heads resolved at once. Default 30. */
  readonly headsMax: number;
  /** Most packs visited while looking for the common ancestor. Default 1,000,000. */
  readonly packsVisitedMax: number;
}

export const defaultAncestryLimits: AncestryLimits = { headsMax: 30, packsVisitedMax: 1_000_000 };

/**
 * The command heads a set of heads stands for: merge packs are replaced by the packs they merged,
 * recursively, and only the maximal ones are kept. Two merges of the same version therefore see
 * the same command heads, however the branches were grouped when they were merged.
 */
export async function commandHeads(store: EventStore, actor: ActorRef, heads: readonly Pack[]): Promise<Pack[]> {
  const found = new Map<string, Pack>();
  const seen = new Set<string>();
  let frontier = [...heads];
  while (frontier.length > 0) {
    const merges: Pack[] = [];
    for (const pack of frontier) {
      const key = VC.encode(pack.version);
      if (seen.has(key)) continue;
      seen.add(key);
      if (pack.kind === 'merge') merges.push(pack);
      else found.set(key, pack);
    }
    const parentKeys = [...new Set(merges.flatMap((m) => m.parents.map(VC.encode)))].filter((k) => !seen.has(k));
    const parents = await store.getPacks(actor, parentKeys);
    frontier = parents.map((pack, i) => {
      if (!pack) throw new MissingAncestorError(actorKey(actor), parentKeys[i]!);
      return pack;
    });
  }
  const all = [...found.values()];
  const maximal = all.filter((p) => !all.some((q) => q !== p && VC.dominatedBy(p.version, q.version)));
  return maximal.sort((a, b) => cmpKey(VC.encode(a.version), VC.encode(b.version)));
}

export interface Divergence {
  /** Latest pack every path from every head back to the root passes through; undefined if none. */
  readonly ancestor?: Pack;
  /** Packs after the ancestor, each with the bit mask of the heads it is an ancestor of. */
  readonly packs: readonly { readonly pack: Pack; readonly headMask: number }[];
}

interface WalkEntry {
  readonly pack: Pack;
  readonly key: string;
  readonly weight: number;
  mask: number;
}

/**
 * Walks back from the heads in decreasing causal weight until the frontier narrows to one pack
 * that every head reaches: the latest common ancestor that is also a cut, so every pack above it
 * is a descendant. Reads only the packs after that ancestor. (Every walked path either reaches
 * the candidate or ends at a root; with no root passed, every walked pack descends from it.)
 */
export async function findDivergence(
  store: EventStore,
  actor: ActorRef,
  heads: readonly Pack[],
  limits: AncestryLimits = defaultAncestryLimits,
): Promise<Divergence> {
  if (heads.length > limits.headsMax) {
    throw new LimitExceededError('headsMax', `${actorKey(actor)} has ${heads.length} heads to resolve, more than ${limits.headsMax}`);
  }
  const full = (1 << heads.length) - 1;
  const heap = new MaxHeap();
  const byKey = new Map<string, WalkEntry>();
  heads.forEach((pack, i) => {
    const entry = { pack, key: VC.encode(pack.version), weight: VC.weight(pack.version), mask: 1 << i };
    byKey.set(entry.key, entry);
    heap.push(entry);
  });
  const packs: { pack: Pack; headMask: number }[] = [];
  // Once a path has ended at a root other than the candidate, no pack below can be a cut: that
  // root is neither its ancestor nor its descendant (two replicas created the actor concurrently).
  let rootPassed = false;
  while (heap.size > 0) {
    const entry = heap.pop()!;
    if (heap.size === 0 && entry.mask === full && !rootPassed) return { ancestor: entry.pack, packs };
    packs.push({ pack: entry.pack, headMask: entry.mask });
    if (entry.pack.parents.length === 0) rootPassed = true;
    if (packs.length > limits.packsVisitedMax) {
      throw new LimitExceededError('packsVisitedMax', `resolving ${actorKey(actor)} visited more than ${limits.packsVisitedMax} packs`);
    }
    const parentKeys = entry.pack.parents.map(VC.encode);
    const missing = parentKeys.filter((k) => !byKey.has(k));
    const loaded = missing.length ? await store.getPacks(actor, missing) : [];
    loaded.forEach((pack, i) => {
      if (!pack) throw new MissingAncestorError(actorKey(actor), missing[i]!);
      const parent = { pack, key: missing[i]!, weight: VC.weight(pack.version), mask: 0 };
      byKey.set(parent.key, parent);
      heap.push(parent);
    });
    for (const key of parentKeys) byKey.get(key)!.mask |= entry.mask;
  }
  return { packs };
}

/** Plain code-unit order: stable across locales and runtimes. */
export function cmpKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Binary max-heap on (weight, key): the walk order. */
class MaxHeap {
  private readonly items: WalkEntry[] = [];
  get size(): number {
    return this.items.length;
  }
  push(entry: WalkEntry): void {
    const items = this.items;
    items.push(entry);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!greater(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }
  pop(): WalkEntry | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let best = i;
        if (left < items.length && greater(items[left]!, items[best]!)) best = left;
        if (right < items.length && greater(items[right]!, items[best]!)) best = right;
        if (best === i) break;
        [items[i], items[best]] = [items[best]!, items[i]!];
        i = best;
      }
    }
    return top;
  }
}

function greater(a: WalkEntry, b: WalkEntry): boolean {
  return a.weight !== b.weight ? a.weight > b.weight : a.key > b.key;
}
