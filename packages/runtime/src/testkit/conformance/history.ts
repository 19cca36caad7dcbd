import { beforeEach, describe, expect, it } from 'vitest';
import { LimitExceededError } from '../../errors/index.js';
import type { Pack } from '../../model/index.js';
import { type EventStore, MemoryStore, causalOrder, historyPacksMax } from '../../store/index.js';
import { appendChain, makeChain, makeEvent, makePack, uniqueActor } from '../fixtures.js';
import { type CurrentStore, expectRejection, key, keysOf, tryToMutate } from './support.js';

/** Every version of `packs` comes after the versions of its parents. */
function expectParentsFirst(packs: readonly Pack[]): void {
  const position = new Map(packs.map((p, i) => [key(p.version), i]));
  for (const pack of packs) {
    for (const parent of pack.parents) {
      expect(position.get(key(parent)), `${key(parent)} before ${key(pack.version)}`).toBeLessThan(position.get(key(pack.version))!);
    }
  }
}

/**
 * history: every pack of one actor held by the store, parents first, ties broken by version key
 * (`causalOrder`), bounded by `limit`.
 */
export function historyTests(current: CurrentStore): void {
  describe('history', () => {
    let store: EventStore;
    beforeEach(() => {
      store = current();
    });

    it('an actor without packs has an empty history', async () => {
      expect(await store.history(uniqueActor('unknown'))).toEqual([]);
      expect(await store.history(uniqueActor('unknown'), { limit: 1 })).toEqual([]);
    });

    it('a chain of appends comes back whole, oldest first', async () => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 5);
      await appendChain(store, chain);
      expect(await store.history(actor)).toEqual(chain);
    });

    it('lists command packs, merged-in packs and merge packs, each after its parents, ties by version key', async () => {
      const actor = uniqueActor();
      const root = makePack({ actor, version: { a: 1 } });
      const left = makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }] });
      const right = makePack({ actor, version: { a: 1, b: 1 }, parents: [{ a: 1 }] });
      const merged = makePack({ actor, kind: 'merge', version: { a: 2, b: 1 }, parents: [{ a: 2 }, { a: 1, b: 1 }], state: { n: 3 }, events: [] });
      const after = makePack({ actor, version: { a: 3, b: 1 }, parents: [{ a: 2, b: 1 }] });
      await store.append(root, []);
      await store.append(left, ['a:1']);
      await store.merge([right]);
      await store.append(merged, ['a:1,b:1', 'a:2']);
      await store.append(after, ['a:2,b:1']);
      await store.saveSnapshot(actor, { version: after.version, state: 'a snapshot is not a pack' });

      const history = await store.history(actor);
      // {a:1,b:1} and {a:2} are concurrent, both 2 steps from the start: version key order.
      expect(history).toEqual([root, right, left, merged, after]);
      expectParentsFirst(history);
    });

    it('the order does not depend on the order packs arrived in', async () => {
      const actor = uniqueActor();
      const [a1, b1, c1] = ['a', 'b', 'c'].map((r) => makePack({ actor, version: { [r]: 1 } }));
      const c2 = makePack({ actor, version: { c: 2 }, parents: [{ c: 1 }] });
      const a1b1 = makePack({ actor, version: { a: 1, b: 1 }, parents: [{ b: 1 }] });
      const arrival = [b1!, c1!, c2, a1!, a1b1];
      for (const pack of arrival) await store.merge([pack]);
      const history = await store.history(actor);
      expect(keysOf(history)).toEqual(['a:1', 'b:1', 'c:1', 'a:1,b:1', 'c:2']);
      expect(history).toEqual(causalOrder(arrival));
    });

    it('after a merge() from another store, lists the same packs in the same order as that store', async () => {
      const actor = uniqueActor();
      const origin = new MemoryStore();
      try {
        const chain = makeChain(actor, 3, 'b');
        await appendChain(origin, chain.slice(0, 2));
        await origin.append(chain[2]!, ['b:2'], { version: { b: 3 }, state: 'shipped snapshot' });
        const sibling = makePack({ actor, version: { b: 2, c: 1 }, parents: [{ b: 2 }] });
        await origin.merge([sibling]);
        const merged = makePack({ actor, kind: 'merge', version: { b: 3, c: 1 }, parents: [{ b: 3 }, { b: 2, c: 1 }], state: { both: true } });
        await origin.append(merged, ['b:2,c:1', 'b:3']);
        const shipped = await origin.changesSince(undefined, 100);
        await store.merge(shipped.packs, shipped.snapshots);

        const history = await store.history(actor);
        expect(history).toEqual(await origin.history(actor));
        expect(keysOf(history)).toEqual(['b:1', 'b:2', 'b:2,c:1', 'b:3', 'b:3,c:1']);
        expect(history.map((p) => p.kind)).toEqual(['command', 'command', 'command', 'command', 'merge']);

        // And continues with what is written here afterwards.
        const local = makePack({ actor, version: { a: 1, b: 3, c: 1 }, parents: [{ b: 3, c: 1 }] });
        await store.append(local, ['b:3,c:1']);
        expect(await store.history(actor)).toEqual([...history, local]);
      } finally {
        await origin.close();
      }
    });

    it('holds only this actor: another id or another type with the same versions is not listed', async () => {
      const actor = uniqueActor('iso');
      const sameIdOtherType = { type: `${actor.type}.other`, id: actor.id };
      const otherId = uniqueActor('iso');
      const chain = makeChain(actor, 2);
      await appendChain(store, chain);
      await appendChain(store, makeChain(sameIdOtherType, 3));
      await appendChain(store, makeChain(otherId, 1));
      expect(await store.history(actor)).toEqual(chain);
    });

    it('returns copies or deep-frozen packs: changing a returned pack throws or changes a copy, never the store', async () => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 2);
      await appendChain(store, chain);
      for (const read of await store.history(actor)) tryToMutate(read, makeEvent(actor));
      expect(await store.history(actor)).toEqual(chain);
    });

    it('returns at most `limit` packs: exactly `limit` is fine, one more throws LimitExceededError naming `limit`', async () => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 5);
      await appendChain(store, chain);
      expect(await store.history(actor, { limit: 5 })).toEqual(chain);
      expect(await store.history(actor, { limit: 6 })).toEqual(chain);
      const error = await expectRejection(store.history(actor, { limit: 4 }), LimitExceededError);
      expect(error.code).toBe('LIMIT_EXCEEDED');
      expect(error.limit).toBe('limit');
      expect(error.message).toContain("'limit'");
    });

    it(`without a limit, reads up to historyPacksMax (${historyPacksMax}) packs and refuses more`, async () => {
      const actor = uniqueActor();
      const chain = makeChain(actor, historyPacksMax + 1);
      for (let from = 0; from < historyPacksMax; from += 1_000) await store.merge(chain.slice(from, from + 1_000));
      expect(await store.history(actor)).toHaveLength(historyPacksMax);
      await store.merge(chain.slice(historyPacksMax));
      const error = await expectRejection(store.history(actor), LimitExceededError);
      expect(error.limit).toBe('limit');
      expect(await store.history(actor, { limit: historyPacksMax + 1 })).toHaveLength(historyPacksMax + 1);
    }, 120_000);
  });
}
