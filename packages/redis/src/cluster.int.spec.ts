import { InvalidOptionError, MemoryStore } from '@troupe/runtime';
import { type Pack, VC, actorKey } from '@troupe/runtime/store';
import { appendChain, makeChain, requireService, uniqueActor, uniqueSuffix } from '@troupe/runtime/testkit';
import { runStoreConformance } from '@troupe/runtime/testkit/conformance';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedisStore, failFastRedisOptions } from './connect.js';
import { RedisStore } from './redisStore/index.js';
import { RedisCluster } from './testing/redisCluster.js';

// Gate like the other Redis suites: a machine without the local Redis service skips loudly, and
// CI=true turns a missing Redis into a failure. The cluster itself is started from redis-server.
const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

let cluster: RedisCluster | undefined;

function nodes(): string[] {
  if (!cluster) throw new Error('the Redis Cluster did not start (see beforeAll)');
  return cluster.nodes;
}

function startupNodes() {
  return nodes().map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) }));
}

/**
 * A store whose scripts start with a `#!lua` shebang. Redis 7 then refuses a script that touches a
 * key outside the slot of its first key ("Script attempted to access keys that do not hash to the
 * same slot"), declared or not. Without a shebang (how the store registers them) Redis accepts
 * undeclared keys of another slot as long as that slot is on the same node, so only this variant
 * proves that every script stays in one slot.
 */
async function connectStrictStore(prefix: string, injectLua = ''): Promise<RedisStore> {
  const client = new Cluster(startupNodes(), { lazyConnect: true, enableOfflineQueue: false, redisOptions: failFastRedisOptions });
  client.on('error', () => {});
  const define = client.defineCommand.bind(client);
  client.defineCommand = (name, definition) => define(name, { ...definition, lua: `#!lua\n${injectLua}${definition.lua}` });
  const store = new RedisStore({ client, ownsClient: true, prefix });
  try {
    await client.connect();
    await store.verifyLayout();
  } catch (error) {
    client.disconnect();
    throw error;
  }
  return store;
}

describe.skipIf(!available)('RedisStore on a 3-master Redis Cluster', () => {
  beforeAll(async () => {
    cluster = await RedisCluster.start();
  }, 60_000);

  afterAll(async () => {
    await cluster?.destroy();
  });

  runStoreConformance({
    name: 'RedisStore on Redis Cluster',
    create: () => connectRedisStore({ cluster: nodes(), prefix: `test-${uniqueSuffix()}` }),
    cleanup: async (store) => {
      await (store as RedisStore).destroy();
    },
    regionLog: true,
    mergeLog: true,
    reopen: (store) => connectRedisStore({ cluster: nodes(), prefix: (store as RedisStore).prefix }),
  });

  runStoreConformance({
    name: 'RedisStore on Redis Cluster, scripts with a #!lua shebang (one slot enforced by Redis)',
    create: () => connectStrictStore(`test-${uniqueSuffix()}`),
    cleanup: async (store) => {
      await (store as RedisStore).destroy();
    },
    regionLog: true,
    mergeLog: true,
    reopen: (store) => connectStrictStore((store as RedisStore).prefix),
  });

  it('keeps working after SCRIPT FLUSH on every master (NOSCRIPT: ioredis sends the script again)', async () => {
    const store = await connectRedisStore({ cluster: nodes(), prefix: `test-${uniqueSuffix()}` });
    const view = new Cluster(startupNodes(), { lazyConnect: true });
    try {
      await view.connect();
      const actors = Array.from({ length: 12 }, (_, i) => uniqueActor(`flush${i}`, 'cluster'));
      const chains = actors.map((actor) => makeChain(actor, 2));
      for (const chain of chains) await store.append(chain[0]!, []);
      const masters = view.nodes('master');
      await Promise.all(masters.map((master) => master.script('FLUSH')));
      const noscripts = async () => {
        let failed = 0;
        for (const master of masters) failed += Number(/cmdstat_evalsha:.*failed_calls=(\d+)/.exec(await master.info('commandstats'))?.[1] ?? 0);
        return failed;
      };
      const before = await noscripts();
      for (const chain of chains) await store.append(chain[1]!, ['a:1']);
      // The script cache was empty on masters whose connections had already sent the scripts.
      expect(await noscripts()).toBeGreaterThan(before);
      for (const [i, actor] of actors.entries()) {
        expect(await store.heads(actor)).toEqual([chains[i]![1]]);
        expect(await store.loadChain(actor, 'a:2')).toEqual({ packs: chains[i] });
      }
    } finally {
      view.disconnect();
      await store.close();
    }
  });

  it('refuses to open data written with another shard count', async () => {
    const prefix = `test-${uniqueSuffix()}`;
    await (await connectRedisStore({ cluster: nodes(), prefix, shards: 16 })).close();
    await expect(connectRedisStore({ cluster: nodes(), prefix, shards: 8 })).rejects.toBeInstanceOf(InvalidOptionError);
    await (await connectRedisStore({ cluster: nodes(), prefix, shards: 16 })).close();
  });

  it('the #!lua shebang really makes Redis refuse a script that leaves its slot', async () => {
    // Control for the suite above: the same check would catch a script building a key of another shard.
    const port = Number(nodes()[0]!.split(':')[1]);
    const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
    await redis.connect();
    try {
      const owned = (await redis.cluster('SLOTS')).filter(([, , master]) => master?.[1] === port);
      // Two hash tags in two slots of this node, so the only error left is the cross-slot one.
      const keys: string[] = [];
      const slots = new Set<number>();
      for (let i = 0; keys.length < 2; i++) {
        const slot = Number(await redis.cluster('KEYSLOT', `{t${i}}`));
        if (owned.some(([from, to]) => slot >= from && slot <= to) && !slots.has(slot)) {
          slots.add(slot);
          keys.push(`{t${i}}:${uniqueSuffix()}`);
        }
      }
      const body = `redis.call('SET', KEYS[1], 1) return redis.call('SET', ARGV[1], 2)`;
      await expect(redis.eval(body, 1, keys[0]!, keys[1]!)).resolves.toBe('OK');
      await expect(redis.eval(`#!lua\n${body}`, 1, keys[0]!, keys[1]!)).rejects.toThrow(/do not hash to the same slot/);
      for (const key of keys) await redis.del(key);
    } finally {
      redis.disconnect();
    }
    // And it reaches the store's scripts: the same store with a read of a foreign key in each script
    // fails. ('{meta}' is a slot no shard tag of the store uses.)
    const store = await connectStrictStore(`test-${uniqueSuffix()}`, `redis.call('EXISTS', '{meta}:elsewhere')\n`);
    try {
      const actor = uniqueActor('strict', 'cluster');
      await expect(store.append(makeChain(actor, 1)[0]!, [])).rejects.toThrow(/Script attempted to access (keys that do not hash to the same slot|a non local key)/);
    } finally {
      await store.close();
    }
  });

  it('spreads actors over the masters, and keeps all keys of one actor and its shard log in one slot', async () => {
    const prefix = `test-${uniqueSuffix()}`;
    const store = await connectRedisStore({ cluster: nodes(), prefix });
    const view = new Cluster(startupNodes(), { lazyConnect: true });
    try {
      await view.connect();
      const masters = view.nodes('master');
      expect(masters).toHaveLength(3);
      const ownerOf = new Map<number, number>(); // slot -> port of the master serving it
      for (const [from, to, master] of await view.cluster('SLOTS')) {
        for (let slot = from; slot <= to; slot++) ownerOf.set(slot, master![1]);
      }

      const actors = Array.from({ length: 50 }, (_, i) => uniqueActor(`spread${i}`, 'cluster'));
      // Each actor: a chain of 3 appended (snapshot with the last), and a branch merged in from another store.
      const other = new MemoryStore();
      for (const actor of actors) {
        const chain = makeChain(actor, 3);
        await appendChain(store, chain.slice(0, 2));
        await store.append(chain[2]!, [VC.encode(chain[1]!.version)], { version: chain[2]!.version, state: { n: 3 } });
        await other.merge(chain.slice(0, 2));
        await other.append(makeChain(actor, 1, 'b', chain[1]!.version)[0]!, [VC.encode(chain[1]!.version)]);
      }
      const fromOther = (await other.changesSince(undefined, 10_000)).packs;
      expect(await store.merge(fromOther)).toMatchObject({ added: 50, skipped: 100 });

      const holderPorts = new Set<number>();
      for (const actor of actors) {
        const keys = store.keysOf(actor);
        const names = [keys.packs, keys.parents, keys.heads, keys.snapshots, keys.commands, keys.runs, keys.log];
        const slots = await Promise.all(names.map(async (name) => Number(await view.cluster('KEYSLOT', name))));
        expect(new Set(slots).size, `slots of ${actorKey(actor)}: ${names.join(' ')}`).toBe(1);
        // Exactly one master holds the actor's keys, the one serving their slot; the others redirect to it.
        const holders: number[] = [];
        for (const master of masters) {
          const present = await master.exists(...names).catch((error: Error) => {
            expect(error.message).toBe(`MOVED ${slots[0]} 127.0.0.1:${ownerOf.get(slots[0]!)}`);
            return 0;
          });
          if (present > 0) {
            expect(present).toBe(names.length);
            holders.push(master.options.port!);
          }
        }
        expect(holders).toEqual([ownerOf.get(slots[0]!)]);
        holderPorts.add(holders[0]!);
        expect((await store.heads(actor)).map((p) => VC.encode(p.version))).toEqual(['a:2,b:1', 'a:3']);
      }
      expect(holderPorts.size).toBeGreaterThanOrEqual(2);

      // Every key under the prefix is in the slot of its shard tag, on the master serving that slot.
      let counted = 0;
      for (const master of masters) {
        let cursor = '0';
        do {
          const [next, keys] = await master.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
          for (const key of keys) {
            const tag = /^[^{]*\{([^}]*)\}/.exec(key)![1]!;
            const slot = Number(await master.cluster('KEYSLOT', key));
            expect(slot).toBe(Number(await master.cluster('KEYSLOT', `{${tag}}`)));
            expect(ownerOf.get(slot)).toBe(master.options.port);
            counted++;
          }
          cursor = next;
        } while (cursor !== '0');
      }
      // 6 keys per actor (p r h s c l), one log per shard in use, the layout key, and the store
      // identity in every shard and under the meta tag.
      const logs = new Set(actors.map((a) => store.keysOf(a).log));
      expect(counted).toBe(actors.length * 6 + logs.size + 1 + store.shards + 1);

      // The replication log, read by a script that builds the pack keys inside Lua from the shard tag.
      const changes = await store.changesSince(undefined, 10_000);
      expect(new Set(changes.packs.map((p: Pack) => `${actorKey(p.actor)}@${VC.encode(p.version)}`)).size).toBe(actors.length * 4);
      expect(changes.snapshots).toHaveLength(actors.length);
    } finally {
      view.disconnect();
      await store.close();
    }
  });

  it('destroy() deletes every key of the store on every master, and nothing of another prefix', async () => {
    const prefix = `test-${uniqueSuffix()}`;
    const store = await connectRedisStore({ cluster: nodes(), prefix });
    const neighbour = await connectRedisStore({ cluster: nodes(), prefix: `${prefix}-x` });
    const view = new Cluster(startupNodes(), { lazyConnect: true });
    /** Keys matching a pattern, per master. */
    const count = async (pattern: string) =>
      Promise.all(
        view.nodes('master').map(async (master) => {
          let found = 0;
          let cursor = '0';
          do {
            const [next, keys] = await master.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
            found += keys.length;
            cursor = next;
          } while (cursor !== '0');
          return found;
        }),
      );
    try {
      await view.connect();
      for (let i = 0; i < 24; i++) {
        await appendChain(store, makeChain(uniqueActor(`gone${i}`, 'cluster'), 2));
        await appendChain(neighbour, makeChain(uniqueActor(`kept${i}`, 'cluster'), 2));
      }
      await store.checkpoint('from-eu').save('0');
      const before = await count(`${prefix}:*`);
      expect(before.filter((n) => n > 0).length, `keys per master: ${before.join(', ')}`).toBeGreaterThanOrEqual(2);
      const neighbourKeys = await count(`${prefix}-x:*`);

      expect(await store.destroy()).toBe(before.reduce((a, b) => a + b, 0));
      expect(await count(`${prefix}:*`)).toEqual([0, 0, 0]);
      expect(await count(`${prefix}-x:*`)).toEqual(neighbourKeys);
    } finally {
      view.disconnect();
      await neighbour.destroy();
    }
  });
});
