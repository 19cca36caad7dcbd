import { beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../../store/index.js';
import { appendChain, makePack, uniqueActor } from '../fixtures.js';
import { type CurrentStore, firstCommandVersion, key } from './support.js';

/** commandVersions: where each command id was applied, for appended and merged packs. */
export function commandVersionsTests(current: CurrentStore): void {
  describe('commandVersions', () => {
    let store: EventStore;
    beforeEach(() => {
      store = current();
    });

    it('returns the version of the pack that recorded a command id, undefined for unknown ids', async () => {
      const actor = uniqueActor();
      const first = makePack({ actor, version: { a: 1 }, commandIds: ['cmd-a'] });
      const second = makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }], commandIds: ['cmd-b', 'cmd-c'] });
      await appendChain(store, [first, second]);
      expect(await firstCommandVersion(store, actor, 'cmd-a')).toEqual({ a: 1 });
      expect(await firstCommandVersion(store, actor, 'cmd-b')).toEqual({ a: 2 });
      expect(await firstCommandVersion(store, actor, 'cmd-c')).toEqual({ a: 2 });
      expect(await firstCommandVersion(store, actor, 'cmd-unknown')).toBeUndefined();
      expect(await firstCommandVersion(store, actor, '')).toBeUndefined();
    });

    it('works for command ids of merged (replicated) packs', async () => {
      const actor = uniqueActor();
      await store.append(makePack({ actor, version: { a: 1 }, commandIds: ['local'] }), []);
      await store.merge([
        makePack({ actor, version: { a: 1, b: 1 }, parents: [{ a: 1 }], commandIds: ['remote-1'] }),
        makePack({ actor, version: { a: 1, b: 2 }, parents: [{ a: 1, b: 1 }], commandIds: ['remote-2', 'remote-3'] }),
      ]);
      expect(await firstCommandVersion(store, actor, 'local')).toEqual({ a: 1 });
      expect(await firstCommandVersion(store, actor, 'remote-1')).toEqual({ a: 1, b: 1 });
      expect(await firstCommandVersion(store, actor, 'remote-3')).toEqual({ a: 1, b: 2 });
    });

    it('a command id recorded by two packs (a retry applied on two branches) lists both, in recorded order, once each', async () => {
      const actor = uniqueActor();
      await store.append(makePack({ actor, version: { a: 1 } }), []);
      await store.append(makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }], commandIds: ['retried'] }), ['a:1']);
      const sibling = makePack({ actor, version: { a: 1, b: 1 }, parents: [{ a: 1 }], commandIds: ['retried'] });
      await store.merge([sibling]);
      await store.merge([sibling]);
      expect((await store.commandVersions(actor, 'retried')).map(key)).toEqual(['a:2', 'a:1,b:1']);
      expect(await store.commandVersions(actor, 'never-applied')).toEqual([]);
    });
  });
}
