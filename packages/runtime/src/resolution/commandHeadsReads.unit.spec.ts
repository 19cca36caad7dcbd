import { describe, expect, it } from 'vitest';
import type { Pack } from '../model/index.js';
import type { EventStore } from '../store/index.js';
import { makePack } from '../testkit/fixtures.js';
import { VC, type VectorClock } from '../vectorClock/index.js';
import { commandHeads } from './ancestry.js';

/**
 * `commandHeads` reads each pack of the merge tree once. Added for the mutation score (TESTING.md):
 * with the filter of already-seen parents removed, a parent shared by two merges at different
 * depths was read again (and then skipped as seen), so the command heads stayed the same and only
 * the number of store reads told the two apart.
 */
const actor = { type: 'ledger', id: 'reads' };

/** A store holding `packs` that records every version key `getPacks` is asked for. */
function countingStore(packs: readonly Pack[]): { store: EventStore; asked: string[] } {
  const byKey = new Map(packs.map((p) => [VC.encode(p.version), p]));
  const asked: string[] = [];
  const store = {
    getPacks: async (_actor: unknown, keys: readonly string[]) => {
      asked.push(...keys);
      return keys.map((k) => byKey.get(k));
    },
  } as unknown as EventStore;
  return { store, asked };
}
const command = (version: VectorClock) => makePack({ actor, version });
const merge = (version: VectorClock, ...parents: VectorClock[]) => makePack({ actor, kind: 'merge', version, parents, events: [] });

describe('commandHeads reads', () => {
  // c1 (a:1), c2 (b:1), c3 (d:1), c4 (c:1) are roots.
  // h1 merges c1 and c2; m0 merges c1 and c4; h2 merges m0 and c3. The heads are h1 and h2:
  // c1 is a parent of h1 (depth 1) and of m0 (depth 2).
  const c1 = command({ a: 1 });
  const c2 = command({ b: 1 });
  const c3 = command({ d: 1 });
  const c4 = command({ c: 1 });
  const m0 = merge({ a: 1, c: 1 }, { a: 1 }, { c: 1 });
  const h1 = merge({ a: 1, b: 1 }, { a: 1 }, { b: 1 });
  const h2 = merge({ a: 1, c: 1, d: 1 }, { a: 1, c: 1 }, { d: 1 });
  const history = [c1, c2, c3, c4, m0, h1, h2];

  it('a parent shared by two merges at different depths is read once', async () => {
    const { store, asked } = countingStore(history);
    const heads = await commandHeads(store, actor, [h1, h2]);
    expect(heads.map((p) => VC.encode(p.version))).toEqual(['a:1', 'b:1', 'c:1', 'd:1']);
    // Depth 1: h1's parents c1, c2 and h2's m0, c3; depth 2: m0's parents c1 (seen) and c4: c4 alone is read.
    expect([...asked].sort()).toEqual(['a:1', 'a:1,c:1', 'b:1', 'c:1', 'd:1']);
    expect(asked).toHaveLength(new Set(asked).size);
  });

  it('a parent two merges of one frontier share is asked for once', async () => {
    const g1 = merge({ a: 1, b: 1 }, { a: 1 }, { b: 1 });
    const g2 = merge({ a: 1, d: 1 }, { a: 1 }, { d: 1 });
    const { store, asked } = countingStore([c1, c2, c3, g1, g2]);
    const heads = await commandHeads(store, actor, [g1, g2]);
    expect(heads.map((p) => VC.encode(p.version))).toEqual(['a:1', 'b:1', 'd:1']);
    expect([...asked].sort()).toEqual(['a:1', 'b:1', 'd:1']);
  });

  it('the same head given twice gives the same command heads and the same reads', async () => {
    const once = countingStore(history);
    const twice = countingStore(history);
    const a = await commandHeads(once.store, actor, [h1, h2]);
    const b = await commandHeads(twice.store, actor, [h1, h2, h2, h1]);
    expect(b).toEqual(a);
    expect([...twice.asked].sort()).toEqual([...once.asked].sort());
  });

  it('a command head that is also a merge\'s parent is not read from the store', async () => {
    const { store, asked } = countingStore(history);
    const heads = await commandHeads(store, actor, [h2, c1]);
    expect(heads.map((p) => VC.encode(p.version))).toEqual(['a:1', 'c:1', 'd:1']);
    expect([...asked].sort()).toEqual(['a:1,c:1', 'c:1', 'd:1']);
  });
});
