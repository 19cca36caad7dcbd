/**
 * A RedisView on a 3-master Redis Cluster, its scripts (and the store's) marked `#!lua`, so Redis
 * refuses any script touching a key outside its first key's slot: the view's keys share one tag,
 * its batches, lease and swap each stay in that slot, while the actors it reads are spread over
 * every master.
 */
import { createRuntime, viewFromScratch } from '@troupe/runtime';
import { requireService, uniqueSuffix } from '@troupe/runtime/testkit';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failFastRedisOptions } from '../openClient.js';
import { RedisStore } from '../redisStore/index.js';
import { RedisCluster } from '../testing/redisCluster.js';
import { Applied, Ledger } from '../specHelpers/viewFixtures.js';
import { openRedisView } from './redisView.js';

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

describe.skipIf(!available)('RedisView on a Redis Cluster (one slot per view, enforced)', () => {
  let cluster: RedisCluster | undefined;
  beforeAll(async () => {
    cluster = await RedisCluster.start();
  }, 60_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  async function strictStore(prefix: string): Promise<RedisStore> {
    const client = new Cluster(cluster!.nodes.map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })), { lazyConnect: true, enableOfflineQueue: false, redisOptions: failFastRedisOptions });
    client.on('error', () => {});
    const define = client.defineCommand.bind(client);
    client.defineCommand = (name, definition) => define(name, { ...definition, lua: `#!lua\n${definition.lua}` });
    const store = new RedisStore({ client, ownsClient: true, prefix, shards: 8 });
    await client.connect();
    await store.verifyLayout();
    return store;
  }

  it('catches up, runs, rebuilds and reports its status with every script in the view\'s slot', async () => {
    const store = await strictStore(`views-${uniqueSuffix()}`);
    const runtime = createRuntime({ actors: [Ledger], store, replicaId: 'eu' });
    const actors = Array.from({ length: 40 }, (_, i) => Ledger.ref(`c${i}`));
    try {
      await Promise.all(actors.map((actor, i) => runtime.send(actor, { type: 'deposit', payload: { n: i } })));
      // The actors are spread over 8 shards (slots on the three masters).
      expect(new Set(actors.map((a) => store.shardOf(a))).size).toBe(8);
      const view = await openRedisView<number>({ store, projection: Applied, batchSize: 6, pollMs: 10 });
      await view.catchUp();
      const expected = new Map(await viewFromScratch(Applied, store, actors));
      expect(new Map(await view.rows())).toEqual(expected);
      const running = view.start();
      await Promise.all(actors.slice(0, 10).map((actor) => runtime.send(actor, { type: 'note', payload: { tag: 'x' } })));
      await view.catchUp();
      expect(await view.get('applied')).toBe(50);
      const report = await view.rebuild();
      expect(report.packs).toBeGreaterThanOrEqual(50);
      await view.catchUp();
      expect(new Map(await view.rows())).toEqual(new Map(await viewFromScratch(Applied, store, actors)));
      expect(await view.status()).toMatchObject({ exists: true, lagPacks: 0, ready: true });
      await view.stop();
      await running;
    } finally {
      await runtime.stop();
      await store.destroy();
    }
  }, 60_000);
});
