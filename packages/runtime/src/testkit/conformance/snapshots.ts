import { beforeEach, describe, expect, it } from 'vitest';
import { type ActorRef, actorKey } from '../../model/index.js';
import type { EventStore } from '../../store/index.js';
import { makeChain, uniqueActor } from '../fixtures.js';
import { type CurrentStore, drain, key, keysOf, richData } from './support.js';

/** Snapshots written with append() or merge() travel with their packs in the log. */
export function shippedSnapshotTests(current: CurrentStore): void {
  describe('snapshots travel with packs', () => {
    let store: EventStore;
    beforeEach(() => {
      store = current();
    });

    /** Every snapshot shipped in the log after `cursor`, for the given actors. */
    async function shippedSnapshots(cursor: string | undefined, actors: readonly ActorRef[]) {
      const wanted = new Set(actors.map(actorKey));
      const out: { actor: string; version: string; state: unknown }[] = [];
      for (let page = 0; page < 10_000; page++) {
        const changes = await store.changesSince(cursor, 2);
        if (changes.packs.length === 0) return out;
        for (const s of changes.snapshots) {
          if (wanted.has(actorKey(s.actor))) out.push({ actor: actorKey(s.actor), version: key(s.version), state: s.state });
        }
        cursor = changes.cursor;
      }
      throw new Error('changesSince never returned an empty page');
    }

    it('a snapshot written with append() is shipped in the log with its pack, and only then', async () => {
      const actor = uniqueActor();
      const start = await drain(store, undefined);
      const [p1, p2, p3] = makeChain(actor, 3);
      await store.append(p1!, []);
      await store.append(p2!, ['a:1'], { version: p2!.version, state: { at: 2, rich: richData } });
      await store.append(p3!, ['a:2']);
      await store.saveSnapshot(actor, { version: p3!.version, state: { local: 'cache only' } });
      expect(await shippedSnapshots(start.cursor, [actor])).toEqual([
        { actor: actorKey(actor), version: 'a:2', state: { at: 2, rich: richData } },
      ]);
    });

    it('merge() keeps shipped snapshots: the copy loads from them and ships them on', async () => {
      const actor = uniqueActor();
      const other = uniqueActor('other');
      const start = await drain(store, undefined);
      const chain = makeChain(actor, 4);
      // The same version key for another actor in the same batch must not pick up this actor's snapshot.
      const otherChain = makeChain(other, 2);
      const snapshots = [
        { actor, version: chain[1]!.version, state: { mine: true } },
        { actor: other, version: { a: 2 }, state: { theirs: true } },
        { actor: other, version: { a: 9 }, state: 'for a pack that is not in the batch' },
      ];
      await store.merge([...chain, ...otherChain], snapshots);
      const copied = await store.loadChain(actor, 'a:4');
      expect(copied.base).toEqual({ version: { a: 2 }, state: { mine: true } });
      expect(keysOf(copied.packs)).toEqual(['a:3', 'a:4']);
      const otherChainLoad = await store.loadChain(other, 'a:2');
      expect(otherChainLoad).toEqual({ base: { version: { a: 2 }, state: { theirs: true } }, packs: [] });
      const shipped = await shippedSnapshots(start.cursor, [actor, other]);
      expect(shipped.sort((x, y) => x.actor.localeCompare(y.actor))).toEqual(
        [
          { actor: actorKey(actor), version: 'a:2', state: { mine: true } },
          { actor: actorKey(other), version: 'a:2', state: { theirs: true } },
        ].sort((x, y) => x.actor.localeCompare(y.actor)),
      );
      // Idempotent: shipping the same batch again changes nothing.
      expect(await store.merge([...chain, ...otherChain], snapshots)).toMatchObject({ added: 0, skipped: 6 });
      expect(await shippedSnapshots(start.cursor, [actor, other])).toHaveLength(2);
    });
  });
}
