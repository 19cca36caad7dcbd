import { describe, expect, it } from 'vitest';
import type { Pack } from '../model/index.js';
import type { EventStore } from '../store/index.js';
import { makePack } from '../testkit/fixtures.js';
import { VC, type VectorClock } from '../vectorClock/index.js';
import { commandHeads, findDivergence } from './ancestry.js';

/**
 * The common ancestor must be a cut, not merely a pack every head reaches; and command heads come
 * out in one canonical order whatever order they went in. Added for the mutation score
 * (TESTING.md): a walk that stopped at the first pack every head reaches, and a key order that
 * called every greater key equal, passed every other test.
 */
const actor = { type: 'ledger', id: 'cut' };
function storeOf(packs: readonly Pack[]): EventStore {
  const byKey = new Map(packs.map((p) => [VC.encode(p.version), p]));
  return { getPacks: async (_actor: unknown, keys: readonly string[]) => keys.map((k) => byKey.get(k)) } as unknown as EventStore;
}
const pack = (version: VectorClock, ...parents: VectorClock[]) => makePack({ actor, version, parents });

describe('the common ancestor is a cut', () => {
  it('a pack both heads reach while a branch below it is still unwalked is not the ancestor', async () => {
    // r (a:1) -> p1 (a:2) -> p (a:3) -> h1 (a:4)
    // r -> q (a:1,b:1); m merges p and q (a:3,b:1) -> h2 (a:3,b:2)
    // p is reached from both heads before q is walked, yet q descends from r only: the cut is r.
    const r = pack({ a: 1 });
    const p1 = pack({ a: 2 }, { a: 1 });
    const p = pack({ a: 3 }, { a: 2 });
    const q = pack({ a: 1, b: 1 }, { a: 1 });
    const m = makePack({ actor, kind: 'merge', version: { a: 3, b: 1 }, parents: [{ a: 3 }, { a: 1, b: 1 }], events: [] });
    const h1 = pack({ a: 4 }, { a: 3 });
    const h2 = pack({ a: 3, b: 2 }, { a: 3, b: 1 });
    const divergence = await findDivergence(storeOf([r, p1, p, q, m, h1, h2]), actor, [h1, h2]);
    expect(divergence.ancestor?.version).toEqual({ a: 1 });
    expect(divergence.packs.map((x) => VC.encode(x.pack.version)).sort()).toEqual(['a:1,b:1', 'a:2', 'a:3', 'a:3,b:1', 'a:3,b:2', 'a:4']);
  });
});

describe('commandHeads order', () => {
  it('is the version-key order whatever order the heads are given in', async () => {
    const heads = [pack({ c: 1 }), pack({ a: 1 }), pack({ b: 1 }), pack({ d: 1, e: 1 })];
    const expected = ['a:1', 'b:1', 'c:1', 'd:1,e:1'];
    for (const order of [heads, [...heads].reverse(), [heads[2]!, heads[0]!, heads[3]!, heads[1]!]]) {
      expect((await commandHeads(storeOf([]), actor, order)).map((x) => VC.encode(x.version))).toEqual(expected);
    }
  });
});
