import { beforeEach, describe, expect, it } from 'vitest';
import { MissingAncestorError, VersionCollisionError } from '../../errors/index.js';
import { actorKey } from '../../model/index.js';
import { type EventStore, MemoryStore } from '../../store/index.js';
import { appendChain, makeChain, makePack, uniqueActor } from '../fixtures.js';
import { type CurrentStore, drain, expectRejection, firstCommandVersion, keysOf, mine } from './support.js';

/** merge: copying packs from another store, idempotently, refusing orphans and version collisions. */
export function mergeTests(current: CurrentStore): void {
  describe('merge', () => {
    let store: EventStore;
    beforeEach(() => {
      store = current();
    });

    it('copies packs from another store: packs, heads, chain and commands', async () => {
      const actor = uniqueActor();
      const origin = new MemoryStore();
      const chain = makeChain(actor, 3, 'b');
      await appendChain(origin, chain.slice(0, 2));
      await origin.append(chain[2]!, ['b:2'], { version: { b: 3 }, state: 'origin-only snapshot' });
      const shipped = (await origin.changesSince(undefined, 100)).packs;
      await origin.close();

      const report = await store.merge(shipped);
      expect(report).toMatchObject({ added: 3, skipped: 0 });
      expect(await store.heads(actor)).toEqual([chain[2]]);
      expect(await store.getPacks(actor, ['b:1', 'b:2', 'b:3'])).toEqual(chain);
      // Snapshots are local caches: merge copies packs only.
      expect(await store.loadChain(actor, 'b:3')).toEqual({ packs: chain });
      expect(await firstCommandVersion(store, actor, chain[1]!.commandIds[0]!)).toEqual({ b: 2 });

      // And the actor continues locally from the merged head.
      const next = makePack({ actor, version: { a: 1, b: 3 }, parents: [{ b: 3 }] });
      await store.append(next, ['b:3']);
      expect(await store.heads(actor)).toEqual([next]);
    });

    it('is idempotent: merging the same packs twice adds nothing the second time', async () => {
      const actor = uniqueActor();
      const start = await drain(store, undefined);
      const packs = [
        makePack({ actor, version: { a: 1 } }),
        makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }] }),
        makePack({ actor, version: { a: 1, b: 1 }, parents: [{ a: 1 }] }),
      ];
      expect(await store.merge(packs)).toMatchObject({ added: 3, skipped: 0 });
      const heads = await store.heads(actor);
      const logLength = mine((await drain(store, start.cursor)).packs, [actor]).length;
      expect(logLength).toBe(3);

      expect(await store.merge(packs)).toMatchObject({ added: 0, skipped: 3 });
      expect(await store.heads(actor)).toEqual(heads);
      expect(mine((await drain(store, start.cursor)).packs, [actor])).toHaveLength(logLength);

      // A batch that is partly known: only the new one is added.
      const fresh = makePack({ actor, version: { a: 3 }, parents: [{ a: 2 }] });
      expect(await store.merge([...packs, fresh])).toMatchObject({ added: 1, skipped: 3 });
      expect(mine((await drain(store, start.cursor)).packs, [actor])).toHaveLength(4);
    });

    it('the same pack again is skipped; a different pack under a held version is a VersionCollisionError', async () => {
      const actor = uniqueActor();
      const original = makePack({ actor, version: { a: 1 }, commandIds: ['original'] });
      await store.append(original, []);
      expect(await store.merge([original])).toMatchObject({ added: 0, skipped: 1 });
      // Two replicas sharing a replicaId write different packs with one version: never silently skip.
      const impostor = makePack({ actor, version: { a: 1 }, commandIds: ['impostor'] });
      const error = await expectRejection(store.merge([impostor]), VersionCollisionError);
      expect(error.message).toContain(actorKey(actor));
      expect(error.message).toContain('a:1');
      expect(await store.getPacks(actor, ['a:1'])).toEqual([original]);
      expect(await firstCommandVersion(store, actor, 'impostor')).toBeUndefined();
    });

    it('an empty batch is a no-op', async () => {
      expect(await store.merge([])).toMatchObject({ added: 0, skipped: 0 });
    });

    it('parents may come earlier in the same batch, in any actor interleaving', async () => {
      const a = uniqueActor('a');
      const b = uniqueActor('b');
      const chainA = makeChain(a, 3);
      const chainB = makeChain(b, 3);
      const interleaved = [chainA[0]!, chainB[0]!, chainB[1]!, chainA[1]!, chainA[2]!, chainB[2]!];
      expect(await store.merge(interleaved)).toMatchObject({ added: 6, skipped: 0 });
      expect(await store.heads(a)).toEqual([chainA[2]]);
      expect(await store.heads(b)).toEqual([chainB[2]]);
    });

    it('a pack whose parent is missing throws MissingAncestorError; the packs before it are kept', async () => {
      const actor = uniqueActor();
      const start = await drain(store, undefined);
      const p1 = makePack({ actor, version: { a: 1 } });
      const p2 = makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }] });
      const orphan = makePack({ actor, version: { a: 2, b: 2 }, parents: [{ a: 2, b: 1 }] });
      const p3 = makePack({ actor, version: { a: 3 }, parents: [{ a: 2 }] });

      const error = await expectRejection(store.merge([p1, p2, orphan, p3]), MissingAncestorError);
      expect(error.code).toBe('MISSING_ANCESTOR');
      expect(error.actorKey).toBe(actorKey(actor));
      expect(error.version).toBe('a:2,b:1');

      expect(await store.getPacks(actor, ['a:1', 'a:2', 'a:2,b:2', 'a:3'])).toEqual([p1, p2, undefined, undefined]);
      expect(await store.heads(actor)).toEqual([p2]);
      expect(await firstCommandVersion(store, actor, orphan.commandIds[0]!)).toBeUndefined();
      expect(mine((await drain(store, start.cursor)).packs, [actor])).toEqual([p1, p2]);

      // Retrying the batch (as a replicator does) skips what was kept.
      const retried = makePack({ actor, version: { a: 2, b: 1 }, parents: [{ a: 2 }] });
      expect(await store.merge([p1, p2, retried, orphan, p3])).toMatchObject({ added: 3, skipped: 2 });
      expect(keysOf(await store.heads(actor))).toEqual(['a:2,b:2', 'a:3']);
    });

    it('a merge pack whose second parent is missing is refused', async () => {
      const actor = uniqueActor();
      await store.merge([makePack({ actor, version: { a: 1 } })]);
      const merged = makePack({ actor, kind: 'merge', version: { a: 1, b: 1 }, parents: [{ a: 1 }, { b: 1 }], state: {} });
      const error = await expectRejection(store.merge([merged]), MissingAncestorError);
      expect(error.version).toBe('b:1');
      expect(keysOf(await store.heads(actor))).toEqual(['a:1']);
    });
  });
}
