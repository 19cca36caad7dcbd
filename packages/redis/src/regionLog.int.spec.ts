/**
 * RegionLog and MergeLog on Redis, beyond the conformance groups: where the data lives (key names
 * and types), damaged data named by key and field, cursors of another store, the precision of a
 * log mark over the shards, and refused input that writes nothing. Data loss: dataLoss.int.spec.ts;
 * destroy: destroy.int.spec.ts.
 */
import { CorruptDataError, InvalidCursorError, InvalidOptionError } from '@troupe/runtime';
import { type FrontierTable, type MergeRecord, RegionConfigError, encodeValue } from '@troupe/runtime/store';
import { appendChain, makeChain, requireService, uniqueActor } from '@troupe/runtime/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeySchema } from './redisStore/keySchema.js';
import type { RedisStore } from './redisStore/index.js';
import { createTestStore, testRedisUrl } from './specHelpers/testStore.js';
import { keysMatching } from './testing/keys.js';

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

function record(actor: { type: string; id: string }, n: number): MergeRecord {
  return {
    actor,
    version: { eu: n + 1, us: 1 },
    ancestor: { eu: n },
    heads: [{ eu: n + 1 }, { eu: n, us: 1 }],
    replayed: 2,
    droppedDuplicates: 0,
    compensations: ['overdraft'],
    region: 'eu',
    divergedAt: 1_700_000_000_000,
    mergedAt: 1_700_000_000_100,
    durationMs: 3,
  };
}

describe.skipIf(!available)('RedisStore as a RegionLog and MergeLog', () => {
  let raw: Redis;
  beforeAll(() => {
    raw = new Redis(testRedisUrl);
  });
  afterAll(() => raw.disconnect());

  async function withStore(run: (store: RedisStore) => Promise<void>, shards = 16): Promise<void> {
    const store = await createTestStore({ shards });
    try {
      await run(store);
    } finally {
      await store.destroy();
    }
  }

  const meta = (store: RedisStore, name: string) => `${store.prefix}:{${store.prefix}.meta}:${name}`;

  it('keeps the frontier table, the regions and merge records at the keys the README lists, each of the type KeySchema expects', async () => {
    await withStore(async (store) => {
      const actor = uniqueActor();
      await appendChain(store, makeChain(actor, 1));
      await store.mergeFrontier({ 'eu-west.1': { us_east: { cursor: 'us-id:3.4', at: 1_700_000_000_123 } } });
      await store.declareRegions(['eu-west.1', 'us_east']);
      await store.recordMerge(record(actor, 1));
      await store.checkpoint('from-us_east').save((await store.changesSince(undefined, 10)).cursor);

      expect(await raw.hgetall(meta(store, 'frontier'))).toEqual({ 'eu-west.1/us_east': JSON.stringify({ cursor: 'us-id:3.4', at: 1_700_000_000_123 }) });
      expect(await raw.get(meta(store, 'regions'))).toBe('["eu-west.1","us_east"]');
      const mergesKey = store.keysOf(actor).merges;
      expect(mergesKey).toBe(`${store.keysOf(actor).tag}:${actor.type}:${actor.id}:m`);
      expect(await raw.llen(mergesKey)).toBe(1);
      const keys = await keysMatching(raw, `${store.prefix}:*`);
      expect(keys).toEqual(expect.arrayContaining([meta(store, 'frontier'), meta(store, 'regions'), mergesKey, meta(store, 'cursor:from-us_east')]));
      for (const key of keys) expect(await raw.type(key), key).toBe(KeySchema.expectedTypeOf(key));
    });
  });

  it('a damaged frontier entry, field or region list is a CorruptDataError naming the key (and the field)', async () => {
    await withStore(async (store) => {
      const key = meta(store, 'frontier');
      await store.mergeFrontier({ eu: { us: { cursor: 'u:1', at: 1 } } });
      for (const [field, value] of [
        ['eu/us', 'not json'],
        ['eu/us', '{"cursor":7,"at":1}'],
        ['eu/us', '{"cursor":"u:1"}'],
        ['eu/us', '[1,2]'],
        ['eu', '{"cursor":"u:1","at":1}'],
        ['eu/us/ap', '{"cursor":"u:1","at":1}'],
        ['eu/__proto__', '{"cursor":"u:1","at":1}'],
      ] as const) {
        await raw.del(key);
        await raw.hset(key, field, value);
        const error = await store.frontier().then(() => undefined, (e: unknown) => e);
        expect(error, `${field} = ${value}`).toBeInstanceOf(CorruptDataError);
        expect((error as CorruptDataError).where).toBe(`${key} field ${field}`);
        // mergeFrontier reads the table first: it refuses too, and writes nothing.
        await expect(store.mergeFrontier({ ap: { eu: { cursor: 'e:1', at: 1 } } })).rejects.toBeInstanceOf(CorruptDataError);
        expect(await raw.hkeys(key)).toEqual([field]);
      }
      const regions = meta(store, 'regions');
      for (const value of ['eu', '{"eu":1}', '["eu",1]', '["eu","no spaces"]', '[""]']) {
        await raw.set(regions, value);
        const error = await store.regions().then(() => undefined, (e: unknown) => e);
        expect(error, value).toBeInstanceOf(CorruptDataError);
        expect((error as CorruptDataError).where).toBe(regions);
      }
      // Another type of value at the key: the WRONGTYPE reply named by key.
      await raw.del(key);
      await raw.set(key, 'a string');
      await expect(store.frontier()).rejects.toThrow(CorruptDataError);
      await expect(store.frontier()).rejects.toThrow(key);
    });
  });

  it('a damaged merge record is a CorruptDataError naming the key and index; a foreign type at the key writes nothing', async () => {
    await withStore(async (store) => {
      const actor = uniqueActor();
      const key = store.keysOf(actor).merges;
      await store.recordMerge(record(actor, 1));
      const { replayed: _dropped, ...incomplete } = record(actor, 2);
      for (const bytes of [Buffer.from([0xde, 0xad, 0xbe, 0xef]), encodeValue('a string'), encodeValue(incomplete), encodeValue({ ...record(actor, 2), heads: [{ eu: 0 }] })]) {
        await raw.lpush(key, bytes);
        const error = await store.merges(actor).then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(CorruptDataError);
        expect((error as CorruptDataError).where).toBe(`${key} index 0`);
        await raw.lpop(key);
      }
      expect(await store.merges(actor)).toEqual([record(actor, 1)]);

      const other = uniqueActor();
      const foreign = store.keysOf(other).merges;
      await raw.hset(foreign, 'x', 'y');
      await expect(store.recordMerge(record(other, 1))).rejects.toThrow(CorruptDataError);
      await expect(store.recordMerge(record(other, 1))).rejects.toThrow(foreign);
      expect(await raw.hgetall(foreign)).toEqual({ x: 'y' });
    });
  });

  it('backlog refuses a cursor of another store (naming both identities) or of another shard count, and reads a cursor without identity', async () => {
    await withStore(async (store) => {
      await appendChain(store, makeChain(uniqueActor(), 3));
      const other = await createTestStore({ shards: 16 });
      const fewer = await createTestStore({ shards: 4 });
      try {
        const theirs = (await other.changesSince(undefined, 10)).cursor;
        const error = await store.backlog(theirs).then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidCursorError);
        expect((error as Error).message).toContain(theirs.split(':')[0]);
        expect((error as Error).message).toContain((await store.changesSince(undefined, 0)).cursor.split(':')[0]);
        await expect(store.backlog((await fewer.changesSince(undefined, 10)).cursor)).rejects.toBeInstanceOf(InvalidCursorError);
        // The previous release's cursors (offsets only) are still read.
        const offsets = (await store.changesSince(undefined, 1)).cursor.split(':')[1]!;
        expect(await store.backlog(offsets)).toBe(2);
      } finally {
        await Promise.all([other.destroy(), fewer.destroy()]);
      }
    });
  });

  it("a log mark holds the length of the actor's shard log only: reading that shard reaches it, whatever is left in the others", async () => {
    await withStore(async (store) => {
      const [actor, elsewhere] = twoActorsInDifferentShards(store);
      const before = makeChain(elsewhere, 3);
      await store.append(before[0]!, []);
      await appendChain(store, makeChain(actor, 3));
      const mark = await store.logMark(actor);
      const identity = (await store.changesSince(undefined, 0)).cursor.split(':')[0];
      expect(mark).toBe(`${identity}:${Array.from({ length: 4 }, (_, shard) => (shard === store.shardOf(actor) ? 3 : 0)).join('.')}`);
      // Packs of another shard written after the mark, then a reader that has read only the actor's shard.
      await appendChain(store, before.slice(1), ['a:1']);
      const offsets: number[] = Array.from({ length: 4 }, (_, shard) => (shard === store.shardOf(actor) ? 3 : 0));
      expect(store.markReached(`${identity}:${offsets.join('.')}`, mark)).toBe(true);
      offsets[store.shardOf(actor)] = 2;
      expect(store.markReached(`${identity}:${offsets.join('.')}`, mark)).toBe(false);
      expect(store.markReached(`another-identity:${[3, 3, 3, 3].join('.')}`, mark)).toBe(false);
      expect(await store.backlog(mark)).toBe(3);
    }, 4);
  });

  it('refuses a region id that is not one, or a malformed entry, before writing anything', async () => {
    await withStore(async (store) => {
      const bad: FrontierTable[] = [{ 'e/u': { us: { cursor: 'u:1', at: 1 } } }, { eu: { '': { cursor: 'u:1', at: 1 } } }, { eu: { 'u s': { cursor: 'u:1', at: 1 } } }];
      for (const table of bad) await expect(store.mergeFrontier({ ok: { us: { cursor: 'u:1', at: 1 } }, ...table })).rejects.toBeInstanceOf(RegionConfigError);
      await expect(store.mergeFrontier({ eu: { us: { cursor: 'u:1', at: Number.NaN } } })).rejects.toBeInstanceOf(InvalidOptionError);
      await expect(store.mergeFrontier({ eu: { us: { cursor: 5 as unknown as string, at: 1 } } })).rejects.toBeInstanceOf(InvalidOptionError);
      await expect(store.declareRegions(['eu', 'not/one'])).rejects.toBeInstanceOf(RegionConfigError);
      expect(await store.frontier()).toEqual({});
      expect(await store.regions()).toEqual([]);
    });
  });
});

/** Two actors whose keys live in different shards of `store`. */
function twoActorsInDifferentShards(store: RedisStore): [{ type: string; id: string }, { type: string; id: string }] {
  const first = uniqueActor('mark');
  for (let i = 0; i < 100; i++) {
    const other = uniqueActor(`other${i}`);
    if (store.shardOf(other) !== store.shardOf(first)) return [first, other];
  }
  throw new Error('no actor in another shard after 100 tries');
}
