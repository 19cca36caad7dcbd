/**
 * `replicasToAcknowledge`: each append and merge is followed by `WAIT n timeout` on the same
 * connection; a write fewer replicas confirmed in time is a ReplicationTimeoutError (a
 * StoreUnavailableError: outcome unknown), and the write itself is not undone.
 */
import { InvalidOptionError, MemoryStore } from '@troupe/runtime';
import { AppendConflictError, StoreUnavailableError, VC } from '@troupe/runtime/store';
import { makeChain, requireService, uniqueActor, uniqueSuffix } from '@troupe/runtime/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedisStore } from './connect.js';
import { ReplicationTimeoutError } from './errors/index.js';
import { RedisServer } from './testing/redisServer.js';

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

describe.skipIf(!available)('RedisStore with replicasToAcknowledge', () => {
  let master: RedisServer;
  let replica: RedisServer;

  beforeAll(async () => {
    master = await RedisServer.start();
    replica = await RedisServer.start({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
    const admin = new Redis(replica.url);
    try {
      const deadline = Date.now() + 10_000;
      while (!/^master_link_status:up\r?$/m.test(await admin.info('replication'))) {
        if (Date.now() > deadline) throw new Error('the replica did not sync');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      admin.disconnect();
    }
  }, 20_000);

  afterAll(async () => {
    await replica?.destroy();
    await master?.destroy();
  });

  it('with enough replicas, appends and merges resolve once the replica has them (also after SCRIPT FLUSH)', async () => {
    const store = await connectRedisStore({ url: master.url, prefix: `test-${uniqueSuffix()}`, replicasToAcknowledge: 1 });
    const view = new Redis(replica.url);
    try {
      const actor = uniqueActor('acked', 'wait');
      const [first, second] = makeChain(actor, 2);
      await store.append(first!, []);
      // WAIT returned 1: the replica holds the pack the moment append resolves.
      expect(await view.hexists(store.keysOf(actor).packs, 'a:1')).toBe(1);
      // The pipeline sends EVALSHA; NOSCRIPT makes it send the script itself, WAIT still after it.
      const admin = new Redis(master.url);
      await admin.script('FLUSH').finally(() => admin.disconnect());
      await store.append(second!, ['a:1']);
      expect(await view.hexists(store.keysOf(actor).packs, 'a:2')).toBe(1);
      const remote = makeChain(uniqueActor('merged', 'wait'), 3, 'b');
      const source = new MemoryStore();
      await source.merge(remote);
      expect(await store.merge(remote)).toEqual({ added: 3, skipped: 0 });
      expect(await view.hlen(store.keysOf(remote[0]!.actor).packs)).toBe(3);
    } finally {
      view.disconnect();
      await store.destroy();
    }
  });

  it('with fewer replicas than asked, a write is a ReplicationTimeoutError (outcome unknown) after replicationTimeoutMs; the write stays', async () => {
    const store = await connectRedisStore({ url: master.url, prefix: `test-${uniqueSuffix()}`, replicasToAcknowledge: 2, replicationTimeoutMs: 200 });
    try {
      const actor = uniqueActor('short', 'wait');
      const [first] = makeChain(actor, 1);
      const started = Date.now();
      const error = await store.append(first!, []).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      expect(error).toBeInstanceOf(ReplicationTimeoutError);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      const timeout = error as ReplicationTimeoutError;
      expect(timeout.code).toBe('STORE_UNAVAILABLE');
      expect(timeout.replicasAcknowledged).toBe(1);
      expect(timeout.replicasToAcknowledge).toBe(2);
      expect(timeout.message).toContain('replicasToAcknowledge');
      expect(timeout.message).toContain('retry with the same command id');
      // Not undone: a retry finds it (here: the same pack again is a conflict on its own version).
      expect((await store.heads(actor)).map((p) => VC.encode(p.version))).toEqual(['a:1']);
      await expect(store.append(first!, [])).rejects.toBeInstanceOf(AppendConflictError);
      expect(await store.commandVersions(actor, first!.commandIds[0]!)).toEqual([{ a: 1 }]);
      // A merge that wrote is one too; one that wrote nothing (all skipped) needs no replica.
      const remote = makeChain(uniqueActor('merged', 'wait'), 1, 'b');
      await expect(store.merge(remote)).rejects.toBeInstanceOf(ReplicationTimeoutError);
      expect(await store.merge(remote)).toEqual({ added: 0, skipped: 1 });
    } finally {
      await store.destroy();
    }
  });

  it('checks the options', async () => {
    await expect(connectRedisStore({ url: master.url, replicasToAcknowledge: -1 })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(connectRedisStore({ url: master.url, replicasToAcknowledge: 1, replicationTimeoutMs: 0 })).rejects.toThrow(/replicationTimeoutMs/);
  });
});
