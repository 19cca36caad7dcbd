/**
 * `history` on Redis, beyond the conformance group: a big actor read in HSCAN pages, the limit
 * refused before any pack is read, and damaged data named by key and field.
 */
import { CorruptDataError, InvalidOptionError, LimitExceededError, MemoryStore } from '@troupe/runtime';
import { VC, causalOrder } from '@troupe/runtime/store';
import { appendChain, makeChain, makePack, requireService, uniqueActor } from '@troupe/runtime/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisStore } from './redisStore/index.js';
import { createTestStore, testRedisUrl } from './specHelpers/testStore.js';

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

/** Garbage: not the format byte troupe writes, not msgpack. */
const garbage = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]);

describe.skipIf(!available)('RedisStore history', () => {
  let raw: Redis;
  beforeAll(() => {
    raw = new Redis(testRedisUrl);
  });
  afterAll(() => raw.disconnect());

  async function withStore(run: (store: RedisStore) => Promise<void>): Promise<void> {
    const store = await createTestStore();
    try {
      await run(store);
    } finally {
      await store.destroy();
    }
  }

  it('reads a big actor in HSCAN pages: 2,500 packs with a fork and a merge, as MemoryStore lists them', async () => {
    await withStore(async (store) => {
      const actor = uniqueActor();
      const main = makeChain(actor, 2_000);
      const fork = makeChain(actor, 499, 'b', main[999]!.version);
      const merged = makePack({ actor, kind: 'merge', version: VC.merge(main[1_999]!.version, fork[498]!.version), parents: [main[1_999]!.version, fork[498]!.version], state: { n: 1 } });
      const memory = new MemoryStore();
      for (const target of [store, memory]) {
        for (let from = 0; from < main.length; from += 500) await target.merge(main.slice(from, from + 500));
        await target.merge([...fork, merged]);
      }
      // Past 128 fields Redis keeps a hashtable, which HSCAN returns in pages of about COUNT fields.
      expect(await raw.object('ENCODING', store.keysOf(actor).packs)).toBe('hashtable');
      const history = await store.history(actor);
      expect(history).toHaveLength(2_500);
      expect(history).toEqual(await memory.history(actor));
      expect(history).toEqual(causalOrder([...main, ...fork, merged]));
      await memory.close();
    });
  });

  it('refuses an actor over the limit before reading its packs (a corrupt pack is not even decoded)', async () => {
    await withStore(async (store) => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 3);
      await appendChain(store, chain);
      await raw.hset(store.keysOf(actor).packs, VC.encode(chain[1]!.version), garbage);
      const error = await store.history(actor, { limit: 2 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LimitExceededError);
      expect((error as LimitExceededError).limit).toBe('limit');
      expect((error as Error).message).toContain('has 3 packs, more than the history limit of 2');
    });
  });

  it('corrupt pack bytes: CorruptDataError naming the packs key and the field', async () => {
    await withStore(async (store) => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 3);
      await appendChain(store, chain);
      const field = VC.encode(chain[1]!.version);
      await raw.hset(store.keysOf(actor).packs, field, garbage);
      const error = await store.history(actor).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptDataError);
      expect((error as CorruptDataError).where).toBe(`${store.keysOf(actor).packs} field ${field}`);
    });
  });

  it('a foreign value at the packs key: CorruptDataError naming the key', async () => {
    await withStore(async (store) => {
      const actor = uniqueActor();
      await raw.set(store.keysOf(actor).packs, 'not a hash');
      const error = await store.history(actor).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptDataError);
      expect((error as CorruptDataError).where).toBe(store.keysOf(actor).packs);
      expect((error as Error).message).toContain('holds a string where troupe keeps a hash');
    });
  });

  it('a limit that is not a non-negative integer: InvalidOptionError naming limit', async () => {
    await withStore(async (store) => {
      for (const limit of [-1, 1.5, Number.NaN]) {
        const error = await store.history(uniqueActor(), { limit }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect((error as InvalidOptionError).option).toBe('limit');
      }
      expect(await store.history(uniqueActor(), { limit: 0 })).toEqual([]);
    });
  });
});
