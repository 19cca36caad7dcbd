/**
 * The merge script (merge.lua) reads an actor's heads and run index once per call, checks key
 * types by reads instead of TYPE, and pushes the shard log entries of a call in one RPUSH at its
 * end. These tests pin what that must not change: a call that fails half-way (a foreign type at
 * any key it writes, a missing parent, a collision) leaves the packs before the failing one merged
 * AND in the shard log (replication copies them on), nothing of the failing pack, and the same
 * data an earlier call wrote pack by pack.
 */
import { CorruptDataError, LimitExceededError, MissingAncestorError, type Pack, packFormatVersion, VC, VersionCollisionError } from '@troupe/runtime/store';
import { makeChain, makePack, requireService, uniqueActor } from '@troupe/runtime/testkit';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { RedisStore } from './redisStore/index.js';
import { createTestStore, testRedisUrl } from './specHelpers/testStore.js';

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

describe.skipIf(!available)('merge.lua: a call that fails half-way', () => {
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup = [];
  });

  /** One shard, so every pack of a merge goes to one script call. */
  async function setup(): Promise<{ store: RedisStore; raw: Redis }> {
    const store = await createTestStore({ shards: 1 });
    const raw = new Redis(testRedisUrl);
    cleanup.push(async () => {
      raw.disconnect();
      await store.destroy();
    });
    return { store, raw };
  }

  /** Every pack in the store's (one) shard log, as `type:id@version`. */
  async function logged(store: RedisStore): Promise<string[]> {
    const raw = new Redis(testRedisUrl);
    try {
      const entries = await raw.lrange(store.keysOf(uniqueActor()).log, 0, -1);
      return entries.map((entry) => {
        const [type, id, version] = JSON.parse(entry) as [string, string, string, number];
        return `${type}:${id}@${version}`;
      });
    } finally {
      raw.disconnect();
    }
  }
  const name = (p: Pack) => `${p.actor.type}:${p.actor.id}@${VC.encode(p.version)}`;

  for (const [suffix, foreign] of [
    ['r', 'parent links'],
    ['h', 'heads'],
    ['c', 'command ids'],
    ['p', 'packs'],
    ['s', 'snapshots'],
  ] as const) {
    it(`a foreign type at the victim's :${suffix} (${foreign}): the packs before it stay merged and logged, nothing of the victim is written`, async () => {
      const { store, raw } = await setup();
      const before = makeChain(uniqueActor('before'), 3);
      const victim = uniqueActor('victim');
      const [root] = makeChain(victim, 1);
      await store.merge([root!]);
      const next = makePack({ actor: victim, version: VC.increment(root!.version, 'a'), parents: [root!.version] });
      const keys = store.keysOf(victim);
      const key = { r: keys.parents, h: keys.heads, c: keys.commands, p: keys.packs, s: keys.snapshots }[suffix];
      // :p and :r hold the root: a foreign type there replaces the actor's data (that is the point).
      await raw.del(key);
      await raw.set(key, 'not troupe');
      const snapshots = suffix === 's' ? [{ actor: victim, version: next.version, state: { n: 2 } }] : [];
      const error = await store.merge([...before, next, ...makeChain(uniqueActor('after'), 1)], snapshots).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CorruptDataError);
      expect((error as CorruptDataError).message).toContain(key);
      expect(await logged(store)).toEqual([name(root!), ...before.map(name)]);
      expect(await store.heads(before[0]!.actor)).toHaveLength(1);
      if (suffix !== 'p') expect(await raw.hexists(keys.packs, VC.encode(next.version))).toBe(0);
      if (suffix !== 'r') expect(await raw.hexists(keys.parents, VC.encode(next.version))).toBe(0);
      if (suffix !== 'c') expect(await raw.hlen(keys.commands)).toBe(1);
      if (suffix !== 'h') expect(await raw.smembers(keys.heads)).toEqual([VC.encode(root!.version)]);
      expect(await raw.get(key)).toBe('not troupe');
      // The log names the victim's root: reading it back over a foreign :p is a CorruptDataError too.
      if (suffix === 'p') {
        const read = await store.changesSince(undefined, 100).then(() => undefined, (e: unknown) => e);
        expect(read).toBeInstanceOf(CorruptDataError);
        expect((read as Error).message).toContain(key);
      } else {
        expect((await store.changesSince(undefined, 100)).packs.map(name)).toEqual([name(root!), ...before.map(name)]);
      }
    });
  }

  it('a missing parent or a collision: the packs before it stay merged and logged, a retry of the whole batch after the fix skips them', async () => {
    const { store } = await setup();
    const first = makeChain(uniqueActor('first'), 4);
    const orphan = makeChain(uniqueActor('orphan'), 2);
    await expect(store.merge([...first.slice(0, 2), orphan[1]!, ...first.slice(2)])).rejects.toBeInstanceOf(MissingAncestorError);
    expect(await logged(store)).toEqual(first.slice(0, 2).map(name));
    expect(await store.merge([...first, ...orphan])).toMatchObject({ added: 4, skipped: 2 });
    expect(await logged(store)).toEqual([...first.slice(0, 2), ...first.slice(2), ...orphan].map(name));

    const clash = makePack({ actor: first[0]!.actor, version: first[3]!.version, parents: [first[2]!.version], commandIds: ['another'] });
    const later = makeChain(uniqueActor('later'), 2);
    const error = await store.merge([later[0]!, clash, later[1]!]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(VersionCollisionError);
    expect((error as Error).message).toContain(`${first[0]!.actor.type}:${first[0]!.actor.id}`);
    expect((await logged(store)).slice(-1)).toEqual([name(later[0]!)]);
  });

  it('several packs of one actor in a call, forks and a merge pack among them: heads, index and log as pack-by-pack calls write them', async () => {
    const { store } = await setup();
    const reference = await createTestStore({ shards: 1 });
    cleanup.push(async () => void (await reference.destroy()));
    const actor = uniqueActor('busy');
    const main = makeChain(actor, 4, 'a');
    const forkStart = makeChain(actor, 1, 'b', main[1]!.version)[0]!;
    // A retry of main[2]'s command accepted on the fork too (a partition): both versions recorded, in order.
    const fork = [forkStart, makePack({ actor, version: VC.increment(forkStart.version, 'b'), parents: [forkStart.version], commandIds: [main[2]!.commandIds[0]!, 'only-on-fork'] })];
    const merged = makePack({ actor, kind: 'merge', version: VC.merge(main[3]!.version, fork[1]!.version), parents: [main[3]!.version, fork[1]!.version], state: { n: 6 } });
    const after = makeChain(actor, 2, 'a', merged.version);
    const packs = [main[0]!, main[1]!, fork[0]!, main[2]!, fork[1]!, main[3]!, merged, ...after];
    const report = await store.merge(packs);
    expect(report).toMatchObject({ added: packs.length, skipped: 0, diverged: [] });
    for (const pack of packs) await reference.merge([pack]);
    const raw = new Redis(testRedisUrl);
    cleanup.push(async () => raw.disconnect());
    const [ours, theirs] = [store.keysOf(actor), reference.keysOf(actor)];
    expect(await raw.lrange(ours.runs, 0, -1)).toEqual(await raw.lrange(theirs.runs, 0, -1));
    expect(await raw.hgetall(ours.parents)).toEqual(await raw.hgetall(theirs.parents));
    expect((await raw.smembers(ours.heads)).sort()).toEqual((await raw.smembers(theirs.heads)).sort());
    expect(await raw.hgetall(ours.commands)).toEqual(await raw.hgetall(theirs.commands));
    expect(await raw.hget(ours.commands, main[2]!.commandIds[0]!)).toBe(`${VC.encode(main[2]!.version)}|${VC.encode(fork[1]!.version)}`);
    // Merged again: all skipped, nothing changes.
    expect(await store.merge(packs)).toMatchObject({ added: 0, skipped: packs.length });
    expect(await raw.hgetall(ours.commands)).toEqual(await raw.hgetall(theirs.commands));
    expect(await logged(store)).toEqual(packs.map(name));
    expect((await store.loadChain(actor, VC.encode(after[1]!.version))).packs).toHaveLength(2);
    // Diverged in one call: a fork left open is reported once, for the actor.
    const other = uniqueActor('forked');
    const trunk = makeChain(other, 2, 'a');
    const side = makeChain(other, 1, 'b', trunk[0]!.version);
    expect((await store.merge([...trunk, ...side])).diverged).toEqual([other]);
  });
});

describe.skipIf(!available)('merge of packs changesSince read', () => {
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup = [];
  });

  async function store(options: { packBytesMax?: number } = {}): Promise<RedisStore> {
    const s = await createTestStore({ shards: 1, ...options });
    cleanup.push(async () => void (await s.destroy()));
    return s;
  }

  it('sends the bytes it read (current format, CRC checked); a pack stored in the earlier format (no CRC) is encoded afresh; packBytesMax still holds', async () => {
    const [source, target, small] = [await store(), await store(), await store({ packBytesMax: 40 })];
    const raw = new Redis(testRedisUrl);
    cleanup.push(async () => raw.disconnect());
    const actor = uniqueActor('copied');
    const chain = makeChain(actor, 3);
    await source.merge(chain);
    const versions = chain.map((p) => VC.encode(p.version));
    const [from, to] = [source.keysOf(actor), target.keysOf(actor)];
    const current = (await raw.hgetBuffer(from.packs, versions[1]!))!;
    expect(current[0]).toBe(packFormatVersion);
    // Format 2, what releases before checksums wrote: the format byte and the body, no CRC.
    await raw.hset(from.packs, versions[1]!, Buffer.concat([Buffer.from([2]), current.subarray(1, current.length - 4)]));
    const changes = await source.changesSince(undefined, 10);
    expect(await target.merge(changes.packs, changes.snapshots)).toMatchObject({ added: 3, skipped: 0 });
    for (const version of versions) expect(await raw.hgetBuffer(to.packs, version)).toEqual(version === versions[1] ? current : await raw.hgetBuffer(from.packs, version));
    expect(await target.history(actor)).toEqual(chain);
    await expect(small.merge(changes.packs)).rejects.toBeInstanceOf(LimitExceededError);
    expect(await raw.exists(small.keysOf(actor).packs)).toBe(0);
  });

  it('a page longer than one read call (1,000 fields) with shipped snapshots comes whole and in order', async () => {
    const [source, target] = [await store(), await store()];
    const chains = Array.from({ length: 30 }, (_, i) => makeChain(uniqueActor(`long${i}`), 50));
    const packs = chains.flatMap((c) => c);
    const snapshots = chains.map((c) => ({ actor: c[0]!.actor, version: c[40]!.version, state: { at: 40 } }));
    await source.merge(packs, snapshots);
    const changes = await source.changesSince(undefined, 5_000);
    expect(changes.packs).toEqual(packs);
    expect(changes.snapshots).toEqual(snapshots);
    expect(await target.merge(changes.packs, changes.snapshots)).toMatchObject({ added: 1_500, skipped: 0 });
    expect((await target.changesSince(undefined, 5_000)).packs).toEqual(packs);
  });
});
