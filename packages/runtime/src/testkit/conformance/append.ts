import { beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../../store/index.js';
import { appendChain, makeChain, makeEvent, makePack, uniqueActor } from '../fixtures.js';
import { type CurrentStore, firstCommandVersion, key, keysOf, richData, tryToMutate } from './support.js';

/** Appends and reads back: first packs, chains of appends, expected heads as a set, copies on read. */
export function appendTests(current: CurrentStore): void {
  describe('append and heads', () => {
    let store: EventStore;
    beforeEach(() => {
      store = current();
    });

    it('an actor without packs has no heads, no packs and no commands', async () => {
      const actor = uniqueActor();
      expect(await store.heads(actor)).toEqual([]);
      expect(await store.getPacks(actor, ['a:1'])).toEqual([undefined]);
      expect(await firstCommandVersion(store, actor, 'cmd-none')).toBeUndefined();
    });

    it('appends the first pack with expectedHeads [] and reads it back exactly', async () => {
      const actor = uniqueActor();
      const ts = 1700000000000.0009765625;
      const pack = makePack({
        actor,
        version: { a: 1 },
        ts,
        commandIds: ['cmd-1', 'cmd-2'],
        events: [
          makeEvent(actor, { type: 'rich', data: richData, ts, causationId: 'cmd-1', initiatedBy: 'user-7', replica: 'a' }),
          makeEvent(actor, { type: 'plain', data: 'just a string', ts: ts + 0.5, causationId: 'cmd-2', replica: 'a' }),
          makeEvent(actor, { type: 'nulled', data: null, ts, causationId: 'cmd-2', replica: 'a' }),
        ],
      });
      const before = structuredClone(pack);
      await store.append(pack, []);
      expect(pack, 'append must not mutate its argument').toEqual(before);

      const heads = await store.heads(actor);
      expect(heads).toEqual([pack]);
      expect(heads[0]!.ts).toBe(ts);
      expect(heads[0]!.events[0]!.ts).toBe(ts);
      expect(heads[0]!.events[1]!.ts).toBe(ts + 0.5);
      expect(heads[0]!.events[0]!.data).toEqual(richData);
      expect(Object.is((heads[0]!.events[0]!.data as typeof richData).tiny, 5e-324)).toBe(true);
      expect(await store.getPacks(actor, ['a:1'])).toEqual([pack]);
      expect(await store.loadChain(actor, 'a:1')).toEqual({ packs: [pack] });
    });

    it('reads return copies or deep-frozen packs: changing a returned pack throws or changes a copy, never the store', async () => {
      const actor = uniqueActor();
      const pack = makePack({ actor, version: { a: 1 }, events: [makeEvent(actor, { type: 'rich', data: { ...richData, nested: { list: [1, { deep: 'x' }] } }, causationId: 'cmd-r', replica: 'a' })], commandIds: ['cmd-r'] });
      const before = structuredClone(pack);
      await store.append(pack, []);
      expect(Object.isFrozen(pack) || Object.isFrozen(pack.events), 'append leaves its argument as it was (a store copies, it does not freeze the caller\'s pack)').toBe(false);
      for (const read of [(await store.heads(actor))[0]!, (await store.getPacks(actor, ['a:1']))[0]!, (await store.loadChain(actor, 'a:1')).packs[0]!]) {
        tryToMutate(read, makeEvent(actor));
      }
      // The caller's own pack is its own: changing it after the append does not reach the store.
      (pack.events[0]!.data as Record<string, unknown>)['injected'] = 1;
      (pack.version as Record<string, number>)['a'] = 7;
      expect(await store.heads(actor)).toEqual([before]);
      expect(await store.getPacks(actor, ['a:1'])).toEqual([before]);
      expect(await store.loadChain(actor, 'a:1')).toEqual({ packs: [before] });
    });

    it('a merge pack\'s state read as a chain base is the caller\'s to change: the store is unchanged', async () => {
      const actor = uniqueActor();
      const root = makePack({ actor, version: { a: 1 } });
      const side = makePack({ actor, version: { b: 1 }, parents: [] });
      await store.append(root, []);
      await store.merge([side]);
      const merged = makePack({ actor, kind: 'merge', version: { a: 1, b: 1 }, parents: [{ a: 1 }, { b: 1 }], state: { n: 3, list: [1] } });
      await store.append(merged, ['a:1', 'b:1']);
      const chain = await store.loadChain(actor, 'a:1,b:1');
      const state = chain.base!.state as { n: number; list: number[] };
      state.n = 4;
      state.list.push(2);
      expect((await store.loadChain(actor, 'a:1,b:1')).base).toEqual({ version: { a: 1, b: 1 }, state: { n: 3, list: [1] } });
      tryToMutate((await store.heads(actor))[0]!, makeEvent(actor));
      expect(await store.heads(actor)).toEqual([merged]);
    });

    it('a snapshot state is the store\'s own: the state given is copied, a chain base read from it is the caller\'s to change, a shipped one is a copy or deep-frozen', async () => {
      const actor = uniqueActor();
      const [p1, p2] = makeChain(actor, 2);
      const given = { n: 2, list: [1, { deep: 'x' }] };
      await store.append(p1!, []);
      await store.append(p2!, ['a:1'], { version: p2!.version, state: given });
      const saved = { n: 9, list: [9] };
      await store.saveSnapshot(actor, { version: p1!.version, state: saved });
      // The caller's states go on being its own (an entity changes its live state in place).
      given.n = 3;
      (given.list[1] as { deep: string }).deep = 'changed';
      saved.list.push(10);
      const base = (await store.loadChain(actor, 'a:2')).base!;
      expect(base).toEqual({ version: p2!.version, state: { n: 2, list: [1, { deep: 'x' }] } });
      // A chain base becomes a live state: changing it never reaches the store.
      const live = base.state as { n: number; list: unknown[] };
      live.n = 4;
      live.list.push(2);
      expect((await store.loadChain(actor, 'a:2')).base!.state).toEqual({ n: 2, list: [1, { deep: 'x' }] });
      expect((await store.loadChain(actor, 'a:1')).base!.state).toEqual({ n: 9, list: [9] });
      // A snapshot shipped in the log: changing it throws (deep-frozen) or changes a copy.
      let shippedCount = 0;
      for (let page = await store.changesSince(undefined, 1_000); page.packs.length > 0; page = await store.changesSince(page.cursor, 1_000)) {
        for (const shipped of page.snapshots) {
          if (shipped.actor.id !== actor.id || shipped.actor.type !== actor.type) continue;
          shippedCount++;
          const state = shipped.state as { n: number; list: { deep?: string }[] };
          try {
            state.n = 5;
          } catch (error) {
            expect(error).toBeInstanceOf(TypeError);
          }
          try {
            state.list[1]!.deep = 'y';
          } catch (error) {
            expect(error).toBeInstanceOf(TypeError);
          }
        }
      }
      expect(shippedCount, 'the snapshot written with append() is shipped with its pack').toBe(1);
      expect((await store.loadChain(actor, 'a:2')).base!.state).toEqual({ n: 2, list: [1, { deep: 'x' }] });
    });

    it('a chain of appends keeps exactly one head, the latest', async () => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 5);
      await appendChain(store, chain);
      expect(await store.heads(actor)).toEqual([chain[4]]);
      expect(keysOf(await store.getPacks(actor, chain.map((p) => key(p.version))))).toEqual(chain.map((p) => key(p.version)));
    });

    it('expectedHeads is compared as a set', async () => {
      const actor = uniqueActor();
      const root = makePack({ actor, version: { a: 1 } });
      const left = makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }] });
      const right = makePack({ actor, version: { a: 1, b: 1 }, parents: [{ a: 1 }] });
      await store.append(root, []);
      await store.append(left, ['a:1']);
      await store.merge([right]);
      expect(keysOf(await store.heads(actor))).toEqual(['a:1,b:1', 'a:2']);
      const merged = makePack({ actor, kind: 'merge', version: { a: 2, b: 1 }, parents: [{ a: 2 }, { a: 1, b: 1 }], state: { n: 3 } });
      // Given in the reverse of canonical order.
      await store.append(merged, ['a:2', 'a:1,b:1']);
      expect(await store.heads(actor)).toEqual([merged]);
    });
  });

  describe('getPacks', () => {
    let store: EventStore;
    beforeEach(() => {
      store = current();
    });

    it('returns packs in the requested order, undefined for unknown keys', async () => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 3);
      await appendChain(store, chain);
      const got = await store.getPacks(actor, ['a:3', 'b:1', 'a:1', 'a:9', 'a:2', 'a:1']);
      expect(got).toEqual([chain[2], undefined, chain[0], undefined, chain[1], chain[0]]);
      expect(await store.getPacks(actor, [])).toEqual([]);
      expect(await store.getPacks(uniqueActor('unknown'), ['a:1', 'a:2'])).toEqual([undefined, undefined]);
    });
  });
}
