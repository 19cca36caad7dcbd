/**
 * `destroy()` deletes every key of the store (actors of every shard, logs, layout, checkpoints)
 * and nothing of other prefixes or foreign keys, then closes the store. On Cluster: see
 * cluster.int.spec.ts.
 */
import { StoreUnavailableError } from '@troupe/runtime';
import { appendChain, makeChain, requireService, uniqueActor, uniqueSuffix } from '@troupe/runtime/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failFastRedisOptions } from './connect.js';
import { RedisStore } from './redisStore/index.js';
import { createTestStore, testRedisUrl } from './specHelpers/testStore.js';
import { deleteKeysMatching, keysMatching } from './testing/keys.js';

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

describe.skipIf(!available)('RedisStore destroy', () => {
  let raw: Redis;
  beforeAll(() => {
    raw = new Redis(testRedisUrl);
  });
  afterAll(() => raw.disconnect());

  /** Writes actors over several shards, a snapshot, a checkpoint, the frontier table, the regions and a merge record; returns every key it made. */
  async function fill(store: RedisStore): Promise<string[]> {
    for (let i = 0; i < 12; i++) {
      const actor = uniqueActor(`d${i}`);
      const chain = makeChain(actor, 3);
      await appendChain(store, chain.slice(0, 2));
      await store.append(chain[2]!, ['a:2'], { version: chain[2]!.version, state: { i } });
      if (i === 0) {
        const version = chain[2]!.version;
        await store.recordMerge({ actor, version, heads: [version], replayed: 0, droppedDuplicates: 0, compensations: [], region: 'eu', divergedAt: 1, mergedAt: 2, durationMs: 1 });
      }
    }
    await store.checkpoint('from-eu').save('0.0');
    await store.mergeFrontier({ eu: { us: { cursor: 'us-id:0.0', at: 1 } } });
    await store.declareRegions(['eu', 'us']);
    return keysMatching(raw, `${store.prefix}:*`);
  }

  it('deletes every key of the store, returns how many, and closes the store it owns', async () => {
    const store = await createTestStore({ shards: 8 });
    const neighbours = await Promise.all([
      createTestStore({ prefix: `${store.prefix}.x`, shards: 8 }),
      createTestStore({ prefix: `${store.prefix}-x`, shards: 8 }),
    ]);
    const foreign = `${store.prefix}:not-troupe`;
    try {
      const keys = await fill(store);
      // 12 actors x 6 keys, a merge record list, the logs of the shards in use, the layout record,
      // one checkpoint, the frontier table, the regions.
      expect(keys.filter((k) => k.endsWith(':log')).length).toBeGreaterThan(1);
      expect(keys.filter((k) => k.endsWith(':m'))).toHaveLength(1);
      for (const name of ['layout', 'cursor:from-eu', 'frontier', 'regions']) expect(keys).toContain(`${store.prefix}:{${store.prefix}.meta}:${name}`);
      const kept = await Promise.all(neighbours.map(fill));
      await raw.set(foreign, 'someone else');

      expect(await store.destroy()).toBe(keys.length);
      expect(await keysMatching(raw, `${store.prefix}:*`)).toEqual([foreign]);
      for (const [i, neighbour] of neighbours.entries()) {
        expect((await keysMatching(raw, `${neighbour.prefix}:*`)).sort()).toEqual(kept[i]!.sort());
      }
      // Closed: the store's own client is gone.
      await expect(store.heads(uniqueActor())).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await raw.del(foreign);
      await Promise.all(neighbours.map((n) => n.destroy()));
    }
  });

  it('leaves a client the caller owns open, and a store with no keys deletes nothing', async () => {
    const client = new Redis(testRedisUrl, { ...failFastRedisOptions });
    await client.connect();
    const prefix = `test-${uniqueSuffix()}`;
    try {
      const store = new RedisStore({ client, prefix });
      expect(await store.destroy()).toBe(0);
      const again = new RedisStore({ client, prefix });
      await again.verifyLayout();
      await appendChain(again, makeChain(uniqueActor(), 2));
      // The actor's 5 keys (no snapshot), its shard's log, the layout record, the store identity
      // in each of the 16 shards and under the meta tag.
      expect(await again.destroy()).toBe(7 + 16 + 1);
      expect(await client.ping()).toBe('PONG');
    } finally {
      await deleteKeysMatching(client, `${prefix}:*`);
      client.disconnect();
    }
  });
});
