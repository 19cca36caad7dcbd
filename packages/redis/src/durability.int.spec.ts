import { type ActorRef, MemoryStore, StoreUnavailableError } from '@troupe/runtime';
import { type ActorSnapshot, type Pack, type Snapshot, VC, actorKey } from '@troupe/runtime/store';
import { makeChain, makePack, requireService, uniqueActor, uniqueSuffix } from '@troupe/runtime/testkit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { RedisStore } from './redisStore/index.js';
import { throwAwayServers } from './specHelpers/throwAwayServers.js';

// Gate like the other Redis suites (CI=true fails instead of skipping); the servers killed here are
// throw-away redis-servers on their own ports and directories.
const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

const { startServer, connect, dispose } = throwAwayServers();

/** What the store acknowledged: every append/merge that resolved. */
class Acked {
  readonly packs = new Map<string, Pack>();
  readonly snapshots: (Snapshot & { actor: ActorRef })[] = [];
  readonly actors = new Map<string, ActorRef>();

  async append(store: RedisStore, pack: Pack, expectedHeads: readonly string[], snapshot?: Snapshot): Promise<void> {
    await store.append(pack, expectedHeads, snapshot);
    this.add(pack);
    if (snapshot) this.snapshots.push({ actor: pack.actor, ...snapshot });
  }

  async merge(store: RedisStore, packs: readonly Pack[], snapshots: readonly ActorSnapshot[]): Promise<void> {
    await store.merge(packs, snapshots);
    for (const pack of packs) this.add(pack);
    this.snapshots.push(...snapshots);
  }

  private add(pack: Pack): void {
    this.packs.set(`${actorKey(pack.actor)}@${VC.encode(pack.version)}`, pack);
    this.actors.set(actorKey(pack.actor), pack.actor);
  }
}

async function drainLog(store: RedisStore) {
  const packs: Pack[] = [];
  const snapshots: ActorSnapshot[] = [];
  let cursor: string | undefined;
  for (;;) {
    const changes = await store.changesSince(cursor, 7);
    if (changes.packs.length === 0) return { packs, snapshots, cursor: changes.cursor };
    packs.push(...changes.packs);
    snapshots.push(...changes.snapshots);
    cursor = changes.cursor;
  }
}

/** Everything a reader can see of the acknowledged data. */
async function readBack(store: RedisStore, acked: Acked) {
  const packs = new Map<string, Pack | undefined>();
  const commands = new Map<string, string[]>();
  for (const [key, pack] of acked.packs) {
    packs.set(key, (await store.getPacks(pack.actor, [VC.encode(pack.version)]))[0]);
    for (const id of pack.commandIds) {
      commands.set(`${actorKey(pack.actor)}#${id}`, (await store.commandVersions(pack.actor, id)).map(VC.encode));
    }
  }
  const heads = new Map<string, Pack[]>();
  const chains = new Map<string, unknown>();
  for (const [key, actor] of acked.actors) {
    const actorHeads = await store.heads(actor);
    heads.set(key, actorHeads);
    for (const head of actorHeads) chains.set(`${key}@${VC.encode(head.version)}`, await store.loadChain(actor, VC.encode(head.version)));
  }
  const snapshotBases = await Promise.all(acked.snapshots.map(async (s) => (await store.loadChain(s.actor, VC.encode(s.version))).base));
  return { packs, commands, heads, chains, snapshotBases, log: await drainLog(store) };
}

async function eventually<T>(what: string, attempt: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof StoreUnavailableError) || Date.now() > deadline) throw new Error(`${what}: ${(error as Error).message}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe.skipIf(!available)('RedisStore durability across a SIGKILL of Redis', () => {
  afterAll(dispose);

  it(
    'with appendonly yes + appendfsync always, every acknowledged pack, head, snapshot, command id and log entry survives',
    async () => {
      const server = await startServer(['--appendonly', 'yes', '--appendfsync', 'always']);
      const prefix = `test-${uniqueSuffix()}`;
      const store = await connect(server, prefix);
      const admin = new Redis(server.url);
      const config = (await admin.config('GET', 'appendonly', 'appendfsync', 'save').finally(() => admin.disconnect())) as string[];
      expect(Object.fromEntries(config.flatMap((v, i) => (i % 2 === 0 ? [[v, config[i + 1]]] : [])))).toEqual({
        appendonly: 'yes',
        appendfsync: 'always',
        save: '',
      });
      const acked = new Acked();

      // Six actors, chains of 5 command packs, a snapshot passed to append at packs 3 and 5.
      const actors = Array.from({ length: 6 }, (_, i) => uniqueActor(`durable${i}`, 'durability'));
      const chains = new Map<string, Pack[]>();
      for (const actor of actors) {
        const chain = makeChain(actor, 5);
        chains.set(actorKey(actor), chain);
        let heads: string[] = [];
        for (const [i, pack] of chain.entries()) {
          const snapshot = i === 2 || i === 4 ? { version: pack.version, state: { actor: actor.id, count: i + 1 } } : undefined;
          await acked.append(store, pack, heads, snapshot);
          heads = [VC.encode(pack.version)];
        }
      }
      // Another store (replica 'b') branches two of them and creates one actor of its own with a
      // snapshot; its log is merged in: two heads for those actors, a shipped snapshot for the new one.
      const other = new MemoryStore();
      for (const actor of actors.slice(0, 2)) {
        const chain = chains.get(actorKey(actor))!;
        await other.merge(chain.slice(0, 3));
        await other.append(makeChain(actor, 1, 'b', chain[2]!.version)[0]!, [VC.encode(chain[2]!.version)]);
      }
      const remote = uniqueActor('remote', 'durability');
      const remoteChain = makeChain(remote, 2, 'b');
      await other.append(remoteChain[0]!, []);
      await other.append(remoteChain[1]!, [VC.encode(remoteChain[0]!.version)], { version: remoteChain[1]!.version, state: { remote: true } });
      const shipped = await other.changesSince(undefined, 1_000);
      expect(shipped.snapshots).toHaveLength(1);
      await acked.merge(store, shipped.packs, shipped.snapshots);
      // Actor 0's two heads resolved by a merge pack (its state is the loadChain base afterwards).
      const [a0] = actors;
      const headKeys = (await store.heads(a0!)).map((p) => VC.encode(p.version));
      expect(headKeys).toEqual(['a:3,b:1', 'a:5']);
      const merge = makePack({
        actor: a0!,
        kind: 'merge',
        version: { a: 5, b: 1 },
        parents: [{ a: 3, b: 1 }, { a: 5 }],
        state: { resolved: ['a:3,b:1', 'a:5'] },
      });
      await acked.append(store, merge, headKeys);

      const before = await readBack(store, acked);
      // Sanity of what we are about to compare: everything acked is there, with the shapes we built.
      expect([...before.packs.values()].every((p) => p !== undefined)).toBe(true);
      expect([...before.commands.values()].every((v) => v.length === 1)).toBe(true);
      expect(before.log.packs).toHaveLength(acked.packs.size);
      expect(before.log.snapshots).toHaveLength(acked.snapshots.length);
      expect(before.heads.get(actorKey(actors[1]!))!.map((p) => VC.encode(p.version))).toEqual(['a:3,b:1', 'a:5']);
      expect(before.chains.get(`${actorKey(a0!)}@a:5,b:1`)).toEqual({ base: { version: merge.version, state: merge.state }, packs: [] });
      expect(before.snapshotBases).toEqual(acked.snapshots.map(({ version, state }) => ({ version, state })));

      // SIGKILL: no shutdown, no final write. The connected store must fail fast and clearly.
      await server.kill();
      const next = makePack({ actor: actors[2]!, version: { a: 6 }, parents: [{ a: 5 }] });
      const failedAt = Date.now();
      const failures = await Promise.allSettled([store.append(next, ['a:5']), store.heads(actors[2]!), store.changesSince(undefined, 10)]);
      expect(Date.now() - failedAt).toBeLessThan(1_000);
      for (const failure of failures) {
        expect(failure.status).toBe('rejected');
        const error = (failure as PromiseRejectedResult).reason as Error;
        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect(error.message).toContain(`store at ${server.url} is unavailable`);
      }

      // Restart on the same port and directory: Redis replays the AOF.
      await server.boot();
      const reopened = await connect(server, prefix);
      expect(await readBack(reopened, acked)).toEqual(before);

      // The store that saw the crash reconnects by itself and takes the append it refused.
      await eventually('append after the restart', () => store.append(next, ['a:5']));
      expect((await reopened.heads(actors[2]!)).map((p) => VC.encode(p.version))).toEqual(['a:6']);
      expect(await store.commandVersions(actors[2]!, next.commandIds[0]!)).toEqual([{ a: 6 }]);
    },
    30_000,
  );

  it('control: without appendonly (and --save "", as the local test service runs) a SIGKILL loses everything', async () => {
    const server = await startServer([]);
    const prefix = `test-${uniqueSuffix()}`;
    const store = await connect(server, prefix);
    const actor = uniqueActor('volatile', 'durability');
    await store.append(makeChain(actor, 1)[0]!, []);
    expect(await store.heads(actor)).toHaveLength(1);
    await server.kill();
    await server.boot();
    const reopened = await connect(server, prefix);
    expect(await reopened.heads(actor)).toEqual([]);
    expect((await drainLog(reopened)).packs).toEqual([]);
  });
});
