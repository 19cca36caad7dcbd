/**
 * Rebuild: the view built again into its shadow keys and swapped in by one script, while readers
 * read and a runner runs. Readers never see a missing or half-built view; the runner goes on from
 * the swapped-in position; a damaged view comes back right; two rebuilds at once are refused.
 */
import { type ActorRef, createRuntime, viewFromScratch } from '@troupe/runtime';
import { encodeValue } from '@troupe/runtime/store';
import { requireService } from '@troupe/runtime/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisStore } from '../redisStore/index.js';
import { createTestStore, testRedisUrl } from '../specHelpers/testStore.js';
import { Applied, Ledger } from '../specHelpers/viewFixtures.js';
import { ViewLeaseHeldError } from './errors/index.js';
import { type RedisView, openRedisView } from './redisView.js';

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

describe.skipIf(!available)('RedisView.rebuild', () => {
  let store: RedisStore;
  let raw: Redis;
  const runtime = () => createRuntime({ actors: [Ledger], store, replicaId: 'eu' });
  const actors: ActorRef[] = Array.from({ length: 300 }, (_, i) => Ledger.ref(`r${i}`));
  const views: RedisView<number>[] = [];
  const open = async (options = {}) => {
    const view = await openRedisView<number>({ store, projection: Applied, pollMs: 10, ...options });
    views.push(view);
    return view;
  };

  beforeAll(async () => {
    store = await createTestStore({ shards: 4 });
    raw = new Redis(testRedisUrl);
    const writer = runtime();
    for (let round = 0; round < 3; round++) await Promise.all(actors.slice(0, 100 * (round + 1)).map((actor) => writer.send(actor, { type: 'deposit', payload: { n: round + 1 } })));
    await writer.stop();
  }, 60_000);
  afterAll(async () => {
    for (const view of views) await view.close();
    raw?.disconnect();
    await store?.destroy();
  });

  it('readers reading throughout see the whole view before, during and after the swap; the view is rebuilt in the shadow keys', async () => {
    const live = await open();
    await live.catchUp();
    const expected = new Map(await viewFromScratch(Applied, store, actors));
    expect(new Map(await live.rows())).toEqual(expected);
    const buildBefore = await raw.hget(live.keys.live.meta, 'build');
    const readers = await Promise.all([open(), open(), open()]);
    let reading = true;
    let reads = 0;
    const wrong: string[] = [];
    const loops = readers.map(async (reader, i) => {
      while (reading) {
        if (i === 0) {
          const total = await reader.get('applied');
          if (total !== 600) wrong.push(`get('applied') = ${String(total)}`);
        } else {
          const rows = new Map(await reader.rows());
          if (rows.size !== expected.size || [...expected].some(([k, v]) => rows.get(k) !== v)) wrong.push(`rows() with ${rows.size} keys of ${expected.size}`);
        }
        reads++;
      }
    });
    const rebuilder = await open({ batchSize: 20 });
    let shadowSeen = false;
    const watching = (async () => {
      while (reading) {
        if ((await raw.hlen(rebuilder.keys.shadow.rows)) > 0) shadowSeen = true;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const readsBefore = reads;
    const report = await rebuilder.rebuild();
    const readsDuring = reads - readsBefore;
    reading = false;
    await Promise.all([...loops, watching]);
    expect(wrong).toEqual([]);
    expect(readsDuring).toBeGreaterThan(20);
    expect(shadowSeen).toBe(true);
    expect(report.packs).toBe(600);
    // 30 batches of 20 packs, then the one that finds the end and marks the shadow ready.
    expect(report.batches).toBe(31);
    expect(new Map(await live.rows())).toEqual(expected);
    expect(await raw.hget(live.keys.live.meta, 'build')).not.toBe(buildBefore);
    expect(await live.position()).toBe(report.position);
    expect(await live.isReady()).toBe(true);
    // The shadow's keys were moved, not copied; its lease was given back.
    expect(await raw.exists(...Object.values(live.keys.shadow).filter((k) => !k.endsWith(':fence')))).toBe(0);
  });

  it('a running runner goes on from the swapped-in position; a damaged view comes back right', async () => {
    const live = await open({ holder: 'live-runner' });
    const running = live.start();
    await live.catchUp();
    // Damage: a row and a contribution that lie.
    await raw.hset(live.keys.live.rows, 'applied', encodeValue(1));
    await raw.hset(live.keys.live.rows, 'stray', encodeValue(9));
    const writer = runtime();
    await Promise.all(actors.slice(0, 50).map((actor) => writer.send(actor, { type: 'note', payload: { tag: 'before' } })));
    const rebuilding = (await open({ batchSize: 25 })).rebuild();
    await Promise.all(actors.slice(50, 100).map((actor) => writer.send(actor, { type: 'note', payload: { tag: 'during' } })));
    await rebuilding;
    await Promise.all(actors.slice(100, 150).map((actor) => writer.send(actor, { type: 'note', payload: { tag: 'after' } })));
    await live.catchUp();
    const rows = new Map(await live.rows());
    expect(rows).toEqual(new Map(await viewFromScratch(Applied, store, actors)));
    expect(rows.get('applied')).toBe(750);
    expect(rows.has('stray')).toBe(false);
    expect((await live.status()).writer).toMatch(/ live-runner$/);
    await live.stop();
    await running;
    await writer.stop();
  });

  it('two rebuilds at once: the second is refused with ViewLeaseHeldError', async () => {
    const [a, b] = await Promise.all([open({ holder: 'rebuild-a', batchSize: 10 }), open({ holder: 'rebuild-b' })]);
    const first = a.rebuild();
    await new Promise((r) => setTimeout(r, 20));
    const error = await b.rebuild().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ViewLeaseHeldError);
    expect((error as ViewLeaseHeldError).heldBy).toMatch(/ rebuild-a$/);
    await first;
    expect(new Map(await a.rows())).toEqual(new Map(await viewFromScratch(Applied, store, actors)));
  });
});
