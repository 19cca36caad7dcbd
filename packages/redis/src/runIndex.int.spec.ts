/**
 * The linear-run index (`:l`): a list of an actor's packs in the order the store wrote them, which
 * lets `loadChain` read a linear run with LRANGE instead of one parent link per pack. It must give
 * the same chains as the parent links whatever the order packs arrive in (forks, merges, branches
 * interleaved by replication), with data written before the index existed, and with a damaged
 * index.
 */
import { type ActorRef, MemoryStore, MissingAncestorError, type VectorClock } from '@troupe/runtime';
import { type ActorSnapshot, type Chain, type Pack, VC } from '@troupe/runtime/store';
import { appendChain, makeChain, makePack, requireService, uniqueActor } from '@troupe/runtime/testkit';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisStore } from './redisStore/index.js';
import { createTestStore, testRedisUrl, toLayoutWithoutIndex } from './specHelpers/testStore.js';

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

const key = VC.encode;

/** What a chain says, comparable across stores: base version and state, and the packs. */
function summary(chain: Chain): unknown {
  return { base: chain.base ? { version: key(chain.base.version), state: chain.base.state } : undefined, packs: chain.packs };
}

describe.skipIf(!available)('RedisStore linear-run index', () => {
  let raw: Redis;
  beforeAll(async () => {
    raw = new Redis(testRedisUrl);
  });
  afterAll(() => raw.disconnect());

  async function withStore(run: (store: RedisStore) => Promise<void>, chainPacksPerCallMax?: number): Promise<void> {
    const store = await createTestStore(chainPacksPerCallMax === undefined ? {} : { chainPacksPerCallMax });
    try {
      await run(store);
    } finally {
      await store.destroy();
    }
  }

  it('lists every pack once in write order, flags where each run starts, and records run positions in the parent links', async () => {
    await withStore(async (store) => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 4);
      await appendChain(store, chain);
      // A fork at a:2 arriving by replication, then a merge of the two heads, then a command on it.
      const fork = makeChain(actor, 2, 'b', chain[1]!.version);
      const merged = makePack({ actor, kind: 'merge', version: VC.merge(chain[3]!.version, fork[1]!.version), parents: [chain[3]!.version, fork[1]!.version], state: { n: 6 } });
      const after = makeChain(actor, 2, 'a', merged.version);
      await store.merge([...fork, merged, ...after]);
      const keys = store.keysOf(actor);
      expect(await raw.lrange(keys.runs, 0, -1)).toEqual([
        'sa:1', 'ca:2', 'ca:3', 'ca:4',
        'sa:2,b:1', 'ca:2,b:2',
        'ma:4,b:2',
        'ca:5,b:2', 'ca:6,b:2',
      ]);
      const links = await raw.hgetall(keys.parents);
      expect(links['a:1']).toMatch(/^c[0-9a-f]{8}$/);
      expect(links['a:3']).toMatch(/^c[0-9a-f]{8}a:2@2$/);
      expect(links['a:2,b:1']).toMatch(/^c[0-9a-f]{8}a:2$/);
      expect(links['a:4,b:2']).toMatch(/^m[0-9a-f]{8}$/);
      expect(links['a:6,b:2']).toMatch(/^c[0-9a-f]{8}a:5,b:2@8$/);

      const memory = new MemoryStore();
      await memory.merge([...chain, ...fork, merged, ...after]);
      for (const pack of [...chain, ...fork, merged, ...after]) {
        expect(summary(await store.loadChain(actor, key(pack.version))), key(pack.version)).toEqual(summary(await memory.loadChain(actor, key(pack.version))));
      }
      // Merging the same packs again adds nothing to the index.
      expect(await store.merge([...fork, merged])).toMatchObject({ added: 0, skipped: 3 });
      expect(await raw.llen(keys.runs)).toBe(9);
    });
  });

  for (const chainPacksPerCallMax of [2_000, 1_000, 7]) {
    it(`a 3,000-pack chain with snapshots and a fork: every load equals the parent-link walk (chainPacksPerCallMax ${chainPacksPerCallMax})`, async () => {
      await withStore(async (store) => {
        const actor = uniqueActor();
        const chain = makeChain(actor, 3_000);
        const fork = makeChain(actor, 1_500, 'b', chain[1_199]!.version);
        const snapshots: ActorSnapshot[] = [chain[99]!, chain[2_899]!, fork[1_399]!].map((p) => ({ actor, version: p.version, state: { at: key(p.version) } }));
        // The main line up to the fork, then both branches interleaved in batches, as replication does.
        const order: Pack[] = chain.slice(0, 1_200);
        for (let i = 0; i < 1_800; i += 300) order.push(...chain.slice(1_200 + i, 1_500 + i), ...fork.slice(i, i + 300));
        const memory = new MemoryStore();
        for (let i = 0; i < order.length; i += 400) {
          await store.merge(order.slice(i, i + 400), snapshots);
          await memory.merge(order.slice(i, i + 400), snapshots);
        }
        for (const at of [chain[2_999]!, chain[2_899]!, chain[2_898]!, chain[1_200]!, chain[1_199]!, chain[99]!, chain[98]!, fork[1_499]!, fork[1_398]!, fork[0]!]) {
          const expected = await memory.loadChain(actor, key(at.version));
          const loaded = await store.loadChain(actor, key(at.version));
          expect(loaded.packs.length, key(at.version)).toBe(expected.packs.length);
          expect(summary(loaded), key(at.version)).toEqual(summary(expected));
        }
      }, chainPacksPerCallMax);
    });
  }

  it('data written before the index still loads, and packs appended after it load across both layouts', async () => {
    await withStore(async (store) => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 300);
      await appendChain(store, chain.slice(0, 200));
      await toLayoutWithoutIndex(raw, store, actor);
      const keys = store.keysOf(actor);
      expect(await raw.exists(keys.runs)).toBe(0);
      const memory = new MemoryStore();
      await memory.merge(chain);
      expect(summary(await store.loadChain(actor, 'a:200'))).toEqual(summary(await memory.loadChain(actor, 'a:200')));
      // New appends start the index. The first one is flagged from the heads ('c': a:200 is the
      // one head) though a:200 is not in the list; at position 0 nothing comes before it, so the
      // walk takes its parent from its parent link.
      await appendChain(store, chain.slice(200), ['a:200']);
      expect((await raw.lrange(keys.runs, 0, 1))).toEqual(['ca:201', 'ca:202']);
      for (const at of [300, 250, 202, 201, 200, 1]) {
        expect(summary(await store.loadChain(actor, `a:${at}`)), `a:${at}`).toEqual(summary(await memory.loadChain(actor, `a:${at}`)));
      }
    });
  });

  it('a pack written without the index in between (a writer of the earlier layout): loads notice the index is wrong there and follow parent links', async () => {
    await withStore(async (store) => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 10);
      await appendChain(store, chain.slice(0, 5));
      // a:6 as a store without the index writes it: a first-format parent link, nothing in :l.
      await store.append(chain[5]!, ['a:5']);
      const keys = store.keysOf(actor);
      expect(await raw.rpop(keys.runs)).toBe('ca:6');
      const info = (await raw.hget(keys.parents, 'a:6'))!;
      expect(info).toMatch(/@5$/);
      await raw.hset(keys.parents, 'a:6', info.replace(/@5$/, ''));
      await appendChain(store, chain.slice(6), ['a:6']);
      // An append flags its pack from the heads (a:6 is the one head), not from the list: a:7
      // is taken to continue a:5. The load reads a:10 ... a:7, a:5 through the index, sees that
      // a:7's first parent is a:6, and reads the chain again along the parent links.
      expect(await raw.lrange(keys.runs, 0, -1)).toEqual(['sa:1', 'ca:2', 'ca:3', 'ca:4', 'ca:5', 'ca:7', 'ca:8', 'ca:9', 'ca:10']);
      const loaded = await store.loadChain(actor, 'a:10');
      expect(loaded.packs.map((p) => key(p.version))).toEqual(chain.map((p) => key(p.version)));
      expect((await store.loadChain(actor, 'a:8')).packs.map((p) => key(p.version))).toEqual(chain.slice(0, 8).map((p) => key(p.version)));
    });
  });

  it('a damaged index never gives a wrong chain: the walk or the check of the chain notices it and parent links decide', async () => {
    await withStore(async (store) => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 150);
      await appendChain(store, chain);
      const keys = store.keysOf(actor);
      const versions = chain.map((p) => key(p.version));
      await raw.lset(keys.runs, 149, 'ca:999');
      expect((await store.loadChain(actor, 'a:150')).packs.map((p) => key(p.version))).toEqual(versions);
      // The whole list gone (e.g. deleted by hand): parent links only.
      await raw.del(keys.runs);
      expect((await store.loadChain(actor, 'a:150')).packs.map((p) => key(p.version))).toEqual(versions);
    });
    await withStore(async (store) => {
      const actor = uniqueActor();
      await appendChain(store, makeChain(actor, 150));
      const keys = store.keysOf(actor);
      const versions = makeChain(actor, 150).map((p) => key(p.version));
      // Inside a run the walk takes the list's word: a stored pack in the wrong place...
      await raw.lset(keys.runs, 80, 'ca:20');
      expect((await store.loadChain(actor, 'a:150')).packs.map((p) => key(p.version))).toEqual(versions);
      // ...or a pack that is not stored at all.
      await raw.lset(keys.runs, 80, 'ca:998');
      expect((await store.loadChain(actor, 'a:150')).packs.map((p) => key(p.version))).toEqual(versions);
    });
  });

  it('a damaged run flag never gives a wrong chain: a command pack flagged as a merge pack, a merge pack flagged as continuing a run', async () => {
    await withStore(async (store) => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 10);
      await store.merge(chain);
      const keys = store.keysOf(actor);
      // a:5 flagged 'm': the walk stops there and would give a base made of a command pack.
      await raw.lset(keys.runs, 4, 'ma:5');
      expect(summary(await store.loadChain(actor, 'a:10'))).toEqual({ base: undefined, packs: chain });
    });
    await withStore(async (store) => {
      const actor = uniqueActor();
      const main = makeChain(actor, 4);
      const fork = makeChain(actor, 2, 'b', main[1]!.version);
      const merged = makePack({ actor, kind: 'merge', version: VC.merge(main[3]!.version, fork[1]!.version), parents: [main[3]!.version, fork[1]!.version], state: { n: 6 } });
      const after = makeChain(actor, 3, 'a', merged.version);
      // The fork first, so the merge pack's first parent (a:4) is the element before it.
      const packs = [main[0]!, main[1]!, ...fork, main[2]!, main[3]!, merged, ...after];
      await store.merge(packs);
      const keys = store.keysOf(actor);
      const list = await raw.lrange(keys.runs, 0, -1);
      expect(list.slice(5, 8)).toEqual(['ca:4', `m${key(merged.version)}`, `c${key(after[0]!.version)}`]);
      // The merge pack flagged 'c': the walk would go through it to a:1 and return no base.
      await raw.lset(keys.runs, 6, `c${key(merged.version)}`);
      const memory = new MemoryStore();
      await memory.merge(packs);
      for (const pack of after) {
        const at = key(pack.version);
        expect(summary(await store.loadChain(actor, at)), at).toEqual(summary(await memory.loadChain(actor, at)));
      }
    });
  });

  it('short runs (two branches interleaved two packs at a time) read a few list elements per pack, not 1,024 per run', async () => {
    await withStore(async (store) => {
      const actor = uniqueActor();
      const n = 600;
      const a = makeChain(actor, n);
      const b = makeChain(actor, n, 'b', a[0]!.version);
      const order: Pack[] = [a[0]!];
      for (let i = 1; i < n; i += 2) order.push(...a.slice(i, i + 2), ...b.slice(i - 1, i + 1));
      await store.merge(order);
      const keys = store.keysOf(actor);
      // MONITOR shows the commands scripts run, in execution order: count the list elements read.
      const monitor = await raw.monitor();
      let read = 0;
      let lranges = 0;
      const marker = `end-of-load-${keys.runs}`;
      let markerSeen: () => void = () => {};
      const seen = new Promise<void>((resolve) => (markerSeen = resolve));
      monitor.on('monitor', (_time: string, args: string[]) => {
        if (String(args[0]).toLowerCase() === 'lrange' && args[1] === keys.runs) {
          lranges++;
          read += Number(args[3]) - Number(args[2]) + 1;
        }
        if (String(args[0]).toLowerCase() === 'echo' && args[1] === marker) markerSeen();
      });
      try {
        const loaded = await store.loadChain(actor, key(a[n - 1]!.version));
        expect(loaded.packs).toEqual(a);
        await raw.echo(marker);
        await seen;
      } finally {
        monitor.disconnect();
      }
      expect(lranges).toBeGreaterThan(0);
      expect(read).toBeLessThanOrEqual(8 * n);
    });
  });

  it('a pack missing inside a run, or a parent link missing at the start of one, is a MissingAncestorError naming the version', async () => {
    await withStore(async (store) => {
      const actor = uniqueActor();
      await appendChain(store, makeChain(actor, 150));
      const keys = store.keysOf(actor);
      await raw.hdel(keys.packs, 'a:40');
      await expect(store.loadChain(actor, 'a:150')).rejects.toThrow(MissingAncestorError);
      await expect(store.loadChain(actor, 'a:150')).rejects.toThrow(/a:40/);
    });
    await withStore(async (store) => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 100);
      await appendChain(store, chain.slice(0, 50));
      // A fork at a:30 by replication starts a run whose first parent is found by its parent link.
      const fork = makeChain(actor, 20, 'b', chain[29]!.version);
      await store.merge(fork);
      await raw.hdel(store.keysOf(actor).parents, 'a:30');
      await expect(store.loadChain(actor, key(fork[19]!.version))).rejects.toThrow(/a:30/);
    });
  });

  it('a foreign type at the :l key: append and merge write the pack unindexed, loads follow parent links', async () => {
    await withStore(async (store) => {
      const actor = uniqueActor();
      const chain = makeChain(actor, 3);
      await appendChain(store, chain.slice(0, 2));
      const keys = store.keysOf(actor);
      await raw.del(keys.runs);
      await raw.set(keys.runs, 'not a list');
      await store.append(chain[2]!, ['a:2']);
      const fork = makeChain(actor, 2, 'b', chain[1]!.version);
      expect(await store.merge(fork)).toMatchObject({ added: 2, skipped: 0 });
      expect(await raw.get(keys.runs)).toBe('not a list');
      expect((await raw.hkeys(keys.packs)).sort()).toEqual(['a:1', 'a:2', 'a:2,b:1', 'a:2,b:2', 'a:3']);
      expect((await store.loadChain(actor, 'a:3')).packs.map((p) => key(p.version))).toEqual(['a:1', 'a:2', 'a:3']);
      expect((await store.loadChain(actor, 'a:2,b:2')).packs.map((p) => key(p.version))).toEqual(['a:1', 'a:2', 'a:2,b:1', 'a:2,b:2']);
    });
  });

  /** One step of a random history (see below), and the knobs both random-history properties share. */
  const historyStep = fc.record({ kind: fc.constantFrom('extend', 'extend', 'extend', 'fork', 'merge'), pick: fc.nat(), replica: fc.constantFrom('a', 'b', 'c') });
  const historyShape = {
    snapshotEvery: fc.constantFrom(0, 5, 13),
    orderSeed: fc.nat(),
    batch: fc.integer({ min: 1, max: 40 }),
    appendShare: fc.constantFrom(0, 0.5, 1),
  };

  /**
   * Random histories of one actor: commands on any earlier pack (forks), merge packs joining two
   * concurrent packs, snapshots on some packs; delivered in a random topological order, each pack
   * appended or merged, in batches; the index optionally dropped half-way (an upgrade from the
   * layout without it). Every pack's chain must equal MemoryStore's.
   */
  it('random histories in random arrival orders load as MemoryStore loads them', async () => {
    const history = fc.record({
      steps: fc.array(historyStep, { minLength: 1, maxLength: 70 }),
      ...historyShape,
      upgradeAt: fc.option(fc.nat(), { nil: undefined }),
      chainPacksPerCallMax: fc.constantFrom(1, 2, 5, 2_000),
    });
    await fc.assert(
      fc.asyncProperty(history, async (h) => {
        await withStore(async (store) => {
          const actor = uniqueActor('random');
          const packs = buildHistory(actor, h.steps);
          const order = randomTopologicalOrder(packs, h.orderSeed);
          const snapshots: ActorSnapshot[] = h.snapshotEvery === 0 ? [] : packs.filter((_, i) => i % h.snapshotEvery === h.snapshotEvery - 1).map((p) => ({ actor, version: p.version, state: { at: key(p.version) } }));
          const memory = new MemoryStore();
          let random = h.orderSeed;
          for (let i = 0; i < order.length; ) {
            if (h.upgradeAt !== undefined && i === h.upgradeAt % order.length && i > 0) await toLayoutWithoutIndex(raw, store, actor);
            random = (random * 1_103_515_245 + 12_345) % 2_147_483_648;
            const pack = order[i]!;
            if (pack.kind === 'command' && random / 2_147_483_648 < h.appendShare) {
              const heads = (await store.heads(actor)).map((p) => key(p.version));
              const snapshot = snapshots.find((s) => key(s.version) === key(pack.version));
              await store.append(pack, heads, snapshot);
              await memory.merge([pack], snapshot ? [snapshot] : []);
              i++;
            } else {
              const batch = order.slice(i, i + h.batch);
              await store.merge(batch, snapshots);
              await memory.merge(batch, snapshots);
              i += batch.length;
            }
          }
          for (const pack of packs) {
            const at = key(pack.version);
            expect(summary(await store.loadChain(actor, at)), at).toEqual(summary(await memory.loadChain(actor, at)));
          }
          expect(await raw.llen(store.keysOf(actor).runs)).toBeLessThanOrEqual(packs.length);
        }, h.chainPacksPerCallMax);
      }),
      { numRuns: 40 },
    );
  });

  /**
   * The index is advisory: random histories as above, with packs written as a writer of the earlier
   * layout writes them (no list element, no position), list elements overwritten with another
   * pack or flag, the list deleted, or replaced by a foreign value for a while, and snapshots saved
   * apart from their packs. Every chain must still equal MemoryStore's (the parent links decide).
   */
  it('random histories with writers of the earlier layout and a damaged, deleted or foreign index load as MemoryStore loads them', async () => {
    const history = fc.record({
      steps: fc.array(historyStep, { minLength: 10, maxLength: 80 }),
      ...historyShape,
      earlierLayoutShare: fc.constantFrom(0, 0.1, 0.5),
      incidents: fc.array(fc.record({ at: fc.nat(), what: fc.constantFrom('overwrite', 'overwrite', 'delete', 'foreign', 'snapshot'), position: fc.nat(), pick: fc.nat(), flag: fc.constantFrom('c', 's', 'm') }), { minLength: 1, maxLength: 6 }),
      chainPacksPerCallMax: fc.constantFrom(1, 3, 2_000),
    });
    await fc.assert(
      fc.asyncProperty(history, async (h) => {
        await withStore(async (store) => {
          const actor = uniqueActor('advisory');
          const keys = store.keysOf(actor);
          const packs = buildHistory(actor, h.steps);
          const order = randomTopologicalOrder(packs, h.orderSeed);
          const snapshots: ActorSnapshot[] = h.snapshotEvery === 0 ? [] : packs.filter((_, i) => i % h.snapshotEvery === h.snapshotEvery - 1).map((p) => ({ actor, version: p.version, state: { at: key(p.version) } }));
          const memory = new MemoryStore();
          let random = h.orderSeed;
          const next = () => (random = (random * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
          const written: Pack[] = [];
          let foreign = false;
          for (let i = 0; i < order.length; ) {
            for (const incident of h.incidents.filter((x) => x.at % order.length === i)) {
              if (incident.what === 'delete') {
                await raw.del(keys.runs);
                foreign = false;
              } else if (incident.what === 'foreign') {
                // A foreign value for a while: the list is put aside, then back.
                if (foreign) {
                  await raw.del(keys.runs);
                  if (await raw.exists(`${keys.runs}-aside`)) await raw.rename(`${keys.runs}-aside`, keys.runs);
                } else {
                  if (await raw.exists(keys.runs)) await raw.rename(keys.runs, `${keys.runs}-aside`);
                  await raw.set(keys.runs, 'not a list');
                }
                foreign = !foreign;
              } else if (incident.what === 'overwrite' && !foreign && written.length > 0) {
                const length = await raw.llen(keys.runs);
                if (length > 0) await raw.lset(keys.runs, incident.position % length, incident.flag + key(written[incident.pick % written.length]!.version));
              } else if (incident.what === 'snapshot' && written.length > 0) {
                const pack = written[incident.pick % written.length]!;
                const snapshot = { version: pack.version, state: { saved: key(pack.version) } };
                await store.saveSnapshot(actor, snapshot);
                await memory.saveSnapshot(actor, snapshot);
              }
            }
            const pack = order[i]!;
            if (pack.kind === 'command' && next() < h.appendShare) {
              const heads = (await store.heads(actor)).map((p) => key(p.version));
              const snapshot = snapshots.find((s) => key(s.version) === key(pack.version));
              await store.append(pack, heads, snapshot);
              if (!foreign && next() < h.earlierLayoutShare) {
                // As a writer of the earlier layout wrote it: no list element, no position.
                expect((await raw.rpop(keys.runs))?.slice(1)).toBe(key(pack.version));
                const info = (await raw.hget(keys.parents, key(pack.version)))!;
                await raw.hset(keys.parents, key(pack.version), info.replace(/@\d+$/, ''));
              }
              await memory.merge([pack], snapshot ? [snapshot] : []);
              written.push(pack);
              i++;
            } else {
              const batch = order.slice(i, i + h.batch);
              await store.merge(batch, snapshots);
              await memory.merge(batch, snapshots);
              written.push(...batch);
              i += batch.length;
            }
          }
          for (const pack of packs) {
            const at = key(pack.version);
            expect(summary(await store.loadChain(actor, at)), at).toEqual(summary(await memory.loadChain(actor, at)));
          }
          await raw.del(`${keys.runs}-aside`);
        }, h.chainPacksPerCallMax);
      }),
      { numRuns: 40 },
    );
  });
});

type Step = { kind: 'extend' | 'fork' | 'merge'; pick: number; replica: string };

/** Packs of one actor, parents before children; versions unique (each replica's counter only grows). */
function buildHistory(actor: ActorRef, steps: readonly Step[]): Pack[] {
  const packs: Pack[] = [];
  const counters: Record<string, number> = {};
  const next = (base: VectorClock, replica: string): VectorClock => {
    counters[replica] = (counters[replica] ?? 0) + 1;
    return { ...base, [replica]: counters[replica]! };
  };
  for (const step of steps) {
    const last = packs[packs.length - 1];
    if (step.kind === 'merge' && packs.length >= 2) {
      const a = packs[step.pick % packs.length]!;
      const b = packs.find((p) => !VC.dominatedBy(p.version, a.version) && !VC.dominatedBy(a.version, p.version));
      if (b) {
        packs.push(makePack({ actor, kind: 'merge', version: next(VC.merge(a.version, b.version), 'm'), parents: [a.version, b.version], state: { merged: packs.length } }));
        continue;
      }
    }
    const parent = step.kind === 'fork' && packs.length > 0 ? packs[step.pick % packs.length] : last;
    packs.push(makePack({ actor, version: next(parent?.version ?? VC.emptyClock, step.replica), parents: parent ? [parent.version] : [] }));
  }
  return packs;
}

/** A random order in which every pack comes after its parents. */
function randomTopologicalOrder(packs: readonly Pack[], seed: number): Pack[] {
  let state = seed % 2_147_483_647 || 1;
  const random = () => (state = (state * 48_271) % 2_147_483_647) / 2_147_483_647;
  const placed = new Set<string>();
  const waiting = [...packs];
  const order: Pack[] = [];
  while (waiting.length > 0) {
    const ready = waiting.filter((p) => p.parents.every((parent) => placed.has(key(parent))));
    // Mostly the oldest ready pack (long runs, as one replica's log delivers them), sometimes any.
    const pick = random() < 0.7 ? ready[0]! : ready[Math.floor(random() * ready.length)]!;
    order.push(pick);
    placed.add(key(pick.version));
    waiting.splice(waiting.indexOf(pick), 1);
  }
  return order;
}
