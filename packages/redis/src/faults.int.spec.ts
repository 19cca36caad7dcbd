/**
 * A RedisStore whose throw-away redis-server is killed, hung or loses its scripts: operations fail
 * fast with StoreUnavailableError naming the endpoint, nothing half-written is left behind, and the
 * same store recovers by itself once the server is back.
 */
import {
  type ActorRef,
  type Runtime,
  StoreUnavailableError,
  createRuntime,
  defineActor,
} from '@troupe/runtime';
import { VC } from '@troupe/runtime/store';
import { makeEvent, makePack, requireService, uniqueActor } from '@troupe/runtime/testkit';
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectRedisStore } from './connect.js';
import type { RedisStore } from './redisStore/index.js';
import { appendLua, commonLua } from './scripts/index.js';
import { RedisServer } from './testing/redisServer.js';

/** SHA1 of the append script as ioredis loads it. */
const appendSha = createHash('sha1').update(commonLua + appendLua).digest('hex');

interface TallyState {
  readonly total: number;
  readonly applied: readonly string[];
}

/** Each command adds to a total; the state records applied event ids in order. */
const Tally = defineActor({
  type: 'tally',
  initial: (): TallyState => ({ total: 0, applied: [] }),
  commands: {
    add: (_s, p: { n: number }) => [{ type: 'added', data: { n: p.n } }],
  },
  events: {
    added: (s, d: { n: number }, e) => ({ total: s.total + d.n, applied: [...s.applied, e.id] }),
  },
  snapshotEvery: 4,
});

const quickMs = 3_000;

/** Awaits `operation`, expecting a StoreUnavailableError naming `endpoint` within `quickMs`. */
async function expectUnavailableQuickly(what: string, operation: () => Promise<unknown>, endpoint: string): Promise<StoreUnavailableError> {
  const started = Date.now();
  const error = await operation().then(
    () => undefined,
    (e: unknown) => e,
  );
  const elapsed = Date.now() - started;
  expect(error, `${what} must reject`).toBeInstanceOf(StoreUnavailableError);
  expect((error as StoreUnavailableError).message, what).toContain(endpoint);
  expect((error as StoreUnavailableError).endpoint, what).toBe(endpoint);
  expect(elapsed, `${what} took ${elapsed} ms`).toBeLessThan(quickMs);
  return error as StoreUnavailableError;
}

/** Retries `operation` until it succeeds or `timeoutMs` passes; returns how long it took. */
async function recoveredWithin(operation: () => Promise<unknown>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      await operation();
      return Date.now() - started;
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      if (Date.now() - started > timeoutMs) throw new Error(`the store did not recover within ${timeoutMs} ms: ${error.message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** What Redis holds for one actor, read with a separate client. */
async function rawActor(admin: Redis, store: RedisStore, actor: ActorRef) {
  const keys = store.keysOf(actor);
  const [packs, parents, heads, commands, log, runs] = await Promise.all([
    admin.hkeys(keys.packs),
    admin.hkeys(keys.parents),
    admin.smembers(keys.heads),
    admin.hgetall(keys.commands),
    admin.lrange(keys.log, 0, -1),
    admin.lrange(keys.runs, 0, -1),
  ]);
  const logged = log
    .map((entry) => JSON.parse(entry) as [string, string, string, number])
    .filter(([type, id]) => type === actor.type && id === actor.id)
    .map(([, , version]) => version);
  return { packs: packs.sort(), parents: parents.sort(), heads: heads.sort(), commands, logged, indexed: runs.map((entry) => entry.slice(1)) };
}

/**
 * Heads, packs, parent links, command ids and log agree: every pack has its parent link and
 * exactly one log entry and one run-index entry, nothing else is logged, the single head is the newest pack and every
 * recorded command id names a stored pack.
 */
async function expectConsistent(admin: Redis, store: RedisStore, actor: ActorRef): Promise<Awaited<ReturnType<typeof rawActor>>> {
  const raw = await rawActor(admin, store, actor);
  expect(raw.parents, `${actor.id}: a parent link per pack`).toEqual(raw.packs);
  expect([...raw.logged].sort(), `${actor.id}: one log entry per pack`).toEqual(raw.packs);
  expect([...raw.indexed].sort(), `${actor.id}: one run-index entry per pack`).toEqual(raw.packs);
  if (raw.packs.length > 0) {
    const newest = raw.packs.reduce((a, b) => (VC.weight(VC.decode(a)) >= VC.weight(VC.decode(b)) ? a : b));
    expect(raw.heads, `${actor.id}: heads`).toEqual([newest]);
  } else {
    expect(raw.heads).toEqual([]);
  }
  for (const versions of Object.values(raw.commands)) for (const version of versions.split('|')) expect(raw.packs).toContain(version);
  return raw;
}

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

describe.skipIf(!available)('RedisStore when its redis-server is killed, hung or restarted', () => {
  let server: RedisServer;
  let store: RedisStore;
  let runtime: Runtime;
  let admin: Redis;

  beforeAll(async () => {
    // appendfsync always: an acknowledged write survives SIGKILL, so "state after restart = acked" is checkable.
    server = await RedisServer.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    store = await connectRedisStore({ url: server.url, prefix: 'faults' });
    runtime = createRuntime({ actors: [Tally], store, replicaId: 'r1', machineId: 11 });
    // The test's own client waits for reconnection (offline queue) instead of failing fast.
    admin = new Redis(server.url, { lazyConnect: true });
    admin.on('error', () => undefined);
    await admin.connect();
  }, 30_000);

  // A test that failed half-way must not leave the next one without a server.
  beforeEach(async () => {
    if (!server.running) {
      await server.boot();
      await recoveredWithin(() => store.heads(uniqueActor('probe', 'tally')), 5_000);
    }
  });

  afterAll(async () => {
    await runtime?.stop().catch(() => undefined);
    await store?.close().catch(() => undefined);
    admin?.disconnect();
    await server?.destroy();
  });

  it('fails fast while the server is down, leaves nothing half-written, and recovers by itself after it is back', async () => {
    const a = Tally.ref(`a-${Date.now()}`);
    const b = Tally.ref(`b-${Date.now()}`);
    const ackedA: string[] = [];
    for (let i = 0; i < 6; i++) {
      const reply = await runtime.send(a, { type: 'add', payload: { n: 1 } });
      if (reply.status === 'accepted') ackedA.push(...reply.events.map((e) => e.id));
    }
    for (let i = 0; i < 3; i++) await runtime.send(b, { type: 'add', payload: { n: 10 }, commandId: `b-${i}` });
    const bBefore = await expectConsistent(admin, store, b);
    const [headB] = await store.heads(b);

    await server.kill();
    const endpoint = server.url;
    const next = makePack({ actor: b, version: VC.increment(headB!.version, 'r1'), parents: [headB!.version] });
    await expectUnavailableQuickly('store.append', () => store.append(next, [VC.encode(headB!.version)]), endpoint);
    await expectUnavailableQuickly('store.heads', () => store.heads(a), endpoint);
    await expectUnavailableQuickly('store.getPacks', () => store.getPacks(a, ['r1:1']), endpoint);
    await expectUnavailableQuickly('store.loadChain', () => store.loadChain(a, 'r1:6'), endpoint);
    await expectUnavailableQuickly('store.commandVersions', () => store.commandVersions(b, 'b-0'), endpoint);
    await expectUnavailableQuickly('store.changesSince', () => store.changesSince(undefined, 10), endpoint);
    await expectUnavailableQuickly('store.merge', () => store.merge([next]), endpoint);
    await expectUnavailableQuickly('checkpoint.save', () => store.checkpoint('x').save('0'), endpoint);
    await expectUnavailableQuickly('runtime.send (live actor)', () => runtime.send(b, { type: 'add', payload: { n: 99 }, commandId: 'b-lost' }), endpoint);
    await expectUnavailableQuickly('runtime.send (new actor)', () => runtime.send(uniqueActor('new', 'tally'), { type: 'add', payload: { n: 1 } }), endpoint);
    await expectUnavailableQuickly('runtime.inspect', () => runtime.inspect(a), endpoint);
    // A new connection fails fast too.
    await expectUnavailableQuickly('connectRedisStore', () => connectRedisStore({ url: server.url, prefix: 'faults' }), endpoint);

    await server.boot();
    const tookMs = await recoveredWithin(() => store.heads(a), 5_000);
    expect(tookMs).toBeLessThan(5_000);

    // Exactly what was acknowledged before the kill, for both actors.
    const viewA = await runtime.inspect<{ total: number; applied: string[] }>(a);
    expect(viewA.state).toEqual({ total: 6, applied: ackedA });
    expect(await expectConsistent(admin, store, b)).toEqual(bBefore);
    expect((await store.heads(b)).map((p) => p.version)).toEqual([headB!.version]);
    expect(await store.commandVersions(b, 'b-lost')).toEqual([]);
    // The failed command, retried with its id, is applied once; the runtime carries on.
    const retried = await runtime.send(b, { type: 'add', payload: { n: 99 }, commandId: 'b-lost' });
    expect(retried).toMatchObject({ status: 'accepted', duplicate: false });
    expect(await runtime.send(b, { type: 'add', payload: { n: 99 }, commandId: 'b-lost' })).toMatchObject({ status: 'accepted', duplicate: true });
    expect((await runtime.inspect<TallyState>(b)).state.total).toBe(30 + 99);
    await expectConsistent(admin, store, b);
  });

  it('a kill in the middle of a stream of appends leaves every actor consistent: acked writes kept, at most the in-flight one besides', async () => {
    const actors = Array.from({ length: 6 }, (_, i) => Tally.ref(`stream${i}-${Date.now()}`));
    const acked = new Map<string, string[]>(actors.map((a) => [a.id, []]));
    const failed = new Map<string, string>();
    let stop = false;
    const writers = actors.map(async (actor) => {
      for (let k = 0; !stop; k++) {
        const commandId = `${actor.id}-${k}`;
        try {
          const reply = await runtime.send(actor, { type: 'add', payload: { n: 1 }, commandId });
          expect(reply.status).toBe('accepted');
          acked.get(actor.id)!.push(commandId);
        } catch (error) {
          expect(error).toBeInstanceOf(StoreUnavailableError);
          failed.set(actor.id, commandId);
          return;
        }
      }
    });
    await new Promise((r) => setTimeout(r, 150));
    await server.kill();
    const started = Date.now();
    await Promise.all(writers);
    stop = true;
    expect(Date.now() - started, 'every writer saw the failure quickly').toBeLessThan(quickMs);
    expect(failed.size).toBe(actors.length);

    await server.boot();
    await recoveredWithin(() => store.heads(actors[0]!), 5_000);
    let inFlightKept = 0;
    for (const actor of actors) {
      const raw = await expectConsistent(admin, store, actor);
      const stored = Object.keys(raw.commands).sort();
      const mine = acked.get(actor.id)!;
      expect(mine.length, `${actor.id} had acknowledged writes before the kill`).toBeGreaterThan(0);
      for (const id of mine) expect(stored, `acked ${id} survived`).toContain(id);
      const extra = stored.filter((id) => !mine.includes(id));
      // A command whose reply was lost with the server may or may not have been applied.
      expect(extra.length === 0 || (extra.length === 1 && extra[0] === failed.get(actor.id))).toBe(true);
      inFlightKept += extra.length;
      // Retrying the failed command with its id applies it exactly once.
      await runtime.send(actor, { type: 'add', payload: { n: 1 }, commandId: failed.get(actor.id)! });
      const view = await runtime.inspect<TallyState>(actor);
      expect(view.state.total).toBe(mine.length + 1);
      expect(new Set(view.state.applied).size).toBe(mine.length + 1);
      await expectConsistent(admin, store, actor);
    }
    expect(inFlightKept).toBeLessThanOrEqual(actors.length);
  });

  it('a command that times out on a hung server is reported unavailable; an append may still land, so a retry with its id applies it once', async () => {
    const impatient = await connectRedisStore({ url: server.url, prefix: 'faults', redisOptions: { commandTimeout: 300 } });
    const hurried = createRuntime({ actors: [Tally], store: impatient, replicaId: 'r2', machineId: 12 });
    const actor = Tally.ref(`hung-${Date.now()}`);
    const pid = Number(/process_id:(\d+)/.exec(await admin.info('server'))![1]);
    try {
      await hurried.send(actor, { type: 'add', payload: { n: 1 }, commandId: 'h-0' });
      const [head] = await impatient.heads(actor);
      const appended = makePack({
        actor,
        version: { r2: 2 },
        parents: [head!.version],
        commandIds: ['h-1'],
        ts: head!.ts + 1,
        events: [makeEvent(actor, { type: 'added', data: { n: 1 }, causationId: 'h-1', correlationId: 'h-1', replica: 'r2', ts: head!.ts + 1 })],
      });
      process.kill(pid, 'SIGSTOP');
      try {
        const sent = await expectUnavailableQuickly('runtime.send on a hung server', () => hurried.send(actor, { type: 'add', payload: { n: 1 }, commandId: 'h-x' }), server.url);
        expect(sent.message).toMatch(/timed out/i);
        const append = await expectUnavailableQuickly('store.append on a hung server', () => impatient.append(appended, ['r2:1']), server.url);
        expect(append.message).toMatch(/timed out/i);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      // The append had reached Redis before it hung and ran when it woke up: the timed-out
      // operation was written after all (StoreUnavailableError does not mean "nothing written").
      await recoveredWithin(() => impatient.heads(actor), 5_000);
      expect(await impatient.commandVersions(actor, 'h-1')).toEqual([{ r2: 2 }]);
      expect(await impatient.commandVersions(actor, 'h-x')).toEqual([]);
      // The caller retries with the same id: the first result, nothing applied twice.
      expect(await hurried.send(actor, { type: 'add', payload: { n: 1 }, commandId: 'h-1' })).toMatchObject({ status: 'accepted', duplicate: true });
      // The entity's cached state is stale (it never saw r2:2): its next append conflicts and it reloads.
      expect(await hurried.send(actor, { type: 'add', payload: { n: 1 }, commandId: 'h-2' })).toMatchObject({ status: 'accepted', duplicate: false, version: { r2: 3 } });
      const view = await hurried.inspect<TallyState>(actor);
      expect(view.state.total).toBe(3);
      expect(view.version).toEqual({ r2: 3 });
      await expectConsistent(admin, impatient, actor);
    } finally {
      await hurried.stop();
      await impatient.close();
    }
  });

  it('a server that refuses writes for now (READONLY: it became a replica) is reported unavailable, not as a broken command; writes resume after', async () => {
    const a = Tally.ref(`ro-${Date.now()}`);
    await runtime.send(a, { type: 'add', payload: { n: 1 } });
    await admin.replicaof('127.0.0.1', 1); // a replica of nothing: every write is refused with READONLY
    try {
      const error = await expectUnavailableQuickly('runtime.send on a read-only server', () => runtime.send(a, { type: 'add', payload: { n: 2 }, commandId: 'ro-1' }), server.url);
      expect(error.message).toMatch(/READONLY/);
    } finally {
      await admin.replicaof('NO', 'ONE');
    }
    expect(await runtime.send(a, { type: 'add', payload: { n: 2 }, commandId: 'ro-1' })).toMatchObject({ status: 'accepted', duplicate: false });
    expect((await runtime.inspect<TallyState>(a)).state.total).toBe(3);
  });

  it('appends still work when the server lost its scripts (SCRIPT FLUSH, or a restart)', async () => {
    const actor = uniqueActor('scripts', 'tally');
    await runtime.send(actor, { type: 'add', payload: { n: 1 } });
    expect(await admin.script('EXISTS', appendSha)).toEqual([1]);
    expect(await admin.script('FLUSH')).toBe('OK');
    expect(await admin.script('EXISTS', appendSha)).toEqual([0]);
    await admin.config('RESETSTAT');
    // EVALSHA answers NOSCRIPT; ioredis sends the script with EVAL and carries on.
    expect(await runtime.send(actor, { type: 'add', payload: { n: 1 } })).toMatchObject({ status: 'accepted' });
    const stats = await admin.info('commandstats');
    expect(stats).toMatch(/cmdstat_evalsha:[^\n]*(rejected|failed)_calls=[1-9]/);
    expect(stats).toMatch(/cmdstat_eval:calls=[1-9]/);
    expect(await admin.script('EXISTS', appendSha)).toEqual([1]);

    // A restart keeps no scripts either.
    await server.stop();
    await server.boot();
    await recoveredWithin(() => store.heads(actor), 5_000);
    expect(await admin.script('EXISTS', appendSha)).toEqual([0]);
    expect(await runtime.send(actor, { type: 'add', payload: { n: 1 } })).toMatchObject({ status: 'accepted' });
    expect(await admin.script('EXISTS', appendSha)).toEqual([1]);
    expect((await runtime.inspect<TallyState>(actor)).state.total).toBe(3);
    await expectConsistent(admin, store, actor);
  });
});
