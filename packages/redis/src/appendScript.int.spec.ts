/**
 * append.lua's reads before its first write: the append writes only when the heads set holds
 * exactly the expected heads (else it reports the heads it holds), and a foreign type at the
 * command ids' hash (:c) fails it before any write, with or without command ids in the pack (its
 * type is checked by their HEXISTS or by HLEN). See also badInput.int.spec.ts (:h, :r).
 */
import { AppendConflictError, CorruptDataError } from '@troupe/runtime';
import { type Pack, VC } from '@troupe/runtime/store';
import { makePack, requireService, uniqueActor } from '@troupe/runtime/testkit';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { RedisStore } from './redisStore/index.js';
import { createTestStore, testRedisUrl } from './specHelpers/testStore.js';

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

describe.skipIf(!available)('append.lua reads before it writes', () => {
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup = [];
  });

  async function setup(): Promise<{ store: RedisStore; raw: Redis }> {
    const store = await createTestStore();
    const raw = new Redis(testRedisUrl, { lazyConnect: true });
    await raw.connect();
    cleanup.push(async () => {
      raw.disconnect();
      await store.destroy();
    });
    return { store, raw };
  }

  /** An actor with a root pack and one command pack on it, appended; returns the actor and both packs. */
  async function twoPacks(store: RedisStore) {
    const actor = { type: 'notes', id: uniqueActor('append').id };
    const root = makePack({ actor, version: { r1: 1 } });
    await store.append(root, []);
    const second = makePack({ actor, version: { r1: 2 }, parents: [root.version] });
    await store.append(second, [VC.encode(root.version)]);
    return { actor, root, second };
  }

  async function conflict(append: Promise<unknown>): Promise<AppendConflictError> {
    const error = await append.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppendConflictError);
    return error as AppendConflictError;
  }

  it('one expected head: appends only when the heads set holds it alone, else reports the heads it holds', async () => {
    const { store, raw } = await setup();
    const { actor, root, second } = await twoPacks(store);
    const keys = store.keysOf(actor);
    const head = VC.encode(second.version);
    const next = (n: number): Pack => makePack({ actor, version: { r1: n }, parents: [second.version] });
    // The expected head is not the one held.
    expect((await conflict(store.append(next(3), [VC.encode(root.version)]))).message).toContain(head);
    // The expected head is held, beside another one.
    await raw.sadd(keys.heads, 'r2:1');
    const both = await conflict(store.append(next(3), [head]));
    expect(both.message).toContain(head);
    expect(both.message).toContain('r2:1');
    // No head held at all.
    await raw.del(keys.heads);
    expect((await conflict(store.append(next(3), [head]))).message).not.toContain('r2:1');
    expect((await raw.hkeys(keys.packs)).sort()).toEqual([VC.encode(root.version), head].sort());
    // Held alone: written, and it is the only head after.
    await raw.sadd(keys.heads, head);
    await store.append(next(3), [head]);
    expect(await raw.smembers(keys.heads)).toEqual(['r1:3']);
    expect((await raw.hkeys(keys.packs)).sort()).toEqual([VC.encode(root.version), head, 'r1:3'].sort());
  });

  it('a foreign type at the :c key fails an append, with or without command ids, before any write, naming the key', async () => {
    const { store, raw } = await setup();
    const { actor, second } = await twoPacks(store);
    const keys = store.keysOf(actor);
    await raw.del(keys.commands);
    await raw.set(keys.commands, 'not a hash');
    const logLength = await raw.llen(keys.log);
    for (const commandIds of [[], ['c-1'], ['c-1', 'c-2']]) {
      const next = makePack({ actor, version: { r1: 3 }, parents: [second.version], commandIds });
      const error = await store.append(next, [VC.encode(second.version)]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CorruptDataError);
      expect((error as CorruptDataError).where).toBe(keys.commands);
    }
    // Nothing written: no pack, no parent link, no log entry, the heads as they were.
    expect(await raw.hexists(keys.packs, 'r1:3')).toBe(0);
    expect(await raw.hexists(keys.parents, 'r1:3')).toBe(0);
    expect(await raw.llen(keys.log)).toBe(logLength);
    expect(await raw.smembers(keys.heads)).toEqual([VC.encode(second.version)]);
    expect(await raw.get(keys.commands)).toBe('not a hash');
  });
});
