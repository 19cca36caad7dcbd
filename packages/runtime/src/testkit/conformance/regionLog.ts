import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidCursorError } from '../../errors/index.js';
import { type Pack, actorKey } from '../../model/index.js';
import { parseRegionCursor } from '../../replication/frontier.js';
import type { EventStore } from '../../store/index.js';
import { type FrontierTable, type RegionLog, isRegionLog } from '../../store/regionLog.js';
import { appendChain, makeChain, uniqueActor } from '../fixtures.js';
import { type CapabilitySuite, capabilityGate, drain, expectRejection, logKeys, mine } from './support.js';

/**
 * RegionLog (#15): replicator checkpoints, `backlog`, `logMark` / `markReached`, the frontier
 * table and the declared regions. Registered for every store; its tests skip a store that does not
 * implement RegionLog unless the options say it does (`regionLog: true`).
 *
 * The backlog and mark tests count the packs of the whole log: they assume nobody else appends to
 * the store's log while a test runs (packs written before the test are fine).
 */
export function regionLogTests(suite: CapabilitySuite): void {
  describe('region log (RegionLog)', () => {
    capabilityGate(suite, 'RegionLog', isRegionLog);
    let store: EventStore & RegionLog;
    beforeEach(() => {
      store = suite.current() as EventStore & RegionLog;
    });

    checkpointTests(() => store);
    backlogTests(() => store);
    markTests(() => store);
    frontierTests(() => store);
    regionsTests(() => store);

    // Registered only for a store that can be reopened (a MemoryStore keeps its data in the object).
    if (suite.reopen !== undefined) it('checkpoints, the frontier table and the declared regions survive reopening the store', async () => {
      await appendChain(store, makeChain(uniqueActor(), 2));
      const { cursor } = await drain(store, undefined);
      await store.checkpoint('from-eu').save(cursor);
      const table: FrontierTable = { eu: { us: { cursor: 'us-id:4.0', at: 1_700_000_000_123 } }, us: { eu: { cursor, at: 1_700_000_000_456 } } };
      await store.mergeFrontier(table);
      await store.declareRegions(['eu', 'us']);

      const reopened = (await suite.reopen!(store)) as EventStore & RegionLog;
      try {
        expect(await reopened.checkpoint('from-eu').load()).toBe(cursor);
        expect(await reopened.checkpoint('from-us').load()).toBeUndefined();
        expect(await reopened.frontier()).toEqual(table);
        expect(await reopened.regions()).toEqual(['eu', 'us']);
        expect(await reopened.backlog(cursor)).toBe(0);
      } finally {
        await reopened.close();
      }
    });
  });
}

type Store = () => EventStore & RegionLog;

function checkpointTests(current: Store): void {
  describe('checkpoint(name)', () => {
    it('loads undefined until saved, then the last cursor saved under that name; names are independent', async () => {
      const store = current();
      await appendChain(store, makeChain(uniqueActor(), 3));
      const early = (await store.changesSince(undefined, 1)).cursor;
      const end = (await drain(store, undefined)).cursor;
      expect(early).not.toBe(end);
      const eu = store.checkpoint('from-eu.west_1');
      const us = store.checkpoint('from-us-2');
      expect(await eu.load()).toBeUndefined();
      expect(await us.load()).toBeUndefined();

      await eu.save(early);
      expect(await eu.load()).toBe(early);
      expect(await us.load()).toBeUndefined();
      await us.save(end);
      expect(await us.load()).toBe(end);
      expect(await eu.load()).toBe(early);
      await eu.save(end);
      await us.save(early);
      expect(await eu.load()).toBe(end);
      expect(await us.load()).toBe(early);
      // Another checkpoint object of the same name reads the same cursor.
      expect(await store.checkpoint('from-eu.west_1').load()).toBe(end);
      expect(await store.checkpoint('from-eu').load()).toBeUndefined();
    });

    it("keeps a cursor of another store as it is given: a checkpoint holds the source's cursor, not one of this log", async () => {
      const store = current();
      const checkpoint = store.checkpoint('from-us');
      for (const cursor of ['us-identity:12.0.7.3', '99999', `far-ahead:${'4.'.repeat(4095)}4`]) {
        await checkpoint.save(cursor);
        expect(await checkpoint.load()).toBe(cursor);
      }
    });
  });
}

function backlogTests(current: Store): void {
  describe('backlog(cursor)', () => {
    it('undefined counts every pack of the log; a cursor, the packs after it; 0 at the end', async () => {
      const store = current();
      const before = await drain(store, undefined);
      expect(await store.backlog(undefined)).toBe(before.packs.length);
      expect(await store.backlog(before.cursor)).toBe(0);

      // Appended and merged packs, over several actors (shards of a sharded store).
      const actors = [uniqueActor('b0'), uniqueActor('b1'), uniqueActor('b2')];
      for (const [i, actor] of actors.entries()) await appendChain(store, makeChain(actor, i + 1));
      await store.merge(makeChain(uniqueActor('b3'), 2, 'z'));
      expect(await store.backlog(before.cursor)).toBe(8);
      expect(await store.backlog(undefined)).toBe(before.packs.length + 8);

      for (const limit of [1, 3]) {
        let cursor = before.cursor;
        let left = 8;
        for (let page = 0; left > 0 && page < 100; page++) {
          const changes = await store.changesSince(cursor, limit);
          cursor = changes.cursor;
          left -= changes.packs.length;
          expect(await store.backlog(cursor), `limit ${limit}, after page ${page}`).toBe(left);
          expect((await drain(store, cursor)).packs).toHaveLength(left);
        }
        expect(left).toBe(0);
      }
      const end = await drain(store, before.cursor);
      expect(await store.backlog(end.cursor)).toBe(0);
    });

    it('refuses a cursor it did not hand out (InvalidCursorError): garbage, or ahead of its log', async () => {
      const store = current();
      await appendChain(store, makeChain(uniqueActor(), 2));
      const end = (await drain(store, undefined)).cursor;
      for (const garbage of ['not a cursor', '', '-1', 'x:y']) await expectRejection(store.backlog(garbage), InvalidCursorError);
      // The contract's cursor format (`[<identity>:]<offset>[.<offset>…]`): one entry past the
      // end of every log is a position the store never handed out.
      const parsed = parseRegionCursor(end);
      expect(parsed, `a RegionLog cursor is [<identity>:]<offset>[.<offset>…], got '${end}'`).toBeDefined();
      const ahead = `${parsed!.identity === undefined ? '' : `${parsed!.identity}:`}${parsed!.offsets.map((n) => n + 1).join('.')}`;
      await expectRejection(store.backlog(ahead), InvalidCursorError);
      // Still usable after the refusals.
      expect(await store.backlog(end)).toBe(0);
    });
  });
}

/** The cursor after each page of `limit` packs from `from` (the first entry: `from` itself), with everything read up to it. */
async function pageCursors(store: EventStore, from: string, limit: number): Promise<{ cursor: string; read: Pack[] }[]> {
  const pages = [{ cursor: from, read: [] as Pack[] }];
  for (let page = 0; page < 10_000; page++) {
    const last = pages[pages.length - 1]!;
    const changes = await store.changesSince(last.cursor, limit);
    if (changes.packs.length === 0) return pages;
    pages.push({ cursor: changes.cursor, read: [...last.read, ...changes.packs] });
  }
  throw new Error('changesSince never returned an empty page');
}

function markTests(current: Store): void {
  describe('logMark(actor) / markReached(cursor, mark)', () => {
    it("a reader reaches an actor's mark only once it has read every pack of the actor held when it was taken; the end of the log reaches every mark", async () => {
      const store = current();
      const start = (await drain(store, undefined)).cursor;
      // Several actors (several shards of a sharded store), their packs interleaved, one written last.
      const actors = Array.from({ length: 6 }, (_, i) => uniqueActor(`m${i}`));
      const chains = actors.map((actor, i) => makeChain(actor, 1 + (i % 3)));
      for (let at = 0; at < 3; at++) {
        for (const chain of chains) if (at < chain.length) await store.append(chain[at]!, at === 0 ? [] : [`a:${at}`]);
      }
      const last = uniqueActor('last');
      const lastChain = makeChain(last, 2);
      await appendChain(store, lastChain);
      const everyone = [...actors, last];
      const written = [...chains, lastChain];
      const marks = await Promise.all(everyone.map((actor) => store.logMark(actor)));

      const pages = await pageCursors(store, start, 1);
      expect(pages.length).toBeGreaterThan(1);
      for (const [i, actor] of everyone.entries()) {
        const wanted = logKeys(written[i]!);
        for (const { cursor, read } of pages) {
          const readAll = wanted.every((entry) => logKeys(mine(read, [actor])).includes(entry));
          if (store.markReached(cursor, marks[i]!)) expect(readAll, `${actorKey(actor)}'s mark reached by ${cursor}, before all its packs were read`).toBe(true);
        }
        expect(pages[0]!.read).toEqual([]);
        expect(store.markReached(pages[0]!.cursor, marks[i]!), `the cursor before ${actorKey(actor)}'s packs reaches its mark`).toBe(false);
        expect(store.markReached(pages[pages.length - 1]!.cursor, marks[i]!), `the end of the log does not reach ${actorKey(actor)}'s mark`).toBe(true);
      }
    });

    it("a mark taken before new packs of the actor is reached earlier than one taken after them", async () => {
      const store = current();
      const start = (await drain(store, undefined)).cursor;
      const actor = uniqueActor('grows');
      const chain = makeChain(actor, 4);
      await appendChain(store, chain.slice(0, 2));
      const early = await store.logMark(actor);
      await appendChain(store, chain.slice(2), ['a:2']);
      const late = await store.logMark(actor);

      const pages = await pageCursors(store, start, 1);
      const reaches = (mark: string) => pages.findIndex(({ cursor }) => store.markReached(cursor, mark));
      const readAt = (page: number) => logKeys(mine(pages[page]!.read, [actor]));
      expect(reaches(early)).toBeGreaterThan(0);
      expect(reaches(late)).toBeGreaterThan(reaches(early));
      expect(readAt(reaches(early))).toEqual(expect.arrayContaining(logKeys(chain.slice(0, 2))));
      expect(readAt(reaches(early))).not.toContain(logKeys(chain.slice(3))[0]);
      expect(readAt(reaches(late))).toEqual(logKeys(chain));
      expect(store.markReached(pages[reaches(late)]!.cursor, early)).toBe(true);
      // Taken again with nothing new, a mark is reached by the same cursors.
      const again = await store.logMark(actor);
      expect(reaches(again)).toBe(reaches(late));
    });

    it('an actor with no packs here has a mark the current end of the log reaches', async () => {
      const store = current();
      await appendChain(store, makeChain(uniqueActor(), 1));
      const mark = await store.logMark(uniqueActor('never-written'));
      const end = (await drain(store, undefined)).cursor;
      expect(store.markReached(end, mark)).toBe(true);
    });
  });
}

function frontierTests(current: Store): void {
  describe('frontier() / mergeFrontier(entries)', () => {
    // Cursors into other stores' logs: the table holds them as they are (this store cannot read them).
    it('is empty until entries are merged; keeps every (reader, source) entry as written', async () => {
      const store = current();
      expect(await store.frontier()).toEqual({});
      const table: FrontierTable = {
        'eu-west.1': { us_east: { cursor: 'us-id:4.0.7', at: 1_700_000_000_001 }, 'ap-2': { cursor: 'ap-id:9', at: 1_700_000_000_002 } },
        us_east: { 'eu-west.1': { cursor: 'eu-id:3.3.3', at: 1_700_000_000_003 } },
        'ap-2': { 'eu-west.1': { cursor: '12', at: 5 } },
      };
      await store.mergeFrontier(table);
      expect(await store.frontier()).toEqual(table);
      await store.mergeFrontier({});
      expect(await store.frontier()).toEqual(table);
      // A merge of one entry leaves the others as they were.
      await store.mergeFrontier({ us_east: { 'ap-2': { cursor: 'ap-id:10', at: 1_700_000_000_004 } } });
      expect(await store.frontier()).toEqual({ ...table, us_east: { ...table.us_east, 'ap-2': { cursor: 'ap-id:10', at: 1_700_000_000_004 } } });
    });

    it('an entry only moves forward: an older or incomparable cursor of the same log never replaces it, a later one does', async () => {
      const store = current();
      const held = { cursor: 'src:3.5', at: 2_000 };
      const entry = async () => (await store.frontier())['eu']?.['us'];
      const offer = (cursor: string, at: number) => store.mergeFrontier({ eu: { us: { cursor, at } } });
      await offer(held.cursor, held.at);
      expect(await entry()).toEqual(held);
      await offer('src:2.5', 9_000);
      expect(await entry(), 'an older cursor saved later').toEqual(held);
      await offer('src:4.1', 9_000);
      expect(await entry(), 'ahead in one log, behind in another').toEqual(held);
      await offer('src:3.5', 1_000);
      expect(await entry(), 'the same cursor saved earlier').toEqual(held);
      await offer('src:3.5', 3_000);
      expect(await entry(), 'the same cursor saved later (a heartbeat)').toEqual({ cursor: 'src:3.5', at: 3_000 });
      await offer('src:3.6', 2_500);
      expect(await entry(), 'a later cursor, whatever its time').toEqual({ cursor: 'src:3.6', at: 2_500 });
    });

    it('a cursor of another log (the source started over with a new identity) replaces the entry only when saved later', async () => {
      const store = current();
      const entry = async () => (await store.frontier())['eu']?.['us'];
      await store.mergeFrontier({ eu: { us: { cursor: 'old-id:7.7', at: 5_000 } } });
      await store.mergeFrontier({ eu: { us: { cursor: 'new-id:0.1', at: 4_000 } } });
      expect(await entry()).toEqual({ cursor: 'old-id:7.7', at: 5_000 });
      await store.mergeFrontier({ eu: { us: { cursor: 'new-id:0.1', at: 6_000 } } });
      expect(await entry()).toEqual({ cursor: 'new-id:0.1', at: 6_000 });
    });

    it('merges several readers and sources at once, each entry on its own', async () => {
      const store = current();
      await store.mergeFrontier({ eu: { us: { cursor: 'u:5', at: 10 }, ap: { cursor: 'a:5', at: 10 } }, us: { eu: { cursor: 'e:5', at: 10 } } });
      await store.mergeFrontier({
        eu: { us: { cursor: 'u:4', at: 20 }, ap: { cursor: 'a:6', at: 20 } },
        us: { eu: { cursor: 'e:5', at: 30 }, ap: { cursor: 'a:1', at: 30 } },
        ap: { eu: { cursor: 'e:2', at: 40 } },
      });
      expect(await store.frontier()).toEqual({
        eu: { us: { cursor: 'u:5', at: 10 }, ap: { cursor: 'a:6', at: 20 } },
        us: { eu: { cursor: 'e:5', at: 30 }, ap: { cursor: 'a:1', at: 30 } },
        ap: { eu: { cursor: 'e:2', at: 40 } },
      });
    });
  });
}

function regionsTests(current: Store): void {
  describe('regions() / declareRegions(regions)', () => {
    it('is empty until declared, then the regions in the order declared; a new declaration replaces the list', async () => {
      const store = current();
      expect(await store.regions()).toEqual([]);
      await store.declareRegions(['us_east', 'eu-west.1', 'ap']);
      expect(await store.regions()).toEqual(['us_east', 'eu-west.1', 'ap']);
      const copy = await store.regions();
      copy.push('changed');
      expect(await store.regions()).toEqual(['us_east', 'eu-west.1', 'ap']);
      await store.declareRegions(['ap', 'eu-west.1']);
      expect(await store.regions()).toEqual(['ap', 'eu-west.1']);
    });
  });
}
