import { beforeEach, describe, expect, it } from 'vitest';
import { AppendConflictError } from '../../errors/index.js';
import type { Snapshot } from '../../model/index.js';
import type { EventStore } from '../../store/index.js';
import { appendChain, makeChain, makePack, uniqueActor } from '../fixtures.js';
import { type CurrentStore, drain, expectRejection, firstCommandVersion, key, keysOf, logKeys, mine, observe, sortedKeys } from './support.js';

/** Conditional append: wrong expected heads, stored versions and concurrent writers conflict and write nothing. */
export function appendConflictTests(current: CurrentStore): void {
  describe('append conflicts', () => {
    let store: EventStore;
    beforeEach(() => {
      store = current();
    });

    it('a first append with non-empty expected heads throws AppendConflictError with actual [] and writes nothing', async () => {
      const actor = uniqueActor();
      const start = await drain(store, undefined);
      const pack = makePack({ actor, version: { a: 1 } });
      const error = await expectRejection(store.append(pack, ['a:0x']), AppendConflictError);
      expect(error.code).toBe('APPEND_CONFLICT');
      expect([...error.actual]).toEqual([]);
      expect(await store.heads(actor)).toEqual([]);
      expect(await store.getPacks(actor, ['a:1'])).toEqual([undefined]);
      expect(await firstCommandVersion(store, actor, pack.commandIds[0]!)).toBeUndefined();
      expect(mine((await drain(store, start.cursor)).packs, [actor])).toEqual([]);
    });

    it('wrong expected heads throw AppendConflictError listing the real heads, and write nothing', async () => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 2);
      await appendChain(store, chain);
      const start = await drain(store, undefined);
      const before = await observe(store, actor, ['a:1', 'a:2', 'a:3'], chain.map((p) => p.commandIds[0]!));

      const next = makePack({ actor, version: { a: 3 }, parents: [{ a: 2 }] });
      const snapshot: Snapshot = { version: { a: 3 }, state: { stale: true } };
      for (const wrong of [[], ['a:1'], ['a:3'], ['a:2', 'a:1'], ['a:2', 'b:1'], ['nonsense']]) {
        const error = await expectRejection(store.append(next, wrong, snapshot), AppendConflictError);
        expect(sortedKeys(error.actual), `expected ${JSON.stringify(wrong)}`).toEqual(['a:2']);
      }

      expect(await observe(store, actor, ['a:1', 'a:2', 'a:3'], chain.map((p) => p.commandIds[0]!))).toEqual(before);
      expect(await firstCommandVersion(store, actor, next.commandIds[0]!)).toBeUndefined();
      expect(mine((await drain(store, start.cursor)).packs, [actor])).toEqual([]);

      // The snapshot of the refused append was not written either: a different pack at the same
      // version, appended properly without a snapshot, loads from the root.
      const other = makePack({ actor, version: { a: 3 }, parents: [{ a: 2 }] });
      await store.append(other, ['a:2']);
      expect(await store.loadChain(actor, 'a:3')).toEqual({ packs: [...chain, other] });
    });

    it('with two heads, expecting only one of them conflicts and reports both', async () => {
      const actor = uniqueActor();
      await store.merge([makePack({ actor, version: { b: 1 } }), makePack({ actor, version: { a: 1 } })]);
      const next = makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }] });
      const error = await expectRejection(store.append(next, ['a:1']), AppendConflictError);
      expect(sortedKeys(error.actual)).toEqual(['a:1', 'b:1']);
      expect(keysOf(await store.heads(actor))).toEqual(['a:1', 'b:1']);
      expect(await store.getPacks(actor, ['a:2'])).toEqual([undefined]);
    });

    it('appending a version that is already stored is refused and changes nothing', async () => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 2);
      await appendChain(store, chain);
      const start = await drain(store, undefined);

      // Same version as the head, expecting the (correct) current head.
      const again = makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }] });
      await expectRejection(store.append(again, ['a:2']), AppendConflictError);
      // An older version, expecting the correct head.
      const older = makePack({ actor, version: { a: 1 } });
      await expectRejection(store.append(older, ['a:2']), AppendConflictError);

      expect(await store.heads(actor)).toEqual([chain[1]]);
      expect(await store.getPacks(actor, ['a:1', 'a:2'])).toEqual(chain);
      expect(await firstCommandVersion(store, actor, again.commandIds[0]!)).toBeUndefined();
      expect(await firstCommandVersion(store, actor, older.commandIds[0]!)).toBeUndefined();
      expect(mine((await drain(store, start.cursor)).packs, [actor])).toEqual([]);
    });

    it('concurrent appends expecting the same head: exactly one wins, the others conflict', async () => {
      const actor = uniqueActor();
      await store.append(makePack({ actor, version: { a: 1 } }), []);
      const start = await drain(store, undefined);
      const contenders = Array.from({ length: 20 }, (_, i) => makePack({ actor, version: { a: 1, [`r${i}`]: 1 }, parents: [{ a: 1 }] }));
      const results = await Promise.allSettled(contenders.map((p) => store.append(p, ['a:1'])));

      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [contenders[i]!] : []));
      expect(winners).toHaveLength(1);
      const winner = winners[0]!;
      for (const result of results) {
        if (result.status === 'fulfilled') continue;
        expect(result.reason).toBeInstanceOf(AppendConflictError);
        expect(sortedKeys((result.reason as AppendConflictError).actual)).toEqual([key(winner.version)]);
      }
      expect(await store.heads(actor)).toEqual([winner]);
      const stored = await store.getPacks(actor, contenders.map((p) => key(p.version)));
      expect(stored.filter((p) => p !== undefined)).toEqual([winner]);
      for (const loser of contenders.filter((p) => p !== winner)) {
        expect(await firstCommandVersion(store, actor, loser.commandIds[0]!)).toBeUndefined();
      }
      expect(logKeys(mine((await drain(store, start.cursor)).packs, [actor]))).toEqual(logKeys([winner]));
    });

    it('concurrent first appends to a new actor: exactly one wins', async () => {
      const actor = uniqueActor();
      const contenders = Array.from({ length: 20 }, (_, i) => makePack({ actor, version: { [`r${i}`]: 1 } }));
      const results = await Promise.allSettled(contenders.map((p) => store.append(p, [])));
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [contenders[i]!] : []));
      expect(winners).toHaveLength(1);
      for (const result of results) {
        if (result.status === 'fulfilled') continue;
        expect(result.reason).toBeInstanceOf(AppendConflictError);
        expect(sortedKeys((result.reason as AppendConflictError).actual)).toEqual([key(winners[0]!.version)]);
      }
      expect(await store.heads(actor)).toEqual(winners);
    });

    it('concurrent appends to different actors all succeed', async () => {
      const actors = Array.from({ length: 20 }, (_, i) => uniqueActor(`parallel${i}`));
      const packs = actors.map((actor) => makePack({ actor, version: { a: 1 } }));
      const results = await Promise.allSettled(packs.map((p) => store.append(p, [])));
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      const heads = await Promise.all(actors.map((a) => store.heads(a)));
      expect(heads).toEqual(packs.map((p) => [p]));

      // And a second round, each on its own head, in parallel too.
      const next = actors.map((actor) => makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }] }));
      const second = await Promise.allSettled(next.map((p) => store.append(p, ['a:1'])));
      expect(second.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(await Promise.all(actors.map((a) => store.heads(a)))).toEqual(next.map((p) => [p]));
    });
  });
}
