import { beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../../store/index.js';
import { VC } from '../../vectorClock/index.js';
import { appendChain, makeChain, makePack, uniqueActor } from '../fixtures.js';
import { type CurrentStore, keysOf } from './support.js';

/** Heads by dominance once packs diverge: canonical order, and packs that replace some or all of them. */
export function divergentHeadsTests(current: CurrentStore): void {
  describe('heads under divergence', () => {
    let store: EventStore;
    beforeEach(() => {
      store = current();
    });

    it('two concurrent roots merged in give two heads in canonical order; a dominating merge pack makes one', async () => {
      const actor = uniqueActor();
      // Merged in the reverse of canonical order.
      const b1 = makePack({ actor, version: { b: 1 } });
      const a1 = makePack({ actor, version: { a: 1 } });
      await store.merge([b1]);
      await store.merge([a1]);
      expect(await store.heads(actor)).toEqual([a1, b1]);

      const merged = makePack({ actor, kind: 'merge', version: VC.merge(a1.version, b1.version), parents: [{ b: 1 }, { a: 1 }], state: { both: true } });
      expect(await store.merge([merged])).toMatchObject({ added: 1, skipped: 0 });
      expect(await store.heads(actor)).toEqual([merged]);
    });

    it('merge reports the actors it left diverged, when it reports them (MergeReport.diverged)', async () => {
      const actor = uniqueActor();
      const other = uniqueActor();
      const first = await store.merge([makePack({ actor, version: { b: 1 } }), makePack({ actor: other, version: { b: 1 } })]);
      if (first.diverged === undefined) return; // optional: a replicator then reads the heads itself
      expect(first.diverged).toEqual([]);
      // A second root of `actor` diverges it; `other` gains a child in line and stays whole.
      const a1 = makePack({ actor, version: { a: 1 } });
      const second = await store.merge([a1, makePack({ actor: other, version: { b: 2 }, parents: [{ b: 1 }] })]);
      expect(second.diverged).toEqual([actor]);
      // Skipped packs count too: the actor is still diverged.
      expect((await store.merge([a1])).diverged).toEqual([actor]);
      const merged = makePack({ actor, kind: 'merge', version: { a: 1, b: 1 }, parents: [{ a: 1 }, { b: 1 }], state: {} });
      expect((await store.merge([merged])).diverged).toEqual([]);
    });

    it('{a:2} and {a:1,b:1} on a common parent are two heads; the pointwise max resolves them', async () => {
      const actor = uniqueActor();
      const root = makePack({ actor, version: { a: 1 } });
      const a2 = makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }] });
      const a1b1 = makePack({ actor, version: { a: 1, b: 1 }, parents: [{ a: 1 }] });
      await store.append(root, []);
      await store.append(a2, ['a:1']);
      await store.merge([a1b1]);
      const heads = await store.heads(actor);
      expect(heads).toEqual([a1b1, a2]);
      expect(keysOf(heads)).toEqual([...keysOf(heads)].sort());

      const merged = makePack({ actor, kind: 'merge', version: { a: 2, b: 1 }, parents: [{ a: 2 }, { a: 1, b: 1 }], state: 'resolved' });
      await store.append(merged, ['a:1,b:1', 'a:2']);
      expect(await store.heads(actor)).toEqual([merged]);
    });

    it('three branches give three heads in canonical order; one dominating pack resolves them all', async () => {
      const actor = uniqueActor();
      await store.append(makePack({ actor, version: { m: 1 } }), []);
      const branches = ['c', 'a', 'b'].map((r) => makePack({ actor, version: { m: 1, [r]: 1 }, parents: [{ m: 1 }] }));
      for (const branch of branches) await store.merge([branch]);
      const keys = keysOf(await store.heads(actor)) as string[];
      expect(keys).toEqual(['a:1,m:1', 'b:1,m:1', 'c:1,m:1']);
      const version = VC.mergeAll(branches.map((p) => p.version));
      const merged = makePack({ actor, kind: 'merge', version, parents: branches.map((p) => p.version), state: 3 });
      await store.append(merged, [...keys].reverse());
      expect(await store.heads(actor)).toEqual([merged]);
    });

    it('a pack that dominates only some heads replaces just those', async () => {
      const actor = uniqueActor();
      const packs = [
        makePack({ actor, version: { a: 1 } }),
        makePack({ actor, version: { b: 1 } }),
        makePack({ actor, version: { c: 1 } }),
      ];
      await store.merge(packs);
      const ab = makePack({ actor, kind: 'merge', version: { a: 1, b: 1 }, parents: [{ a: 1 }, { b: 1 }], state: null });
      await store.merge([ab]);
      expect(keysOf(await store.heads(actor))).toEqual(['a:1,b:1', 'c:1']);
    });

    it('a merged pack dominated by an existing head does not become a head', async () => {
      const actor = uniqueActor();
      const root = makePack({ actor, version: { a: 1 } });
      const ahead = makePack({ actor, version: { a: 3 }, parents: [{ a: 1 }] });
      await appendChain(store, [root, ahead]);
      const behind = makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }] });
      expect(await store.merge([behind])).toMatchObject({ added: 1, skipped: 0 });
      expect(await store.heads(actor)).toEqual([ahead]);
      expect(await store.getPacks(actor, ['a:2'])).toEqual([behind]);
      // Still appendable on the one head.
      await store.append(makePack({ actor, version: { a: 4 }, parents: [{ a: 3 }] }), ['a:3']);
      expect(keysOf(await store.heads(actor))).toEqual(['a:4']);
    });

    it('a merged descendant of the head replaces it', async () => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 3);
      await store.append(chain[0]!, []);
      await store.merge(chain.slice(1));
      expect(await store.heads(actor)).toEqual([chain[2]]);
    });
  });
}
