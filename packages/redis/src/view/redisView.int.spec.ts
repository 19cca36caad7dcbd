/**
 * A view kept in Redis against the local Redis (database 9, a fresh prefix per test): catch-up
 * equal to the from-scratch view, incremental batches, read-your-writes, the lease, fencing and
 * the bad inputs (a throwing `rows`, another version's meta, damaged values).
 */
import { type ActorRef, type Runtime, ProjectionError, createRuntime, defineProjection, viewFromScratch } from '@troupe/runtime';
import { CorruptDataError, encodeValue } from '@troupe/runtime/store';
import { requireService } from '@troupe/runtime/testkit';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { RedisStore } from '../redisStore/index.js';
import { createTestStore, testRedisUrl } from '../specHelpers/testStore.js';
import { Applied, Ledger } from '../specHelpers/viewFixtures.js';
import { ViewLeaseHeldError, ViewLeaseLostError, ViewVersionMismatchError } from './errors/index.js';
import { type RedisView, openRedisView } from './redisView.js';
import { ViewLease } from './viewLease.js';
import { ViewWriter } from './viewWriter.js';
import type { ViewContext } from './viewContext.js';

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

describe.skipIf(!available)('RedisView on the local Redis', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  async function setup(): Promise<{ store: RedisStore; runtime: Runtime; raw: Redis; actors: ActorRef[] }> {
    const store = await createTestStore({ shards: 4 });
    const runtime = createRuntime({ actors: [Ledger], store, replicaId: 'eu' });
    const raw = new Redis(testRedisUrl);
    cleanups.push(() => store.destroy(), () => runtime.stop(), async () => raw.disconnect());
    const actors = Array.from({ length: 12 }, (_, i) => Ledger.ref(`l${i}`));
    return { store, runtime, raw, actors };
  }

  async function open<Row>(store: RedisStore, projection = Applied as unknown as Parameters<typeof openRedisView<Row>>[0]['projection'], options = {}): Promise<RedisView<Row>> {
    const view = await openRedisView<Row>({ store, projection, batchSize: 7, pollMs: 20, ...options });
    cleanups.push(() => view.close());
    return view;
  }

  async function deposits(runtime: Runtime, actors: readonly ActorRef[], rounds: number): Promise<void> {
    for (let round = 0; round < rounds; round++) {
      await Promise.all(actors.map((actor, i) => runtime.send(actor, { type: 'deposit', payload: { n: 1 + ((i + round) % 5) } })));
    }
  }

  it('caught up, it equals the from-scratch view, is ready with no lag, and reads the same from another view object', async () => {
    const { store, runtime, actors } = await setup();
    await deposits(runtime, actors, 3);
    const view = await open<number>(store);
    expect(await view.isReady()).toBe(false);
    expect(await view.position()).toBeUndefined();
    const report = await view.catchUp();
    expect(report.packs).toBe(36);
    expect(report.batches).toBeGreaterThan(4);
    const expected = await viewFromScratch(Applied, store, actors);
    expect(new Map(await view.rows())).toEqual(new Map(expected));
    expect(await view.get('applied')).toBe(36);
    expect(await view.isReady()).toBe(true);
    expect(await view.lag()).toBe(0);
    const reader = await open<number>(store);
    expect(new Map(await reader.rows())).toEqual(new Map(expected));
    const status = await reader.status();
    expect(status).toMatchObject({ view: 'applied-1', exists: true, lagPacks: 0, ready: true, rows: expected.size, lease: null });
    expect(status.position).toBe(await view.position());
  });

  it('applies only what came after its position; moved rows leave their old key; waitFor sees a reply\'s version', async () => {
    const { store, runtime, actors } = await setup();
    await deposits(runtime, actors, 2);
    const view = await open<number>(store);
    await view.catchUp();
    const before = await view.rows();
    expect(before.get('bucket:2')).toBe(12);
    const reply = await runtime.send(actors[0]!, { type: 'deposit', payload: { n: 5 } });
    if (reply.status !== 'accepted') throw new Error('not accepted');
    const waiting = view.waitFor(actors[0]!, reply.version, { timeoutMs: 5_000 });
    expect((await view.catchUp()).packs).toBe(1);
    const rows = await waiting;
    expect(rows.get('applied:l0')).toBe(3);
    expect(rows.get('bucket:2')).toBe(11);
    expect(rows.get('bucket:0')).toBe(1);
    expect(rows.get('applied')).toBe(25);
    expect(new Map(rows)).toEqual(new Map(await viewFromScratch(Applied, store, actors)));
    // Nothing new: no batch written, the position stays.
    const position = await view.position();
    expect(await view.catchUp()).toEqual({ packs: 0, batches: 0, position });
  });

  it('runs with start(): follows new writes, waitUntil sees them, stop() gives the lease back', async () => {
    const { store, runtime, actors } = await setup();
    const view = await open<number>(store);
    const running = view.start();
    await view.waitUntilReady({ timeoutMs: 5_000 });
    await deposits(runtime, actors, 2);
    const rows = await view.waitUntil((r) => r.get('applied') === 24, { timeoutMs: 5_000 });
    expect(new Map(rows)).toEqual(new Map(await viewFromScratch(Applied, store, actors)));
    expect((await view.status()).lease?.holder).toBe(view.heldLease!.split(' ')[1]);
    await view.stop();
    await running;
    expect((await view.status()).lease).toBeNull();
  });

  it('rows that throw: ProjectionError naming the view, actor and version; nothing of the batch written', async () => {
    const { store, runtime, actors } = await setup();
    await deposits(runtime, actors.slice(0, 3), 1);
    const Fragile = defineProjection({
      name: 'fragile',
      version: 1,
      from: [Ledger],
      rows: (actor, state: { balance: number }) => {
        if (actor.id === 'l1' && state.balance > 5) throw new Error('cannot project this');
        return [[actor.id, state.balance]];
      },
    });
    const view = await open<number>(store, Fragile as never, { batchSize: 100 });
    await view.catchUp();
    const position = await view.position();
    const rows = await view.rows();
    await runtime.send(actors[0]!, { type: 'deposit', payload: { n: 1 } });
    const reply = await runtime.send(actors[1]!, { type: 'deposit', payload: { n: 9 } });
    if (reply.status !== 'accepted') throw new Error('not accepted');
    const error = await view.catchUp().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ProjectionError);
    expect((error as ProjectionError).message).toContain('fragile-1');
    expect((error as ProjectionError).actor).toBe('ledger:l1');
    expect((error as ProjectionError).version).toBe('eu:2');
    expect(await view.position()).toBe(position);
    expect(new Map(await view.rows())).toEqual(new Map(rows));
    // The runner stops with it too, and gives the lease back.
    await expect(view.start()).rejects.toBeInstanceOf(ProjectionError);
    expect(await view.position()).toBe(position);
    expect((await view.status()).lease).toBeNull();
  });

  it('an event type the projection\'s actor definition no longer handles: CorruptDataError naming the event, nothing written', async () => {
    const { store, runtime, actors } = await setup();
    await deposits(runtime, actors.slice(0, 2), 1);
    const view = await open<number>(store);
    await view.catchUp();
    const position = await view.position();
    await runtime.send(actors[0]!, { type: 'note', payload: { tag: 'x' } });
    // The same projection over a Ledger that lost its 'noted' handler (renamed or removed).
    const { noted: _removed, ...events } = Ledger.events;
    const Renamed = defineProjection({ ...Applied, from: [{ ...Ledger, events }] });
    const renamed = await open<number>(store, Renamed as never);
    await expect(renamed.catchUp()).rejects.toThrow(/event .* of ledger:l0: actor type 'ledger' has no handler for event type 'noted'/);
    expect(await view.position()).toBe(position);
  });

  it('a view whose meta names another version or projection is refused, at open and by the write script', async () => {
    const { store, runtime, actors, raw } = await setup();
    await deposits(runtime, actors.slice(0, 2), 1);
    const view = await open<number>(store);
    await view.catchUp();
    await raw.hset(view.keys.live.meta, 'version', '2');
    const opened = await openRedisView({ store, projection: Applied }).then(() => undefined, (e: unknown) => e);
    expect(opened).toBeInstanceOf(ViewVersionMismatchError);
    expect((opened as Error).message).toContain(`${view.keys.live.meta} holds projection 'applied' version 2 (format 1), not projection 'applied' version 1 (format 1)`);
    await expect(view.catchUp()).rejects.toBeInstanceOf(ViewVersionMismatchError);
    await expect(view.status()).rejects.toBeInstanceOf(ViewVersionMismatchError);
    // The script checks it too (the meta changed between the batch's read and its write).
    await raw.hset(view.keys.live.meta, 'version', '1');
    await runtime.send(actors[0]!, { type: 'deposit', payload: { n: 1 } });
    const ctx = (view as unknown as { ctx: ViewContext<number> }).ctx;
    const lease = new ViewLease(ctx.scripts, view.keys.live, { holder: 'script-check', ttlMs: 5_000, renewEveryMs: 1_000 });
    expect((await lease.acquire()).acquired).toBe(true);
    const writer = new ViewWriter(ctx, view.keys.live, lease);
    const position = await view.position();
    const step = writer.step();
    await raw.hset(view.keys.live.meta, 'name', 'other');
    await expect(step).rejects.toBeInstanceOf(ViewVersionMismatchError);
    await raw.hset(view.keys.live.meta, 'name', 'applied');
    expect(await view.position()).toBe(position);
    await lease.release();
  });

  it('damaged values are CorruptDataError naming the key and field', async () => {
    const { store, runtime, actors, raw } = await setup();
    await deposits(runtime, actors.slice(0, 2), 1);
    const view = await open<number>(store);
    await view.catchUp();
    const k = view.keys.live;
    await raw.hset(k.rows, 'applied', Buffer.from([0xff, 1, 2]));
    await expect(view.get('applied')).rejects.toThrow(new RegExp(`corrupt data at ${escape(k.rows)} field applied`));
    await expect(view.rows()).rejects.toBeInstanceOf(CorruptDataError);
    await raw.hset(k.contributions, 'ledger:l0', encodeValue({ not: 'a contribution' }));
    await runtime.send(actors[0]!, { type: 'deposit', payload: { n: 1 } });
    await expect(view.catchUp()).rejects.toThrow(new RegExp(`corrupt data at ${escape(k.contributions)} field ledger:l0`));
    await raw.hdel(k.contributions, 'ledger:l0');
    await raw.hset(k.meta, 'format', 'x');
    await expect(view.position()).rejects.toThrow(new RegExp(`corrupt data at ${escape(k.meta)} field format`));
    await raw.del(k.meta);
    await expect(view.position()).rejects.toThrow(new RegExp(`corrupt data at ${escape(k.meta)}: the view has a cursor`));
    await raw.del(k.cursor);
    await raw.set(k.parts, 'not a hash');
    await expect(view.catchUp()).rejects.toThrow(new RegExp(`corrupt data at ${escape(k.parts)}`));
  });

  it('one runner per view: a second catchUp meets ViewLeaseHeldError; of two started runners one writes, the other takes over when it stops', async () => {
    const { store, runtime, actors } = await setup();
    await deposits(runtime, actors, 1);
    const a = await open<number>(store, Applied as never, { holder: 'runner-a', leaseTtlMs: 600 });
    const b = await open<number>(store, Applied as never, { holder: 'runner-b', leaseTtlMs: 600 });
    const standby: string[] = [];
    const runningA = a.start();
    await a.waitUntilReady({ timeoutMs: 5_000 });
    const error = await b.catchUp().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ViewLeaseHeldError);
    expect((error as ViewLeaseHeldError).heldBy).toMatch(/^\d+ runner-a$/);
    const c = await open<number>(store, Applied as never, { holder: 'runner-c', leaseTtlMs: 600, observer: { standby: (o: { heldBy: string }) => standby.push(o.heldBy) } });
    const runningC = c.start();
    await deposits(runtime, actors, 1);
    await a.waitUntil((rows) => rows.get('applied') === 24, { timeoutMs: 5_000 });
    expect((await a.status()).writer).toMatch(/ runner-a$/);
    expect(standby.length).toBeGreaterThan(0);
    expect(c.heldLease).toBeUndefined();
    await a.stop();
    await runningA;
    await deposits(runtime, actors, 1);
    await c.waitUntil((rows) => rows.get('applied') === 36, { timeoutMs: 5_000 });
    expect((await c.status()).writer).toMatch(/ runner-c$/);
    expect(new Map(await c.rows())).toEqual(new Map(await viewFromScratch(Applied, store, actors)));
    await c.stop();
    await runningC;
  });

  it('fencing: a runner whose lease expired and was taken writes nothing, even from the current cursor', async () => {
    const { store, runtime, actors } = await setup();
    await deposits(runtime, actors, 1);
    const view = await open<number>(store);
    await view.catchUp();
    const ctx = (view as unknown as { ctx: ViewContext<number> }).ctx;
    // A runner that stops renewing (paused): its lease lasts 100 ms.
    const stale = new ViewLease(ctx.scripts, view.keys.live, { holder: 'paused', ttlMs: 100, renewEveryMs: 3_600_000 });
    expect((await stale.acquire()).acquired).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    const fresh = new ViewLease(ctx.scripts, view.keys.live, { holder: 'fresh', ttlMs: 5_000, renewEveryMs: 1_000 });
    expect((await fresh.acquire()).acquired).toBe(true);
    expect(fresh.token).toBe(stale.token! + 1);
    await deposits(runtime, actors, 1);
    const position = await view.position();
    const rows = await view.rows();
    // The paused runner resumes: its batch reads the current cursor, and its write is refused.
    await expect(new ViewWriter(ctx, view.keys.live, stale).step()).rejects.toBeInstanceOf(ViewLeaseLostError);
    expect(stale.held).toBeUndefined();
    expect(await view.position()).toBe(position);
    expect(new Map(await view.rows())).toEqual(new Map(rows));
    // The current holder writes.
    const writer = new ViewWriter(ctx, view.keys.live, fresh);
    expect((await writer.step()).wrote).toBe(true);
    while (!(await writer.step()).caughtUp);
    expect(await view.get('applied')).toBe(24);
    await fresh.release();
  });

  it('opened with a URL and a prefix instead of a store: it connects its own, and closes it on close()', async () => {
    const { store, runtime, actors } = await setup();
    await deposits(runtime, actors.slice(0, 3), 1);
    const view = await openRedisView<number>({ url: testRedisUrl, prefix: store.prefix, shards: store.shards, projection: Applied });
    await view.catchUp();
    expect(await view.get('applied')).toBe(3);
    expect(view.store).not.toBe(store);
    await view.close();
    await expect(view.get('applied')).rejects.toThrow(/unavailable|closed/i);
    // A wrong shard count is refused as the store refuses it.
    await expect(openRedisView({ url: testRedisUrl, prefix: store.prefix, shards: 8, projection: Applied })).rejects.toThrow(/shards/);
  });

  it('store.destroy() deletes the view\'s keys too', async () => {
    const store = await createTestStore({ shards: 2 });
    const runtime = createRuntime({ actors: [Ledger], store, replicaId: 'eu' });
    const raw = new Redis(testRedisUrl);
    cleanups.push(async () => raw.disconnect(), () => runtime.stop());
    await runtime.send(Ledger.ref('x'), { type: 'deposit', payload: { n: 1 } });
    const view = await openRedisView({ store, projection: Applied });
    await view.catchUp();
    expect(await raw.exists(view.keys.live.rows, view.keys.live.meta, view.keys.live.fence)).toBe(3);
    await runtime.stop();
    await store.destroy();
    expect(await raw.keys(`${store.prefix}:*`)).toEqual([]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
