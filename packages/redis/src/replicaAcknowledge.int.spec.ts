/**
 * `replicasToAcknowledge`: each append and merge is followed by `WAIT n timeout` on the same
 * connection; a write fewer replicas confirmed in time is a ReplicationTimeoutError (a
 * StoreUnavailableError: outcome unknown), and the write itself is not undone.
 */
import { createRuntime, defineActor, InvalidOptionError, MemoryStore } from '@troupe/runtime';
import { AppendConflictError, DuplicateCommandError, StoreUnavailableError, VC } from '@troupe/runtime/store';
import { makeChain, makePack, requireService, uniqueActor, uniqueSuffix } from '@troupe/runtime/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedisStore } from './connect.js';
import { ReplicationTimeoutError } from './errors/index.js';
import { RedisServer } from './testing/redisServer.js';

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

const Counter = defineActor({
  type: 'counter',
  initial: () => ({ n: 0 }),
  commands: { add: () => [{ type: 'added', data: {} }] },
  events: { added: (s: { n: number }) => ({ n: s.n + 1 }) },
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, but it resolved with ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

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
      expect(await store.merge(remote)).toMatchObject({ added: 3, skipped: 0 });
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
      // Not undone: a retry finds it (here: the same pack again is a conflict on its own version)...
      expect((await store.heads(actor)).map((p) => VC.encode(p.version))).toEqual(['a:1']);
      await expect(store.append(first!, [])).rejects.toBeInstanceOf(AppendConflictError);
      // ...but still unconfirmed: the lookup that answers a retry waits for the replicas too.
      await expect(store.commandVersions(actor, first!.commandIds[0]!)).rejects.toBeInstanceOf(ReplicationTimeoutError);
      expect(await store.commandVersions(actor, 'never-applied')).toEqual([]);
      // A merge that wrote is one too, and so is one that only skipped (packs held, not confirmed).
      const remote = makeChain(uniqueActor('merged', 'wait'), 1, 'b');
      await expect(store.merge(remote)).rejects.toBeInstanceOf(ReplicationTimeoutError);
      await expect(store.merge(remote)).rejects.toBeInstanceOf(ReplicationTimeoutError);
    } finally {
      await store.destroy();
    }
  });

  it('a retry after ReplicationTimeoutError is not answered until the replicas confirm the write: runtime retry (also from another connection), append of the id again, merge that only skips', async () => {
    const options = { url: master.url, prefix: `test-${uniqueSuffix()}`, replicasToAcknowledge: 1, replicationTimeoutMs: 200 };
    const store = await connectRedisStore(options);
    // Another process's store: its connection never wrote, so a bare WAIT on it would count the
    // replica as up to date whatever it holds.
    const other = await connectRedisStore(options);
    const runtime = createRuntime({ actors: [Counter], store, replicaId: 'a' });
    const elsewhere = createRuntime({ actors: [Counter], store: other, replicaId: 'b' });
    const view = new Redis(replica.url);
    const pid = Number(/process_id:(\d+)/.exec(await view.info('server'))![1]);
    const ref = Counter.ref(`retry-${uniqueSuffix()}`);
    const actor = { type: ref.type, id: ref.id };
    let stopped = false;
    try {
      process.kill(pid, 'SIGSTOP');
      stopped = true;
      const first = await rejection(runtime.send(ref, { type: 'add', payload: {}, commandId: 'cmd-1' }));
      expect(first).toBeInstanceOf(ReplicationTimeoutError);
      // The retry finds the command id recorded, but no replica has it yet: not "accepted".
      expect(await rejection(runtime.send(ref, { type: 'add', payload: {}, commandId: 'cmd-1' }))).toBeInstanceOf(ReplicationTimeoutError);
      expect(await rejection(elsewhere.send(ref, { type: 'add', payload: {}, commandId: 'cmd-1' }))).toBeInstanceOf(ReplicationTimeoutError);
      await expect(other.commandVersions(actor, 'cmd-1')).rejects.toBeInstanceOf(ReplicationTimeoutError);
      // The store's own paths that find the write already there: the append script's duplicate
      // branch and a merge that only skips.
      const [written] = await store.heads(actor);
      const again = makePack({ actor, version: { a: 2 }, parents: [written!.version], commandIds: ['cmd-1'] });
      expect(await rejection(other.append(again, ['a:1']))).toBeInstanceOf(ReplicationTimeoutError);
      expect(await rejection(other.merge([written!]))).toBeInstanceOf(ReplicationTimeoutError);
      process.kill(pid, 'SIGCONT');
      stopped = false;
      // Once the replica has it, the same retries get the recorded result.
      const retried = await runtime.send(ref, { type: 'add', payload: {}, commandId: 'cmd-1' });
      expect(retried).toMatchObject({ status: 'accepted', duplicate: true, version: { a: 1 } });
      expect(await elsewhere.send(ref, { type: 'add', payload: {}, commandId: 'cmd-1' })).toMatchObject({ status: 'accepted', duplicate: true, version: { a: 1 } });
      await expect(other.append(again, ['a:1'])).rejects.toBeInstanceOf(DuplicateCommandError);
      expect(await other.merge([written!])).toMatchObject({ added: 0, skipped: 1 });
      expect(await view.hexists(store.keysOf(actor).packs, 'a:1')).toBe(1);
    } finally {
      if (stopped) process.kill(pid, 'SIGCONT');
      view.disconnect();
      await Promise.all([runtime.stop(), elsewhere.stop()]);
      await other.close();
      await store.destroy();
    }
  });

  it('checks the options', async () => {
    await expect(connectRedisStore({ url: master.url, replicasToAcknowledge: -1 })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(connectRedisStore({ url: master.url, replicasToAcknowledge: 1, replicationTimeoutMs: 0 })).rejects.toThrow(/replicationTimeoutMs/);
  });
});
