import { afterEach, describe, expect, it } from 'vitest';
import type { Pack } from '@troupe/runtime';
import { VC } from '@troupe/runtime/store';
import { computeMerge } from '@troupe/runtime/resolution';
import { Ledger, type LedgerState, TestCluster } from '@troupe/runtime/testkit';
import { mergeMarker } from './mergeOrder.js';

const ref = Ledger.ref('acc');
let clusters: TestCluster[] = [];
function cluster(size: number): TestCluster {
  const c = new TestCluster(size, [Ledger]);
  clusters.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(clusters.map((c) => c.stop()));
  clusters = [];
});

const send = (c: TestCluster, r: number, type: 'deposit' | 'withdraw', n: number, commandId?: string) =>
  c.runtimes[r]!.send(ref, { type, payload: { n }, ...(commandId ? { commandId } : {}) });

/** The merge packs of a store's log, in log order. */
async function mergePacks(c: TestCluster, replica: number): Promise<Pack[]> {
  return (await c.allPacks(replica, ref)).filter((p) => p.kind === 'merge');
}

/** Ledger's state lists the ids of the events it folded, in the order it folded them. */
async function appliedAt(c: TestCluster, replica: number, version: Record<string, number> | undefined): Promise<readonly string[]> {
  if (!version) return [];
  const chain = await c.stores[replica]!.loadChain(ref, VC.encode(version));
  let state = (chain.base?.state as LedgerState | undefined) ?? Ledger.initial();
  for (const event of chain.packs.flatMap((p) => p.events)) state = (Ledger.events as Record<string, (s: LedgerState, d: unknown, e: unknown) => LedgerState>)[event.type]!(state, event.data, event);
  return state.applied;
}

describe('mergeMarker: the merged order of a merge pack, recomputed from the store', () => {
  it('lists the events after the ancestor in replay order, the dropped retry copy, and the compensations, as computeMerge does', async () => {
    const c = cluster(2);
    await send(c, 0, 'deposit', 100);
    await c.settle();
    // Partition: both spend the same money; a retried deposit is accepted on both sides.
    await send(c, 0, 'withdraw', 80);
    await send(c, 1, 'withdraw', 70);
    c.clocks[1]!.advance(3);
    await send(c, 1, 'deposit', 5, 'retry-1');
    await send(c, 0, 'deposit', 5, 'retry-1');
    await send(c, 0, 'deposit', 1);
    await c.copiers[1]![0]!.sync();
    const heads = await c.stores[0]!.heads(ref);
    expect(heads).toHaveLength(2);
    const expected = await computeMerge(c.stores[0]!, Ledger, ref, heads);
    await c.runtimes[0]!.resolve(ref);
    const [merge] = await mergePacks(c, 0);
    expect(merge).toBeDefined();

    const marker = await mergeMarker(c.stores[0]!, merge!);
    expect(marker.replayed).toEqual(expected.replayed.map((e) => e.id));
    expect(marker.dropped).toEqual(expected.droppedDuplicates.map((e) => e.id));
    expect(marker.dropped).toHaveLength(1);
    expect(marker.compensations).toEqual(merge!.events.map((e) => e.id));
    expect(merge!.events.map((e) => e.type)).toEqual(['overdraft']);
    expect(marker.ancestor).toEqual({ r0: 1 });
    expect(marker.ancestor).toEqual(expected.ancestor?.version);
    expect(marker.heads.map(VC.encode).sort()).toEqual(heads.map((h) => VC.encode(h.version)).sort());
    expect(marker.version).toEqual(merge!.version);
    // The oracle that shares no code with mergeMarker: the merged state's fold order.
    const merged = merge!.state as LedgerState;
    expect(merged.applied).toEqual([...(await appliedAt(c, 0, marker.ancestor)), ...marker.replayed, ...marker.compensations]);
  });

  it('three branches merged in two steps on one replica and at once on another give the same marker, in the order both folded', async () => {
    const c = cluster(4);
    await send(c, 0, 'deposit', 100);
    await c.settle();
    await send(c, 0, 'withdraw', 10);
    c.clocks[1]!.advance(1);
    await send(c, 1, 'withdraw', 20);
    await send(c, 2, 'deposit', 5);
    for (const from of [0, 1, 2]) await c.copiers[from]![3]!.sync();
    await c.runtimes[3]!.resolve(ref);
    await c.replicators[1]![0]!.sync(); // r0 merges {a, b}
    await c.copiers[2]![0]!.sync();
    await c.runtimes[0]!.resolve(ref); // then {ab, c}
    const [first, last] = await mergePacks(c, 0);
    expect(first!.parents).toHaveLength(2);
    // The last merge's parents are the three command heads (merges unfold), as r3's.
    const [direct] = await mergePacks(c, 3);
    expect(VC.encode(last!.version)).toBe(VC.encode(direct!.version));
    const grouped = await mergeMarker(c.stores[0]!, last!);
    const atOnce = await mergeMarker(c.stores[3]!, direct!);
    expect(grouped).toEqual(atOnce);
    expect(grouped.replayed).toHaveLength(3);
    expect((last!.state as LedgerState).applied).toEqual([...(await appliedAt(c, 0, grouped.ancestor)), ...grouped.replayed, ...grouped.compensations]);
    // The first merge's own marker covers only its two branches.
    const partial = await mergeMarker(c.stores[0]!, first!);
    expect(partial.replayed).toHaveLength(2);
    expect((first!.state as LedgerState).applied).toEqual([...(await appliedAt(c, 0, partial.ancestor)), ...partial.replayed, ...partial.compensations]);
  });

  it('a divergence after a merge: the ancestor is past the first merge, and only the new branches are listed', async () => {
    const c = cluster(2);
    await send(c, 0, 'deposit', 50);
    await c.settle();
    await send(c, 0, 'withdraw', 5);
    await send(c, 1, 'withdraw', 7);
    await c.settle();
    await send(c, 0, 'deposit', 1);
    await send(c, 1, 'deposit', 2);
    await c.copiers[1]![0]!.sync();
    await c.runtimes[0]!.resolve(ref);
    const merges = await mergePacks(c, 0);
    expect(merges).toHaveLength(2);
    const second = await mergeMarker(c.stores[0]!, merges[1]!);
    expect(second.ancestor).toEqual(merges[0]!.version);
    expect(second.replayed).toHaveLength(2);
    expect((merges[1]!.state as LedgerState).applied).toEqual([...(await appliedAt(c, 0, second.ancestor)), ...second.replayed]);
  });

  it('branches with no common pack (the actor created on two replicas at once): no ancestor, every event listed', async () => {
    const c = cluster(2);
    await send(c, 0, 'deposit', 3);
    await send(c, 1, 'deposit', 4);
    await c.copiers[1]![0]!.sync();
    await c.runtimes[0]!.resolve(ref);
    const [merge] = await mergePacks(c, 0);
    const marker = await mergeMarker(c.stores[0]!, merge!);
    expect(marker.ancestor).toBeUndefined();
    expect(marker.replayed).toHaveLength(2);
    expect((merge!.state as LedgerState).applied).toEqual(marker.replayed);
  });
});
