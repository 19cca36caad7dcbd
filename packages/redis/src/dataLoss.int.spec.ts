/**
 * A Redis that lost the store's data (restarted without persistence, flushed) is noticed: every
 * write refuses with StoreDataLostError and writes nothing, reads of a store that noticed it
 * fail too, and a new connection refuses a Redis that lost part of the data. `persistence()`
 * reports how the server protects the data.
 */
import { createRuntime, defineActor, MemoryStore, reject } from '@troupe/runtime';
import { type MergeRecord, StoreUnavailableError, VC } from '@troupe/runtime/store';
import { makeChain, requireService, uniqueActor, uniqueSuffix } from '@troupe/runtime/testkit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { connectRedisStore } from './connect.js';
import { StoreDataLostError } from './errors/index.js';
import { RedisStore } from './redisStore/index.js';
import { throwAwayServers } from './specHelpers/throwAwayServers.js';
import type { RedisServer } from './testing/redisServer.js';

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

/** An account that must be opened before deposits: on an emptied store a deposit would be rejected "not open". */
const Account = defineActor({
  type: 'account',
  initial: () => ({ open: false, balance: 0 }),
  commands: {
    open: (s) => (s.open ? reject('already open') : [{ type: 'opened', data: {} }]),
    deposit: (s, p: { amount: number }) => (s.open ? [{ type: 'deposited', data: { amount: p.amount } }] : reject('account is not open')),
  },
  events: {
    opened: (s) => ({ ...s, open: true }),
    deposited: (s, d: { amount: number }) => ({ ...s, balance: s.balance + d.amount }),
  },
});

const { startServer, connect, dispose } = throwAwayServers();

/**
 * The first rejection of `attempt` other than StoreUnavailableError (the store reconnecting),
 * trying again while it resolves (a check on reconnect not done yet) or is unavailable.
 */
async function firstFailure(attempt: () => Promise<unknown>, timeoutMs = 10_000): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const error = await attempt().then(
      () => undefined,
      (e: unknown) => e,
    );
    if (error !== undefined && !(error instanceof StoreUnavailableError)) return error;
    if (Date.now() > deadline) throw new Error(`no failure but unavailability within ${timeoutMs} ms: ${String(error)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection, but it resolved');
    },
    (error: unknown) => error,
  );
}

async function keyCount(server: RedisServer): Promise<number> {
  const admin = new Redis(server.url);
  try {
    return await admin.dbsize();
  } finally {
    admin.disconnect();
  }
}

describe.skipIf(!available)('RedisStore on a Redis that lost its data', () => {
  afterAll(dispose);

  it('after a restart without persistence, an append refuses with StoreDataLostError and writes nothing; every later call, and the reads of a store that reconnected, fail too', async () => {
    const server = await startServer();
    const prefix = `test-${uniqueSuffix()}`;
    const store = await connect(server, prefix);
    const reader = await connect(server, prefix);
    const actor = uniqueActor('lost', 'dataloss');
    const [first, second] = makeChain(actor, 2);
    await store.append(first!, []);
    expect((await reader.heads(actor)).map((p) => VC.encode(p.version))).toEqual(['a:1']);

    // SIGKILL and boot on the same directory: with `--save ""` and no AOF, Redis comes back empty.
    await server.kill();
    await server.boot();
    expect(await keyCount(server)).toBe(0);

    // The writer's next command, decided on an empty state (no heads): refused, nothing written.
    const other = makeChain(uniqueActor('fresh', 'dataloss'), 1)[0]!;
    const error = await firstFailure(() => store.append(other, []));
    expect(error).toBeInstanceOf(StoreDataLostError);
    const lost = error as StoreDataLostError;
    expect(lost.code).toBe('STORE_DATA_LOST');
    expect(lost.prefix).toBe(prefix);
    expect(lost.endpoint).toBe(server.url);
    expect(lost.message).toContain(`'${prefix}'`);
    expect(lost.message).toContain(server.url);
    expect(lost.message).toMatch(/identity key .*:identity is missing/);
    expect(lost.message).toContain('appendonly yes');
    expect(await keyCount(server)).toBe(0);

    // From then on every call of that store rejects with the same error, reads included.
    await expect(store.append(second!, ['a:1'])).rejects.toBe(lost);
    await expect(store.heads(actor)).rejects.toBe(lost);
    await expect(store.changesSince(undefined, 10)).rejects.toBe(lost);

    // The other store noticed it when its client reconnected ('ready'): even its reads that check
    // nothing by themselves fail (changesSince; heads checks in its script, writes too).
    const readError = await firstFailure(() => reader.changesSince(undefined, 10));
    expect(readError).toBeInstanceOf(StoreDataLostError);
    expect(await keyCount(server)).toBe(0);
  });

  it('a command on an emptied Redis is neither rejected on the empty state nor accepted: loads and appends refuse with StoreDataLostError', async () => {
    const server = await startServer();
    const prefix = `test-${uniqueSuffix()}`;
    // Two workers that saw the Redis before it was emptied: one has the account in memory, the
    // other never loaded it.
    const [warmStore, coldStore] = [await connect(server, prefix), await connect(server, prefix)];
    const warm = createRuntime({ actors: [Account], store: warmStore, replicaId: 'w1', machineId: 21 });
    const cold = createRuntime({ actors: [Account], store: coldStore, replicaId: 'w2', machineId: 22 });
    try {
      const ref = Account.ref(`acct-${uniqueSuffix()}`);
      expect((await warm.send(ref, { type: 'open', payload: {} })).status).toBe('accepted');
      expect((await warm.send(ref, { type: 'deposit', payload: { amount: 5 } })).status).toBe('accepted');
      // FLUSHALL on this test's own server: the data is gone without a reconnect ('ready' check).
      const admin = new Redis(server.url);
      await admin.flushall().finally(() => admin.disconnect());
      // The cold worker loads the account: the heads script refuses, nothing is rejected on the empty state.
      await expect(cold.send(ref, { type: 'deposit', payload: { amount: 1 } })).rejects.toBeInstanceOf(StoreDataLostError);
      // The warm worker decides on its cached state: the append refuses.
      await expect(warm.send(ref, { type: 'deposit', payload: { amount: 1 } })).rejects.toBeInstanceOf(StoreDataLostError);
      expect(await keyCount(server)).toBe(0);
    } finally {
      await Promise.all([warm.stop(), cold.stop()]);
    }
  });

  it('each write script checks the identity itself: merge, snapshot and checkpoint on an emptied Redis write nothing', async () => {
    const server = await startServer();
    const prefix = `test-${uniqueSuffix()}`;
    const actor = uniqueActor('scripts', 'dataloss');
    const chain = makeChain(actor, 2);
    const source = new MemoryStore();
    await source.merge(chain);
    // Three stores that saw the Redis before it was emptied, none of which has noticed yet.
    const [merger, snapshotter, checkpointer] = [await connect(server, prefix), await connect(server, prefix), await connect(server, prefix)];
    const admin = new Redis(server.url);
    try {
      // FLUSHALL on this test's own throw-away server: what a restart without persistence does,
      // without a reconnect (so no 'ready' check): only the scripts can notice.
      await admin.flushall();
      const mergeError = await rejection(merger.merge(chain));
      expect(mergeError).toBeInstanceOf(StoreDataLostError);
      const snapshotError = await rejection(snapshotter.saveSnapshot(actor, { version: chain[1]!.version, state: { n: 2 } }));
      expect(snapshotError).toBeInstanceOf(StoreDataLostError);
      const checkpointError = await rejection(checkpointer.checkpoint('from-eu').save('cursor-1'));
      expect(checkpointError).toBeInstanceOf(StoreDataLostError);
      expect(await admin.dbsize()).toBe(0);
    } finally {
      admin.disconnect();
    }
  });

  it('the region log and merge record writes check the identity too: frontier, regions and a merge record on an emptied Redis write nothing', async () => {
    const server = await startServer();
    const prefix = `test-${uniqueSuffix()}`;
    const actor = uniqueActor('records', 'dataloss');
    // Three stores that saw the Redis before it was emptied, none of which has noticed yet.
    const [frontierWriter, regionsWriter, recorder] = [await connect(server, prefix), await connect(server, prefix), await connect(server, prefix)];
    const admin = new Redis(server.url);
    try {
      await admin.flushall();
      const frontierError = await rejection(frontierWriter.mergeFrontier({ eu: { us: { cursor: 'us-id:1', at: 1 } } }));
      expect(frontierError).toBeInstanceOf(StoreDataLostError);
      const regionsError = await rejection(regionsWriter.declareRegions(['eu', 'us']));
      expect(regionsError).toBeInstanceOf(StoreDataLostError);
      const record: MergeRecord = {
        actor,
        version: { eu: 2, us: 1 },
        heads: [{ eu: 2 }, { us: 1 }],
        replayed: 2,
        droppedDuplicates: 0,
        compensations: [],
        region: 'eu',
        divergedAt: 1,
        mergedAt: 2,
        durationMs: 1,
      };
      const recordError = await rejection(recorder.recordMerge(record));
      expect(recordError).toBeInstanceOf(StoreDataLostError);
      expect(await admin.dbsize()).toBe(0);
    } finally {
      admin.disconnect();
    }
  });

  it('a new connection refuses a Redis that lost part of the store (one shard, or the meta slot)', async () => {
    const server = await startServer();
    const prefix = `test-${uniqueSuffix()}`;
    const store = await connect(server, prefix);
    const actor = uniqueActor('partial', 'dataloss');
    await store.append(makeChain(actor, 1)[0]!, []);
    const admin = new Redis(server.url);
    try {
      // A shard's slot lost its keys (on a Cluster: a master restarted empty).
      await admin.del(store.keysOf(actor).identity);
      const shardLost = await rejection(connectRedisStore({ url: server.url, prefix, shards: 4 }));
      expect(shardLost).toBeInstanceOf(StoreDataLostError);
      expect((shardLost as Error).message).toContain(`${store.keysOf(actor).identity} is missing`);
      // The meta slot lost its keys (layout record and identity), the shards kept theirs.
      await admin.set(store.keysOf(actor).identity, (await admin.get(`${prefix}:{${prefix}.meta}:identity`))!);
      await admin.del(`${prefix}:{${prefix}.meta}:identity`, `${prefix}:{${prefix}.meta}:layout`);
      const metaLost = await rejection(connectRedisStore({ url: server.url, prefix, shards: 4 }));
      expect(metaLost).toBeInstanceOf(StoreDataLostError);
      expect((metaLost as Error).message).toContain('layout record are gone');
    } finally {
      admin.disconnect();
    }
  });

  it('starting over: destroy() of a store that lost its data deletes it, and RedisStore.destroyPrefix resets one that cannot connect (the error names both)', async () => {
    const server = await startServer();
    const prefix = `test-${uniqueSuffix()}`;
    const neighbour = await connect(server, `test-${uniqueSuffix()}`);
    const store = await connect(server, prefix);
    const actor = uniqueActor('reset', 'dataloss');
    const [first] = makeChain(actor, 1);
    await store.append(first!, []);
    await neighbour.append(first!, []);
    const admin = new Redis(server.url);
    const prefixKeys = async () => (await admin.keys(`${prefix}:*`)).length;
    try {
      // One shard's slot lost its keys (a Cluster master restarted empty).
      await admin.del(store.keysOf(actor).identity);
      const lost = await rejection(store.heads(actor));
      expect(lost).toBeInstanceOf(StoreDataLostError);
      expect((lost as Error).message).toContain('store.destroy()');
      expect((lost as Error).message).toContain('RedisStore.destroyPrefix');
      // destroy() is how to start over: it deletes every key of the prefix despite the lost state.
      expect(await store.destroy()).toBeGreaterThan(0);
      expect(await prefixKeys()).toBe(0);
      const again = await connect(server, prefix);
      await again.append(first!, []);
      expect((await again.heads(actor)).map((p) => VC.encode(p.version))).toEqual(['a:1']);
      await again.close();

      // A store that lost part of its data refuses the connection: there is no store to destroy.
      await admin.del(store.keysOf(actor).identity);
      const refused = await rejection(connectRedisStore({ url: server.url, prefix, shards: 4 }));
      expect(refused).toBeInstanceOf(StoreDataLostError);
      expect((refused as Error).message).toContain('RedisStore.destroyPrefix');
      expect(await RedisStore.destroyPrefix({ url: server.url, prefix })).toBeGreaterThan(0);
      expect(await prefixKeys()).toBe(0);
      const fresh = await connect(server, prefix);
      await fresh.append(first!, []);
      await fresh.close();
      // With a client of the caller's: it stays open.
      await admin.del(store.keysOf(actor).identity);
      await expect(connectRedisStore({ url: server.url, prefix, shards: 4 })).rejects.toBeInstanceOf(StoreDataLostError);
      expect(await RedisStore.destroyPrefix({ client: admin, prefix })).toBeGreaterThan(0);
      expect(await prefixKeys()).toBe(0);
      expect(await admin.ping()).toBe('PONG');
      // Nothing of another prefix was touched.
      expect((await neighbour.heads(actor)).map((p) => VC.encode(p.version))).toEqual(['a:1']);
      await expect(RedisStore.destroyPrefix({ url: server.url, prefix: 'bad*prefix' })).rejects.toThrow(/prefix/);
    } finally {
      admin.disconnect();
    }
  });

  it('stores connecting at once to a new prefix agree on one identity; data written before identities gets one', async () => {
    const server = await startServer();
    const prefix = `test-${uniqueSuffix()}`;
    const racing = await Promise.all(Array.from({ length: 5 }, () => connect(server, prefix)));
    const actor = uniqueActor('race', 'dataloss');
    const chain = makeChain(actor, 5);
    for (const [i, store] of racing.entries()) await store.append(chain[i]!, i === 0 ? [] : [VC.encode(chain[i - 1]!.version)]);
    expect((await racing[0]!.heads(actor)).map((p) => VC.encode(p.version))).toEqual(['a:5']);

    // A store written by a release without identities: the identity keys and the seal are absent.
    const admin = new Redis(server.url);
    try {
      const legacy = `test-${uniqueSuffix()}`;
      const old = await connect(server, legacy);
      await old.append(makeChain(actor, 1)[0]!, []);
      const identityKeys = [`${legacy}:{${legacy}.meta}:identity`, ...Array.from({ length: 4 }, (_, shard) => `${legacy}:{${legacy}.${shard}}:identity`)];
      await Promise.all(identityKeys.map((key) => admin.del(key)));
      await admin.hdel(`${legacy}:{${legacy}.meta}:layout`, 'identity');
      const upgraded = await connect(server, legacy);
      expect((await upgraded.heads(actor)).map((p) => VC.encode(p.version))).toEqual(['a:1']);
      expect(await Promise.all(identityKeys.map((key) => admin.exists(key)))).toEqual([1, 1, 1, 1, 1]);
    } finally {
      admin.disconnect();
    }
  });

  it('persistence() reports AOF, RDB only, none, and falls back to INFO where CONFIG is disabled', async () => {
    const cases = [
      { args: ['--appendonly', 'yes'], expected: { aof: true, rdb: false, protection: 'aof' } },
      { args: ['--save', '3600 1'], expected: { aof: false, rdb: true, protection: 'rdb-only' } },
      { args: [], expected: { aof: false, rdb: false, protection: 'none' } },
      { args: ['--rename-command', 'CONFIG', ''], expected: { aof: false, rdb: undefined, protection: 'unknown' } },
      { args: ['--appendonly', 'yes', '--rename-command', 'CONFIG', ''], expected: { aof: true, rdb: undefined, protection: 'aof' } },
    ] as const;
    for (const { args: fixed, expected } of cases) {
      const args: readonly string[] = fixed;
      const server = await startServer(args);
      const store = await connect(server, `test-${uniqueSuffix()}`);
      const report = await store.persistence();
      expect({ aof: report.aof, rdb: report.rdb, protection: report.protection }, args.join(' ')).toEqual(expected);
      expect(report.nodes).toHaveLength(1);
      expect(report.nodes[0]!.node).toBe(`127.0.0.1:${server.port}`);
      expect(report.nodes[0]!.source).toBe(args.includes('CONFIG') ? 'info' : 'config');
      if (!args.includes('CONFIG')) expect(report.nodes[0]!.appendfsync).toBe('everysec');
    }
  });
});
