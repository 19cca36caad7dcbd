import { beforeEach, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../model/index.js';
import type { EventStore } from '../../store/index.js';
import { appendChain, makeChain, makePack, uniqueActor } from '../fixtures.js';
import type { CurrentStore } from './support.js';

/** loadChain: parent links back to the nearest snapshot or merge pack, never past it. */
export function loadChainTests(current: CurrentStore): void {
  describe('loadChain', () => {
    let store: EventStore;
    beforeEach(() => {
      store = current();
    });

    it('without snapshots returns every pack from the root, oldest first, and no base', async () => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 6);
      await appendChain(store, chain);
      const loaded = await store.loadChain(actor, 'a:6');
      expect(loaded.base).toBeUndefined();
      expect(loaded.packs).toEqual(chain);
      const middle = await store.loadChain(actor, 'a:3');
      expect(middle.base).toBeUndefined();
      expect(middle.packs).toEqual(chain.slice(0, 3));
      expect((await store.loadChain(actor, 'a:1')).packs).toEqual(chain.slice(0, 1));
    });

    it('follows parent links only: a sibling branch is not part of the chain', async () => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 2);
      await appendChain(store, chain);
      const sibling = makePack({ actor, version: { a: 1, b: 1 }, parents: [{ a: 1 }] });
      await store.merge([sibling]);
      expect(await store.loadChain(actor, 'a:1,b:1')).toEqual({ packs: [chain[0], sibling] });
      expect(await store.loadChain(actor, 'a:2')).toEqual({ packs: chain });
    });

    it('after saveSnapshot at k returns that snapshot as base and only the packs after k', async () => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 6);
      await appendChain(store, chain);
      const snapshot: Snapshot = { version: { a: 3 }, state: { total: 3, seen: ['x', 'y'], nested: { ok: true, none: null } } };
      await store.saveSnapshot(actor, snapshot);

      const loaded = await store.loadChain(actor, 'a:6');
      expect(loaded.base).toEqual(snapshot);
      expect(loaded.packs).toHaveLength(3);
      expect(loaded.packs).toEqual(chain.slice(3));

      const atSnapshot = await store.loadChain(actor, 'a:3');
      expect(atSnapshot.base).toEqual(snapshot);
      expect(atSnapshot.packs).toEqual([]);

      const before = await store.loadChain(actor, 'a:2');
      expect(before.base).toBeUndefined();
      expect(before.packs).toEqual(chain.slice(0, 2));

      // A nearer snapshot wins; the older one is not read past.
      const later: Snapshot = { version: { a: 5 }, state: { total: 5 } };
      await store.saveSnapshot(actor, later);
      const nearest = await store.loadChain(actor, 'a:6');
      expect(nearest.base).toEqual(later);
      expect(nearest.packs).toEqual(chain.slice(5));
      expect(await store.loadChain(actor, 'a:4')).toEqual({ base: snapshot, packs: chain.slice(3, 4) });
    });

    it('a snapshot with a falsy state (0, null, false, "") is still a base', async () => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 4);
      await appendChain(store, chain);
      const states: unknown[] = [0, null, false, ''];
      for (let i = 0; i < states.length; i++) {
        await store.saveSnapshot(actor, { version: { a: i + 1 }, state: states[i] });
        const loaded = await store.loadChain(actor, 'a:4');
        expect(loaded.base).toEqual({ version: { a: i + 1 }, state: states[i] });
        expect(loaded.packs).toEqual(chain.slice(i + 1));
      }
    });

    it('a snapshot passed to append() is used the same way', async () => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 5);
      await appendChain(store, chain.slice(0, 2));
      const snapshot: Snapshot = { version: { a: 3 }, state: { count: 3, fraction: 1700000000000.0009765625 } };
      await store.append(chain[2]!, ['a:2'], snapshot);
      await appendChain(store, chain.slice(3), ['a:3']);
      const loaded = await store.loadChain(actor, 'a:5');
      expect(loaded.base).toEqual(snapshot);
      expect(loaded.packs).toHaveLength(2);
      expect(loaded.packs).toEqual(chain.slice(3));
      expect(await store.loadChain(actor, 'a:3')).toEqual({ base: snapshot, packs: [] });
    });

    it('a merge pack is a base: its state, and only the packs after it', async () => {
      const actor = uniqueActor();
      const root = makePack({ actor, version: { a: 1 } });
      const left = makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }] });
      const right = makePack({ actor, version: { a: 1, b: 1 }, parents: [{ a: 1 }] });
      const state = { balance: 12, history: [1, 2, { three: 3 }], closed: false };
      const merged = makePack({ actor, kind: 'merge', version: { a: 2, b: 1 }, parents: [{ a: 2 }, { a: 1, b: 1 }], state, events: [] });
      const after1 = makePack({ actor, version: { a: 3, b: 1 }, parents: [{ a: 2, b: 1 }] });
      const after2 = makePack({ actor, version: { a: 4, b: 1 }, parents: [{ a: 3, b: 1 }] });
      await store.append(root, []);
      await store.saveSnapshot(actor, { version: { a: 1 }, state: { older: true } });
      await store.append(left, ['a:1']);
      await store.merge([right]);
      await store.append(merged, ['a:1,b:1', 'a:2']);
      await appendChain(store, [after1, after2], ['a:2,b:1']);

      const loaded = await store.loadChain(actor, 'a:4,b:1');
      expect(loaded.base).toEqual({ version: { a: 2, b: 1 }, state });
      expect(loaded.packs).toHaveLength(2);
      expect(loaded.packs).toEqual([after1, after2]);
      expect(await store.loadChain(actor, 'a:2,b:1')).toEqual({ base: { version: { a: 2, b: 1 }, state }, packs: [] });

      // A snapshot after the merge is nearer, and wins.
      await store.saveSnapshot(actor, { version: { a: 3, b: 1 }, state: { nearer: 1 } });
      expect(await store.loadChain(actor, 'a:4,b:1')).toEqual({ base: { version: { a: 3, b: 1 }, state: { nearer: 1 } }, packs: [after2] });

      // Below the merge, the older snapshot is the base.
      expect(await store.loadChain(actor, 'a:2')).toEqual({ base: { version: { a: 1 }, state: { older: true } }, packs: [left] });
    });

    it('a merge pack that arrived through merge() is a base too', async () => {
      const actor = uniqueActor();
      const state = { merged: ['x', 'y'] };
      const packs = [
        makePack({ actor, version: { b: 1 } }),
        makePack({ actor, version: { c: 1 } }),
        makePack({ actor, kind: 'merge', version: { b: 1, c: 1 }, parents: [{ b: 1 }, { c: 1 }], state }),
        makePack({ actor, version: { b: 2, c: 1 }, parents: [{ b: 1, c: 1 }] }),
      ];
      await store.merge(packs);
      expect(await store.loadChain(actor, 'b:2,c:1')).toEqual({ base: { version: { b: 1, c: 1 }, state }, packs: [packs[3]] });
    });
  });
}
