import { InvalidCursorError, InvalidOptionError, MissingAncestorError } from '@troupe/runtime';
import { DuplicateCommandError, VC } from '@troupe/runtime/store';
import { appendChain, makeChain, makePack, requireService, uniqueActor } from '@troupe/runtime/testkit';
import { runStoreConformance } from '@troupe/runtime/testkit/conformance';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { RedisStore } from './redisStore/index.js';
import { createTestStore, reopenTestStore, testRedisUrl, toLayoutWithoutIndex } from './specHelpers/testStore.js';

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

describe.skipIf(!available)('RedisStore on the local Redis', () => {
  runStoreConformance({
    name: 'RedisStore',
    create: () => createTestStore(),
    cleanup: (store) => (store as RedisStore).destroy().then(() => undefined),
    regionLog: true,
    mergeLog: true,
    reopen: (store) => reopenTestStore(store as RedisStore),
  });
  runStoreConformance({
    name: 'RedisStore, one shard, two packs per loadChain call',
    create: () => createTestStore({ shards: 1, chainPacksPerCallMax: 2 }),
    cleanup: (store) => (store as RedisStore).destroy().then(() => undefined),
    regionLog: true,
    mergeLog: true,
    reopen: (store) => reopenTestStore(store as RedisStore, { chainPacksPerCallMax: 2 }),
  });
});

describe.skipIf(!available)('RedisStore loadChain over long chains', () => {
  for (const chainPacksPerCallMax of [2_000, 50, 64, 1]) {
    it(`finds the nearest snapshot across 64-link walks (chainPacksPerCallMax ${chainPacksPerCallMax})`, async () => {
      const store = await createTestStore({ chainPacksPerCallMax });
      try {
        const actor = uniqueActor();
        const chain = makeChain(actor, 200);
        let heads: string[] = [];
        for (const [i, pack] of chain.entries()) {
          const at = i + 1;
          const snapshot = at === 70 || at === 130 ? { version: pack.version, state: { at } } : undefined;
          await store.append(pack, heads, snapshot);
          heads = [VC.encode(pack.version)];
        }
        const expectChain = async (from: number, base: number | undefined) => {
          const loaded = await store.loadChain(actor, `a:${from}`);
          expect(loaded.base).toEqual(base === undefined ? undefined : { version: { a: base }, state: { at: base } });
          expect(loaded.packs.map((p) => VC.encode(p.version))).toEqual(
            chain.slice(base ?? 0, from).map((p) => VC.encode(p.version)),
          );
        };
        await expectChain(200, 130);
        await expectChain(130, 130);
        await expectChain(129, 70);
        await expectChain(69, undefined);
        await expectChain(1, undefined);
      } finally {
        await store.destroy();
      }
    });
  }

  it('a broken parent link in a long chain is a MissingAncestorError naming the version', async () => {
    const store = await createTestStore();
    try {
      const actor = uniqueActor();
      await appendChain(store, makeChain(actor, 150));
      const redis = new Redis(testRedisUrl);
      // Parent links are what the walk follows where the linear-run index does not cover the
      // chain (see runIndex.int.spec.ts for the indexed layout): here, data written without it.
      await toLayoutWithoutIndex(redis, store, actor);
      await redis.hdel(store.keysOf(actor).parents, 'a:40');
      redis.disconnect();
      await expect(store.loadChain(actor, 'a:150')).rejects.toThrow(MissingAncestorError);
      await expect(store.loadChain(actor, 'a:150')).rejects.toThrow(/a:40/);
    } finally {
      await store.destroy();
    }
  });
});

describe.skipIf(!available)('RedisStore review regressions', () => {
  it('an append whose version does not dominate its expected head keeps both heads (as MemoryStore does)', async () => {
    const store = await createTestStore();
    try {
      const actor = uniqueActor();
      const root = makePack({ actor, version: { b: 1 } });
      await store.append(root, []);
      await store.append(makePack({ actor, version: { a: 1 }, parents: [{ b: 1 }] }), ['b:1']);
      expect((await store.heads(actor)).map((p) => VC.encode(p.version))).toEqual(['a:1', 'b:1']);
    } finally {
      await store.destroy();
    }
  });

  it('merges thousands of packs of one shard in one call to merge()', async () => {
    const origin = await createTestStore({ shards: 1 });
    const copy = await createTestStore({ shards: 1 });
    try {
      const actor = uniqueActor();
      await appendChain(origin, makeChain(actor, 1_200));
      const { packs, snapshots } = await origin.changesSince(undefined, 2_000);
      expect(await copy.merge(packs, snapshots)).toMatchObject({ added: 1_200, skipped: 0 });
      expect((await copy.heads(actor)).map((p) => VC.encode(p.version))).toEqual(['a:1200']);
    } finally {
      await origin.destroy();
      await copy.destroy();
    }
  });

  it('refuses a chainPacksPerCallMax that would never make progress (InvalidOptionError naming it), and reads the old name one more release', async () => {
    const error = await createTestStore({ chainPacksPerCallMax: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe('chainPacksPerCallMax');
    await expect(createTestStore({ chainPacksPerCall: 0 })).rejects.toBeInstanceOf(InvalidOptionError);
  });

  it('refuses a malformed cursor, one of another shard count and one past the end of a shard log: InvalidCursorError', async () => {
    const store = await createTestStore({ shards: 2 });
    try {
      for (const cursor of ['', '0', '0.0.0', '0.x', '-1.0', '0.1e3']) {
        const error = await store.changesSince(cursor, 10).catch((e: unknown) => e);
        expect(error, cursor).toBeInstanceOf(InvalidCursorError);
        expect((error as InvalidCursorError).cursor).toBe(cursor);
        expect((error as Error).message).toContain('not a cursor of this store, which has 2 shards');
      }
      await appendChain(store, makeChain(uniqueActor(), 3));
      const end = (await store.changesSince(undefined, 100)).cursor;
      expect(await store.changesSince(end, 10)).toMatchObject({ packs: [], cursor: end });
      const [identity, offsets] = end.split(':') as [string, string];
      const ahead = `${identity}:${offsets.split('.').map((n) => String(Number(n) + 1)).join('.')}`;
      for (const cursor of [ahead, offsets.split('.').map((n) => String(Number(n) + 1)).join('.')]) {
        const error = await store.changesSince(cursor, 10).catch((e: unknown) => e);
        expect(error, cursor).toBeInstanceOf(InvalidCursorError);
        expect((error as Error).message).toMatch(/it is at entry \d+ of shard \d+, whose log .* holds \d+/);
      }
      const malformed = await store.changesSince(`${identity}:0.x`, 10).catch((e: unknown) => e);
      expect(malformed).toBeInstanceOf(InvalidCursorError);
      expect((malformed as Error).message).toContain('not a cursor of this store, which has 2 shards');
    } finally {
      await store.destroy();
    }
  });

  it('a cursor names the store identity: one of a store started over under the same prefix is InvalidCursorError naming both; an old cursor (offsets only) is still read', async () => {
    const raw = new Redis(testRedisUrl);
    const before = await createTestStore({ shards: 1 });
    const prefix = before.prefix;
    const identityKey = `${prefix}:{${prefix}.meta}:identity`;
    let after: RedisStore | undefined;
    try {
      await appendChain(before, makeChain(uniqueActor('old'), 3));
      const oldIdentity = (await raw.get(identityKey))!;
      const { cursor, packs } = await before.changesSince(undefined, 100);
      expect(packs).toHaveLength(3);
      expect(cursor).toBe(`${oldIdentity}:3`);
      // The data is lost and the store started over (destroy, connect again): a new identity.
      await before.destroy();
      after = await createTestStore({ prefix, shards: 1 });
      await appendChain(after, makeChain(uniqueActor('new'), 5));
      const newIdentity = (await raw.get(identityKey))!;
      expect(newIdentity).not.toBe(oldIdentity);
      // Read with the old store's cursor, 3 of the 5 new packs would be skipped silently.
      const error = await after.changesSince(cursor, 100).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidCursorError);
      expect((error as InvalidCursorError).cursor).toBe(cursor);
      expect((error as Error).message).toContain(oldIdentity);
      expect((error as Error).message).toContain(newIdentity);
      // The format without an identity (written by the previous release) is read for one more
      // release, and answered with a cursor that carries the identity.
      const legacy = await after.changesSince('2', 100);
      expect(legacy.packs).toHaveLength(3);
      expect(legacy.cursor).toBe(`${newIdentity}:5`);
      expect((await after.changesSince(undefined, 100)).cursor).toBe(`${newIdentity}:5`);
    } finally {
      raw.disconnect();
      await after?.destroy();
    }
  });

  it('refuses a packBytesMax that is not a positive integer of at most 512 MiB (InvalidOptionError naming it)', async () => {
    for (const packBytesMax of [Number.NaN, -1, 0, Number.POSITIVE_INFINITY, 1.5, 512 * 1024 * 1024 + 1]) {
      const error = await createTestStore({ packBytesMax }).catch((e: unknown) => e);
      expect(error, String(packBytesMax)).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe('packBytesMax');
      expect((error as Error).message).toContain(String(packBytesMax));
    }
    const largest = await createTestStore({ packBytesMax: 512 * 1024 * 1024 });
    await largest.destroy();
  });
});

describe.skipIf(!available)('RedisStore refuses a command id it already holds', () => {
  it('append: DuplicateCommandError naming the id, nothing written (pack, heads, log, run index); merge accepts such a pack', async () => {
    const store = await createTestStore({ shards: 1 });
    const redis = new Redis(testRedisUrl);
    try {
      const actor = uniqueActor();
      const first = makePack({ actor, version: { a: 1 }, commandIds: ['cmd-1'] });
      await store.append(first, []);
      const keys = store.keysOf(actor);
      const before = await Promise.all([redis.hlen(keys.packs), redis.smembers(keys.heads), redis.llen(keys.log), redis.llen(keys.runs), redis.hgetall(keys.commands)]);
      const resend = makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }], commandIds: ['cmd-2', 'cmd-1'] });
      const error = await store.append(resend, ['a:1']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DuplicateCommandError);
      expect((error as DuplicateCommandError).commandId).toBe('cmd-1');
      expect((error as DuplicateCommandError).code).toBe('DUPLICATE_COMMAND');
      expect(await Promise.all([redis.hlen(keys.packs), redis.smembers(keys.heads), redis.llen(keys.log), redis.llen(keys.runs), redis.hgetall(keys.commands)])).toEqual(before);
      // The same command accepted on another branch during a partition arrives by merge: kept.
      const branch = makePack({ actor, version: { a: 1, b: 1 }, parents: [{ a: 1 }], commandIds: ['cmd-1'] });
      expect(await store.merge([branch])).toMatchObject({ added: 1, skipped: 0 });
      expect((await store.commandVersions(actor, 'cmd-1')).map(VC.encode)).toEqual(['a:1', 'a:1,b:1']);
    } finally {
      redis.disconnect();
      await store.destroy();
    }
  });
});
