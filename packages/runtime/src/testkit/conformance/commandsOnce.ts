import { beforeEach, describe, expect, it } from 'vitest';
import { DuplicateCommandError } from '../../errors/index.js';
import { actorKey } from '../../model/index.js';
import type { EventStore } from '../../store/index.js';
import { appendChain, makeChain, makePack, uniqueActor } from '../fixtures.js';
import { type CurrentStore, drain, expectRejection, key, mine, observe } from './support.js';

/**
 * append applies a command id at most once per actor and store: a pack carrying a command id the
 * store already recorded for the actor is refused with DuplicateCommandError and writes nothing,
 * whatever heads it expected. merge() still accepts such packs (a retry accepted on two branches).
 */
export function commandOnceTests(current: CurrentStore): void {
  describe('command ids applied once by append', () => {
    let store: EventStore;
    beforeEach(() => {
      store = current();
    });

    it('a pack carrying a command id recorded by an earlier append is refused with DuplicateCommandError and writes nothing', async () => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 2);
      await appendChain(store, chain);
      const start = await drain(store, undefined);
      const recorded = chain[0]!.commandIds[0]!;
      const before = await observe(store, actor, ['a:1', 'a:2', 'a:3'], [recorded]);

      // Expecting the right head: only the command id is wrong.
      const resend = makePack({ actor, version: { a: 3 }, parents: [{ a: 2 }], commandIds: [recorded] });
      const error = await expectRejection(store.append(resend, ['a:2'], { version: { a: 3 }, state: 'not written' }), DuplicateCommandError);
      expect(error.code).toBe('DUPLICATE_COMMAND');
      expect(error.actorKey).toBe(actorKey(actor));
      expect(error.commandId).toBe(recorded);

      expect(await observe(store, actor, ['a:1', 'a:2', 'a:3'], [recorded])).toEqual(before);
      expect((await store.commandVersions(actor, recorded)).map(key)).toEqual(['a:1']);
      expect(mine((await drain(store, start.cursor)).packs, [actor])).toEqual([]);
      // Nothing of the refused append was kept: the version is still free, with no snapshot.
      const next = makePack({ actor, version: { a: 3 }, parents: [{ a: 2 }] });
      await store.append(next, ['a:2']);
      expect(await store.loadChain(actor, 'a:3')).toEqual({ packs: [...chain, next] });
    });

    it('one recorded id among several is enough to refuse the pack', async () => {
      const actor = uniqueActor();
      await store.append(makePack({ actor, version: { a: 1 }, commandIds: ['first'] }), []);
      const mixed = makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }], commandIds: ['fresh', 'first'] });
      const error = await expectRejection(store.append(mixed, ['a:1']), DuplicateCommandError);
      expect(error.commandId).toBe('first');
      expect(await store.commandVersions(actor, 'fresh')).toEqual([]);
      expect(await store.getPacks(actor, ['a:2'])).toEqual([undefined]);
    });

    it('a command id that arrived with merge() is recorded too: appending it again is refused', async () => {
      const actor = uniqueActor();
      await store.merge([makePack({ actor, version: { b: 1 }, commandIds: ['replicated'] })]);
      const local = makePack({ actor, version: { a: 1, b: 1 }, parents: [{ b: 1 }], commandIds: ['replicated'] });
      await expectRejection(store.append(local, ['b:1']), DuplicateCommandError);
      expect((await store.heads(actor)).map((p) => key(p.version))).toEqual(['b:1']);
    });

    it('merge() still accepts a pack with a recorded command id, and other actors may use the same id', async () => {
      const actor = uniqueActor();
      const other = uniqueActor('other');
      await store.append(makePack({ actor, version: { a: 1 }, commandIds: ['retried'] }), []);
      // The same retry accepted on another branch during a partition.
      const sibling = makePack({ actor, version: { b: 1 }, commandIds: ['retried'] });
      expect(await store.merge([sibling])).toMatchObject({ added: 1, skipped: 0 });
      expect((await store.commandVersions(actor, 'retried')).map(key)).toEqual(['a:1', 'b:1']);
      await store.append(makePack({ actor: other, version: { a: 1 }, commandIds: ['retried'] }), []);
      expect((await store.commandVersions(other, 'retried')).map(key)).toEqual(['a:1']);
    });
  });
}
