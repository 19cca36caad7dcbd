import { beforeEach, describe, expect, it } from 'vitest';
import { AppendConflictError } from '../../errors/index.js';
import type { ActorRef } from '../../model/index.js';
import type { EventStore } from '../../store/index.js';
import { appendChain, makePack, uniqueSuffix } from '../fixtures.js';
import { type CurrentStore, expectRejection, firstCommandVersion } from './support.js';

/** Actors never see each other’s packs, heads, chains, snapshots or command ids. */
export function isolationTests(current: CurrentStore): void {
  describe('isolation', () => {
    let store: EventStore;
    beforeEach(() => {
      store = current();
    });

    it('actors do not see each other’s packs, heads, chains, snapshots or commands', async () => {
      const suffix = uniqueSuffix();
      const a: ActorRef = { type: 'conformance', id: `iso-${suffix}` };
      const b: ActorRef = { type: 'conformance', id: `iso-${suffix}-b` };
      const c: ActorRef = { type: 'conformance.other', id: `iso-${suffix}` };
      const packA = makePack({ actor: a, version: { a: 1 }, commandIds: ['shared-cmd'] });
      const packA2 = makePack({ actor: a, version: { a: 2 }, parents: [{ a: 1 }], commandIds: ['only-a'] });
      await appendChain(store, [packA, packA2]);
      await store.saveSnapshot(a, { version: { a: 1 }, state: 'snapshot of a' });

      for (const other of [b, c]) {
        expect(await store.heads(other)).toEqual([]);
        expect(await store.getPacks(other, ['a:1', 'a:2'])).toEqual([undefined, undefined]);
        expect(await firstCommandVersion(store, other, 'shared-cmd')).toBeUndefined();
        expect(await firstCommandVersion(store, other, 'only-a')).toBeUndefined();
        // A new actor starts from no heads, whatever its neighbours hold.
        const own = makePack({ actor: other, version: { a: 1 }, commandIds: ['shared-cmd'] });
        await store.append(own, []);
        const own2 = makePack({ actor: other, version: { a: 2 }, parents: [{ a: 1 }] });
        await store.append(own2, ['a:1']);
        expect(await store.heads(other)).toEqual([own2]);
        // a's snapshot at a:1 is not other's.
        expect(await store.loadChain(other, 'a:2')).toEqual({ packs: [own, own2] });
        expect(await firstCommandVersion(store, other, 'shared-cmd')).toEqual({ a: 1 });
      }

      expect(await store.heads(a)).toEqual([packA2]);
      expect(await store.getPacks(a, ['a:1', 'a:2'])).toEqual([packA, packA2]);
      expect(await store.loadChain(a, 'a:2')).toEqual({ base: { version: { a: 1 }, state: 'snapshot of a' }, packs: [packA2] });
      await expectRejection(store.append(makePack({ actor: a, version: { a: 3 }, parents: [{ a: 2 }] }), []), AppendConflictError);
    });
  });
}
