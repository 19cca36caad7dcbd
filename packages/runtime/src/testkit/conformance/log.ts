import { beforeEach, describe, expect, it } from 'vitest';
import type { Pack } from '../../model/index.js';
import { type EventStore, MemoryStore } from '../../store/index.js';
import { appendChain, makeChain, makePack, uniqueActor } from '../fixtures.js';
import { type CurrentStore, drain, key, logKeys, mine } from './support.js';

/** changesSince: the replication log, paged by cursor, parents before children, merged packs included. */
export function changesSinceTests(current: CurrentStore): void {
  describe('changesSince', () => {
    let store: EventStore;
    beforeEach(() => {
      store = current();
    });

    it('an undefined cursor reads from the start; pages respect limit and continue where they stopped', async () => {
      const actor = uniqueActor();
      const other = uniqueActor('other');
      const start = await drain(store, undefined);
      const chain = makeChain(actor, 5);
      const otherChain = makeChain(other, 2, 'z');
      await appendChain(store, chain.slice(0, 2));
      await appendChain(store, otherChain);
      await appendChain(store, chain.slice(2), ['a:2']);
      // Each actor's packs in the order they became durable; actors may interleave in any order
      // (a sharded store keeps one log per shard).
      const expected = [logKeys(chain), logKeys(otherChain)];
      const perActor = (packs: readonly Pack[]) => [logKeys(mine(packs, [actor])), logKeys(mine(packs, [other]))];

      const all = await drain(store, undefined);
      expect(perActor(all.packs)).toEqual(expected);

      for (const limit of [1, 2, 3]) {
        const seen: Pack[] = [];
        let cursor: string | undefined = start.cursor;
        for (let page = 0; page < 10_000; page++) {
          const changes = await store.changesSince(cursor, limit);
          expect(changes.packs.length).toBeLessThanOrEqual(limit);
          if (changes.packs.length === 0) break;
          seen.push(...changes.packs);
          cursor = changes.cursor;
        }
        expect(perActor(seen), `limit ${limit}`).toEqual(expected);
        // Against the whole log read in big pages: small pages neither overlap nor skip (the
        // interleaving of actors may differ, so compare the entries as sets).
        const reference = (await drain(store, start.cursor)).packs;
        expect(seen.length).toBe(reference.length);
        expect(new Set(logKeys(seen)).size).toBe(seen.length);
        expect([...logKeys(seen)].sort()).toEqual([...logKeys(reference)].sort());
      }
    });

    it('a page holds exactly `limit` packs when at least that many are available', async () => {
      const actor = uniqueActor();
      const start = await drain(store, undefined);
      const chain = makeChain(actor, 5);
      await appendChain(store, chain);
      const first = await store.changesSince(start.cursor, 2);
      expect(first.packs).toHaveLength(2);
      const second = await store.changesSince(first.cursor, 2);
      expect(second.packs).toHaveLength(2);
      const rest = await drain(store, second.cursor);
      expect(logKeys(mine([...first.packs, ...second.packs, ...rest.packs], [actor]))).toEqual(logKeys(chain));
    });

    it('packs come back whole and in durable order, parents before children', async () => {
      const actor = uniqueActor();
      const start = await drain(store, undefined);
      const root = makePack({ actor, version: { a: 1 } });
      const left = makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }] });
      const right = makePack({ actor, version: { a: 1, b: 1 }, parents: [{ a: 1 }] });
      const merged = makePack({ actor, kind: 'merge', version: { a: 2, b: 1 }, parents: [{ a: 2 }, { a: 1, b: 1 }], state: { s: 1 } });
      const after = makePack({ actor, version: { a: 3, b: 1 }, parents: [{ a: 2, b: 1 }] });
      await store.append(root, []);
      await store.merge([right]);
      await store.merge([left]);
      await store.append(merged, ['a:2', 'a:1,b:1']);
      await store.append(after, ['a:2,b:1']);

      const log = mine((await drain(store, start.cursor, 2)).packs, [actor]);
      expect(log).toEqual([root, right, left, merged, after]);
      const position = new Map(log.map((p, i) => [key(p.version), i]));
      for (const pack of log) {
        for (const parent of pack.parents) expect(position.get(key(parent))).toBeLessThan(position.get(key(pack.version))!);
      }
    });

    it('an empty page at the end keeps the cursor usable', async () => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 4);
      await appendChain(store, chain.slice(0, 2));
      const end = await drain(store, undefined);
      expect(logKeys(mine(end.packs, [actor]))).toEqual(logKeys(chain.slice(0, 2)));

      const empty = await store.changesSince(end.cursor, 10);
      expect(mine(empty.packs, [actor])).toEqual([]);
      const emptyAgain = await store.changesSince(empty.cursor, 10);
      expect(mine(emptyAgain.packs, [actor])).toEqual([]);

      await appendChain(store, chain.slice(2), ['a:2']);
      const fromEnd = await drain(store, end.cursor);
      expect(logKeys(mine(fromEnd.packs, [actor]))).toEqual(logKeys(chain.slice(2)));
      const fromEmptyPage = await drain(store, emptyAgain.cursor);
      expect(logKeys(mine(fromEmptyPage.packs, [actor]))).toEqual(logKeys(chain.slice(2)));
    });

    it('packs added by merge() are in the log too, so replication is transitive', async () => {
      const actor = uniqueActor();
      const start = await drain(store, undefined);
      // Written at another replica's store, read from its log, merged here.
      const origin = new MemoryStore();
      const chain = makeChain(actor, 3, 'b');
      await appendChain(origin, chain);
      const shipped = (await origin.changesSince(undefined, 100)).packs;
      await origin.close();
      await store.merge(shipped);
      const local = makePack({ actor, version: { b: 4 }, parents: [{ b: 3 }] });
      await store.append(local, ['b:3']);

      const log = mine((await drain(store, start.cursor, 1)).packs, [actor]);
      expect(log).toEqual([...chain, local]);

      // A third store catching up from this one gets everything, including what this one merged.
      const third = new MemoryStore();
      const report = await third.merge(log);
      expect(report).toMatchObject({ added: 4, skipped: 0 });
      expect(await third.heads(actor)).toEqual([local]);
      await third.close();
    });
  });
}
