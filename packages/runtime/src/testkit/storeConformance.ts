import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ActorRef,
  AppendConflictError,
  type EventRecord,
  type EventStore,
  FlakeIdSource,
  MemoryStore,
  MissingAncestorError,
  VersionCollisionError,
  type Pack,
  type PackKind,
  type Snapshot,
  VC,
  type VectorClock,
  actorKey,
} from '../index.js';

/**
 * The EventStore conformance suite. Every store implementation runs it:
 *
 * ```ts
 * runStoreConformance({ name: 'RedisStore', create: async () => new RedisStore(...), cleanup: (s) => s.close() });
 * ```
 *
 * Each test creates its own store with `create()` and only touches actors with fresh random ids,
 * so the suite also runs against a database shared with other tests. The global replication log
 * (`changesSince`) may then hold packs of others: the suite only looks at its own actors there.
 */
export interface ConformanceOptions {
  /** Shown in the describe() title. */
  name: string;
  /** A store ready to use. Called once per test. */
  create: () => Promise<EventStore>;
  /** Tears a store down after its test (and must close it). Default: `store.close()`. */
  cleanup?: (store: EventStore) => Promise<void>;
}

let uniqueCounter = 0;

/** A string unique within this process and, with overwhelming probability, across processes. */
export function uniqueSuffix(): string {
  uniqueCounter++;
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}-${uniqueCounter}`;
}

/** A fresh actor ref nobody else uses: `{ type, id: label-<random> }`. */
export function uniqueActor(label = 'actor', type = 'conformance'): ActorRef {
  return { type, id: `${label}-${uniqueSuffix()}` };
}

const testIds = new FlakeIdSource({ machineId: 1021 });

export interface MakePackOptions {
  actor: ActorRef;
  version: VectorClock;
  /** Parent versions: none for a first pack, one for a command pack, the merged heads for a merge pack. */
  parents?: readonly VectorClock[];
  /** Default: one event whose data names the version. Pass [] for none. */
  events?: readonly EventRecord[];
  kind?: PackKind;
  /** Merge packs: the resolved state. */
  state?: unknown;
  /** Default: one fresh command id for a command pack, none for a merge pack. */
  commandIds?: readonly string[];
  /** Default: the replica whose counter grew over the parents ('merge' for a merge pack). */
  replica?: string;
  /** Default: 1_700_000_000_000 + weight(version). */
  ts?: number;
}

/** Builds a test event of `actor`. */
export function makeEvent(actor: ActorRef, overrides: Partial<EventRecord> = {}): EventRecord {
  return {
    id: testIds.next(),
    actor: { type: actor.type, id: actor.id },
    type: 'noted',
    data: {},
    ts: 1_700_000_000_000,
    correlationId: `corr-${uniqueSuffix()}`,
    causationId: `cmd-${uniqueSuffix()}`,
    replica: 'r',
    ...overrides,
  };
}

function grownReplica(version: VectorClock, parents: readonly VectorClock[]): string {
  const base = VC.mergeAll(parents);
  const keys = Object.keys(version).sort();
  return keys.find((k) => (version[k] ?? 0) > (Object.prototype.hasOwnProperty.call(base, k) ? base[k]! : 0)) ?? keys[0] ?? 'r';
}

/** Builds a pack for store tests. Only `actor` and `version` are required. */
export function makePack(options: MakePackOptions): Pack {
  const kind = options.kind ?? 'command';
  const parents = options.parents ?? [];
  const replica = options.replica ?? (kind === 'merge' ? 'merge' : grownReplica(options.version, parents));
  const ts = options.ts ?? 1_700_000_000_000 + VC.weight(options.version);
  const commandIds = options.commandIds ?? (kind === 'command' ? [`cmd-${uniqueSuffix()}`] : []);
  const events =
    options.events ??
    [
      makeEvent(options.actor, {
        type: 'noted',
        data: { at: VC.encode(options.version) },
        ts,
        causationId: commandIds[0] ?? VC.encode(options.version),
        replica,
      }),
    ];
  const pack: Pack = {
    actor: { type: options.actor.type, id: options.actor.id },
    kind,
    version: { ...options.version },
    parents: parents.map((p) => ({ ...p })),
    events: [...events],
    commandIds: [...commandIds],
    replica,
    ts,
    ...(options.state === undefined ? {} : { state: options.state }),
  };
  return pack;
}

/** Appends packs one after the other, each expecting the heads the previous append left. */
export async function appendChain(store: EventStore, packs: readonly Pack[], startHeads: readonly string[] = []): Promise<void> {
  let heads = [...startHeads];
  for (const pack of packs) {
    await store.append(pack, heads);
    heads = [VC.encode(pack.version)];
  }
}

/** Builds a linear chain of `length` command packs at `replica`: versions {replica:1}..{replica:length}. */
export function makeChain(actor: ActorRef, length: number, replica = 'a', from: VectorClock = VC.emptyClock): Pack[] {
  const packs: Pack[] = [];
  let parent: VectorClock | undefined = VC.weight(from) > 0 ? from : undefined;
  for (let i = 0; i < length; i++) {
    const version = VC.increment(parent ?? VC.emptyClock, replica);
    packs.push(makePack({ actor, version, parents: parent ? [parent] : [] }));
    parent = version;
  }
  return packs;
}

const key = VC.encode;

function keysOf(packs: readonly (Pack | undefined)[]): (string | undefined)[] {
  return packs.map((p) => (p ? key(p.version) : undefined));
}

function sortedKeys(keys: readonly string[]): string[] {
  return [...keys].sort();
}

/** Reads the log from `cursor` until an empty page; returns what it read and the final cursor. */
async function drain(store: EventStore, cursor: string | undefined, limit = 1000): Promise<{ packs: Pack[]; cursor: string }> {
  const packs: Pack[] = [];
  for (let page = 0; page < 10_000; page++) {
    const changes = await store.changesSince(cursor, limit);
    expect(changes.packs.length).toBeLessThanOrEqual(limit);
    expect(typeof changes.cursor).toBe('string');
    if (changes.packs.length === 0) return { packs, cursor: changes.cursor };
    packs.push(...changes.packs);
    cursor = changes.cursor;
  }
  throw new Error('changesSince never returned an empty page');
}

/** The packs of the given actors, in log order. */
function mine(packs: readonly Pack[], actors: readonly ActorRef[]): Pack[] {
  const wanted = new Set(actors.map(actorKey));
  return packs.filter((p) => wanted.has(actorKey(p.actor)));
}

function logKeys(packs: readonly Pack[]): string[] {
  return packs.map((p) => `${actorKey(p.actor)}@${key(p.version)}`);
}

async function expectRejection<E extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  let outcome: unknown;
  try {
    await promise;
  } catch (error) {
    outcome = error;
  }
  expect(outcome, `expected a ${type.name}`).toBeInstanceOf(type);
  return outcome as E;
}

/** The first version that recorded a command id (most tests apply each command once). */
async function firstCommandVersion(store: EventStore, actor: ActorRef, commandId: string): Promise<VectorClock | undefined> {
  const versions = await store.commandVersions(actor, commandId);
  return versions[0];
}

/** Everything observable about an actor, to show that a refused operation wrote nothing. */
async function observe(store: EventStore, actor: ActorRef, versionKeys: readonly string[], commandIds: readonly string[]) {
  const heads = await store.heads(actor);
  const packs = await store.getPacks(actor, versionKeys);
  const commands = await Promise.all(commandIds.map((id) => firstCommandVersion(store, actor, id)));
  return { heads, packs, commands };
}

/** Data with every msgpack-relevant shape a pack must carry unchanged. */
const richData = {
  text: 'héllo wörld ✓ 日本',
  empty: '',
  int: 42,
  negative: -17,
  zero: 0,
  big: 2 ** 53 - 1,
  fraction: 0.1 + 0.2,
  tiny: 5e-324,
  ts: 1700000000000.0009765625,
  yes: true,
  no: false,
  nothing: null,
  list: [1, 'two', { three: [3, [3.5]] }, null, true],
  emptyList: [],
  emptyObject: {},
  nested: { a: { b: { c: { d: ['deep', { e: -0.5 }] } } } },
};

/** Registers the conformance suite for one store implementation. */
export function runStoreConformance(options: ConformanceOptions): void {
  describe(`EventStore conformance: ${options.name}`, () => {
    let store: EventStore;

    beforeEach(async () => {
      store = await options.create();
    });

    afterEach(async () => {
      if (options.cleanup) await options.cleanup(store);
      else await store.close();
    });

    describe('append and heads', () => {
      it('an actor without packs has no heads, no packs and no commands', async () => {
        const actor = uniqueActor();
        expect(await store.heads(actor)).toEqual([]);
        expect(await store.getPacks(actor, ['a:1'])).toEqual([undefined]);
        expect(await firstCommandVersion(store, actor, 'cmd-none')).toBeUndefined();
      });

      it('appends the first pack with expectedHeads [] and reads it back exactly', async () => {
        const actor = uniqueActor();
        const ts = 1700000000000.0009765625;
        const pack = makePack({
          actor,
          version: { a: 1 },
          ts,
          commandIds: ['cmd-1', 'cmd-2'],
          events: [
            makeEvent(actor, { type: 'rich', data: richData, ts, causationId: 'cmd-1', initiatedBy: 'user-7', replica: 'a' }),
            makeEvent(actor, { type: 'plain', data: 'just a string', ts: ts + 0.5, causationId: 'cmd-2', replica: 'a' }),
            makeEvent(actor, { type: 'nulled', data: null, ts, causationId: 'cmd-2', replica: 'a' }),
          ],
        });
        const before = structuredClone(pack);
        await store.append(pack, []);
        expect(pack, 'append must not mutate its argument').toEqual(before);

        const heads = await store.heads(actor);
        expect(heads).toEqual([pack]);
        expect(heads[0]!.ts).toBe(ts);
        expect(heads[0]!.events[0]!.ts).toBe(ts);
        expect(heads[0]!.events[1]!.ts).toBe(ts + 0.5);
        expect(heads[0]!.events[0]!.data).toEqual(richData);
        expect(Object.is((heads[0]!.events[0]!.data as typeof richData).tiny, 5e-324)).toBe(true);
        expect(await store.getPacks(actor, ['a:1'])).toEqual([pack]);
        expect(await store.loadChain(actor, 'a:1')).toEqual({ packs: [pack] });
      });

      it('reads return copies: mutating a returned pack does not change the store', async () => {
        const actor = uniqueActor();
        const pack = makePack({ actor, version: { a: 1 } });
        await store.append(pack, []);
        const [read] = await store.heads(actor);
        (read!.events as EventRecord[]).push(makeEvent(actor));
        (read!.version as Record<string, number>)['a'] = 99;
        expect(await store.heads(actor)).toEqual([pack]);
        expect(await store.getPacks(actor, ['a:1'])).toEqual([pack]);
      });

      it('a chain of appends keeps exactly one head, the latest', async () => {
        const actor = uniqueActor();
        const chain = makeChain(actor, 5);
        await appendChain(store, chain);
        expect(await store.heads(actor)).toEqual([chain[4]]);
        expect(keysOf(await store.getPacks(actor, chain.map((p) => key(p.version))))).toEqual(chain.map((p) => key(p.version)));
      });

      it('expectedHeads is compared as a set', async () => {
        const actor = uniqueActor();
        const root = makePack({ actor, version: { a: 1 } });
        const left = makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }] });
        const right = makePack({ actor, version: { a: 1, b: 1 }, parents: [{ a: 1 }] });
        await store.append(root, []);
        await store.append(left, ['a:1']);
        await store.merge([right]);
        expect(keysOf(await store.heads(actor))).toEqual(['a:1,b:1', 'a:2']);
        const merged = makePack({ actor, kind: 'merge', version: { a: 2, b: 1 }, parents: [{ a: 2 }, { a: 1, b: 1 }], state: { n: 3 } });
        // Given in the reverse of canonical order.
        await store.append(merged, ['a:2', 'a:1,b:1']);
        expect(await store.heads(actor)).toEqual([merged]);
      });
    });

    describe('append conflicts', () => {
      it('a first append with non-empty expected heads throws AppendConflictError with actual [] and writes nothing', async () => {
        const actor = uniqueActor();
        const start = await drain(store, undefined);
        const pack = makePack({ actor, version: { a: 1 } });
        const error = await expectRejection(store.append(pack, ['a:0x']), AppendConflictError);
        expect(error.code).toBe('APPEND_CONFLICT');
        expect([...error.actual]).toEqual([]);
        expect(await store.heads(actor)).toEqual([]);
        expect(await store.getPacks(actor, ['a:1'])).toEqual([undefined]);
        expect(await firstCommandVersion(store, actor, pack.commandIds[0]!)).toBeUndefined();
        expect(mine((await drain(store, start.cursor)).packs, [actor])).toEqual([]);
      });

      it('wrong expected heads throw AppendConflictError listing the real heads, and write nothing', async () => {
        const actor = uniqueActor();
        const chain = makeChain(actor, 2);
        await appendChain(store, chain);
        const start = await drain(store, undefined);
        const before = await observe(store, actor, ['a:1', 'a:2', 'a:3'], chain.map((p) => p.commandIds[0]!));

        const next = makePack({ actor, version: { a: 3 }, parents: [{ a: 2 }] });
        const snapshot: Snapshot = { version: { a: 3 }, state: { stale: true } };
        for (const wrong of [[], ['a:1'], ['a:3'], ['a:2', 'a:1'], ['a:2', 'b:1'], ['nonsense']]) {
          const error = await expectRejection(store.append(next, wrong, snapshot), AppendConflictError);
          expect(sortedKeys(error.actual), `expected ${JSON.stringify(wrong)}`).toEqual(['a:2']);
        }

        expect(await observe(store, actor, ['a:1', 'a:2', 'a:3'], chain.map((p) => p.commandIds[0]!))).toEqual(before);
        expect(await firstCommandVersion(store, actor, next.commandIds[0]!)).toBeUndefined();
        expect(mine((await drain(store, start.cursor)).packs, [actor])).toEqual([]);

        // The snapshot of the refused append was not written either: a different pack at the same
        // version, appended properly without a snapshot, loads from the root.
        const other = makePack({ actor, version: { a: 3 }, parents: [{ a: 2 }] });
        await store.append(other, ['a:2']);
        expect(await store.loadChain(actor, 'a:3')).toEqual({ packs: [...chain, other] });
      });

      it('with two heads, expecting only one of them conflicts and reports both', async () => {
        const actor = uniqueActor();
        await store.merge([makePack({ actor, version: { b: 1 } }), makePack({ actor, version: { a: 1 } })]);
        const next = makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }] });
        const error = await expectRejection(store.append(next, ['a:1']), AppendConflictError);
        expect(sortedKeys(error.actual)).toEqual(['a:1', 'b:1']);
        expect(keysOf(await store.heads(actor))).toEqual(['a:1', 'b:1']);
        expect(await store.getPacks(actor, ['a:2'])).toEqual([undefined]);
      });

      it('appending a version that is already stored is refused and changes nothing', async () => {
        const actor = uniqueActor();
        const chain = makeChain(actor, 2);
        await appendChain(store, chain);
        const start = await drain(store, undefined);

        // Same version as the head, expecting the (correct) current head.
        const again = makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }] });
        await expectRejection(store.append(again, ['a:2']), AppendConflictError);
        // An older version, expecting the correct head.
        const older = makePack({ actor, version: { a: 1 } });
        await expectRejection(store.append(older, ['a:2']), AppendConflictError);

        expect(await store.heads(actor)).toEqual([chain[1]]);
        expect(await store.getPacks(actor, ['a:1', 'a:2'])).toEqual(chain);
        expect(await firstCommandVersion(store, actor, again.commandIds[0]!)).toBeUndefined();
        expect(await firstCommandVersion(store, actor, older.commandIds[0]!)).toBeUndefined();
        expect(mine((await drain(store, start.cursor)).packs, [actor])).toEqual([]);
      });

      it('concurrent appends expecting the same head: exactly one wins, the others conflict', async () => {
        const actor = uniqueActor();
        await store.append(makePack({ actor, version: { a: 1 } }), []);
        const start = await drain(store, undefined);
        const contenders = Array.from({ length: 20 }, (_, i) => makePack({ actor, version: { a: 1, [`r${i}`]: 1 }, parents: [{ a: 1 }] }));
        const results = await Promise.allSettled(contenders.map((p) => store.append(p, ['a:1'])));

        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [contenders[i]!] : []));
        expect(winners).toHaveLength(1);
        const winner = winners[0]!;
        for (const result of results) {
          if (result.status === 'fulfilled') continue;
          expect(result.reason).toBeInstanceOf(AppendConflictError);
          expect(sortedKeys((result.reason as AppendConflictError).actual)).toEqual([key(winner.version)]);
        }
        expect(await store.heads(actor)).toEqual([winner]);
        const stored = await store.getPacks(actor, contenders.map((p) => key(p.version)));
        expect(stored.filter((p) => p !== undefined)).toEqual([winner]);
        for (const loser of contenders.filter((p) => p !== winner)) {
          expect(await firstCommandVersion(store, actor, loser.commandIds[0]!)).toBeUndefined();
        }
        expect(logKeys(mine((await drain(store, start.cursor)).packs, [actor]))).toEqual(logKeys([winner]));
      });

      it('concurrent first appends to a new actor: exactly one wins', async () => {
        const actor = uniqueActor();
        const contenders = Array.from({ length: 20 }, (_, i) => makePack({ actor, version: { [`r${i}`]: 1 } }));
        const results = await Promise.allSettled(contenders.map((p) => store.append(p, [])));
        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [contenders[i]!] : []));
        expect(winners).toHaveLength(1);
        for (const result of results) {
          if (result.status === 'fulfilled') continue;
          expect(result.reason).toBeInstanceOf(AppendConflictError);
          expect(sortedKeys((result.reason as AppendConflictError).actual)).toEqual([key(winners[0]!.version)]);
        }
        expect(await store.heads(actor)).toEqual(winners);
      });

      it('concurrent appends to different actors all succeed', async () => {
        const actors = Array.from({ length: 20 }, (_, i) => uniqueActor(`parallel${i}`));
        const packs = actors.map((actor) => makePack({ actor, version: { a: 1 } }));
        const results = await Promise.allSettled(packs.map((p) => store.append(p, [])));
        expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
        const heads = await Promise.all(actors.map((a) => store.heads(a)));
        expect(heads).toEqual(packs.map((p) => [p]));

        // And a second round, each on its own head, in parallel too.
        const next = actors.map((actor) => makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }] }));
        const second = await Promise.allSettled(next.map((p) => store.append(p, ['a:1'])));
        expect(second.filter((r) => r.status === 'rejected')).toEqual([]);
        expect(await Promise.all(actors.map((a) => store.heads(a)))).toEqual(next.map((p) => [p]));
      });
    });

    describe('getPacks', () => {
      it('returns packs in the requested order, undefined for unknown keys', async () => {
        const actor = uniqueActor();
        const chain = makeChain(actor, 3);
        await appendChain(store, chain);
        const got = await store.getPacks(actor, ['a:3', 'b:1', 'a:1', 'a:9', 'a:2', 'a:1']);
        expect(got).toEqual([chain[2], undefined, chain[0], undefined, chain[1], chain[0]]);
        expect(await store.getPacks(actor, [])).toEqual([]);
        expect(await store.getPacks(uniqueActor('unknown'), ['a:1', 'a:2'])).toEqual([undefined, undefined]);
      });
    });

    describe('loadChain', () => {
      it('without snapshots returns every pack from the root, oldest first, and no base', async () => {
        const actor = uniqueActor();
        const chain = makeChain(actor, 6);
        await appendChain(store, chain);
        const loaded = await store.loadChain(actor, 'a:6');
        expect(loaded.base).toBeUndefined();
        expect(loaded.packs).toEqual(chain);
        const middle = await store.loadChain(actor, 'a:3');
        expect(middle.base).toBeUndefined();
        expect(middle.packs).toEqual(chain.slice(0, 3));
        expect((await store.loadChain(actor, 'a:1')).packs).toEqual(chain.slice(0, 1));
      });

      it('follows parent links only: a sibling branch is not part of the chain', async () => {
        const actor = uniqueActor();
        const chain = makeChain(actor, 2);
        await appendChain(store, chain);
        const sibling = makePack({ actor, version: { a: 1, b: 1 }, parents: [{ a: 1 }] });
        await store.merge([sibling]);
        expect(await store.loadChain(actor, 'a:1,b:1')).toEqual({ packs: [chain[0], sibling] });
        expect(await store.loadChain(actor, 'a:2')).toEqual({ packs: chain });
      });

      it('after saveSnapshot at k returns that snapshot as base and only the packs after k', async () => {
        const actor = uniqueActor();
        const chain = makeChain(actor, 6);
        await appendChain(store, chain);
        const snapshot: Snapshot = { version: { a: 3 }, state: { total: 3, seen: ['x', 'y'], nested: { ok: true, none: null } } };
        await store.saveSnapshot(actor, snapshot);

        const loaded = await store.loadChain(actor, 'a:6');
        expect(loaded.base).toEqual(snapshot);
        expect(loaded.packs).toHaveLength(3);
        expect(loaded.packs).toEqual(chain.slice(3));

        const atSnapshot = await store.loadChain(actor, 'a:3');
        expect(atSnapshot.base).toEqual(snapshot);
        expect(atSnapshot.packs).toEqual([]);

        const before = await store.loadChain(actor, 'a:2');
        expect(before.base).toBeUndefined();
        expect(before.packs).toEqual(chain.slice(0, 2));

        // A nearer snapshot wins; the older one is not read past.
        const later: Snapshot = { version: { a: 5 }, state: { total: 5 } };
        await store.saveSnapshot(actor, later);
        const nearest = await store.loadChain(actor, 'a:6');
        expect(nearest.base).toEqual(later);
        expect(nearest.packs).toEqual(chain.slice(5));
        expect(await store.loadChain(actor, 'a:4')).toEqual({ base: snapshot, packs: chain.slice(3, 4) });
      });

      it('a snapshot with a falsy state (0, null, false, "") is still a base', async () => {
        const actor = uniqueActor();
        const chain = makeChain(actor, 4);
        await appendChain(store, chain);
        const states: unknown[] = [0, null, false, ''];
        for (let i = 0; i < states.length; i++) {
          await store.saveSnapshot(actor, { version: { a: i + 1 }, state: states[i] });
          const loaded = await store.loadChain(actor, 'a:4');
          expect(loaded.base).toEqual({ version: { a: i + 1 }, state: states[i] });
          expect(loaded.packs).toEqual(chain.slice(i + 1));
        }
      });

      it('a snapshot passed to append() is used the same way', async () => {
        const actor = uniqueActor();
        const chain = makeChain(actor, 5);
        await appendChain(store, chain.slice(0, 2));
        const snapshot: Snapshot = { version: { a: 3 }, state: { count: 3, fraction: 1700000000000.0009765625 } };
        await store.append(chain[2]!, ['a:2'], snapshot);
        await appendChain(store, chain.slice(3), ['a:3']);
        const loaded = await store.loadChain(actor, 'a:5');
        expect(loaded.base).toEqual(snapshot);
        expect(loaded.packs).toHaveLength(2);
        expect(loaded.packs).toEqual(chain.slice(3));
        expect(await store.loadChain(actor, 'a:3')).toEqual({ base: snapshot, packs: [] });
      });

      it('a merge pack is a base: its state, and only the packs after it', async () => {
        const actor = uniqueActor();
        const root = makePack({ actor, version: { a: 1 } });
        const left = makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }] });
        const right = makePack({ actor, version: { a: 1, b: 1 }, parents: [{ a: 1 }] });
        const state = { balance: 12, history: [1, 2, { three: 3 }], closed: false };
        const merged = makePack({ actor, kind: 'merge', version: { a: 2, b: 1 }, parents: [{ a: 2 }, { a: 1, b: 1 }], state, events: [] });
        const after1 = makePack({ actor, version: { a: 3, b: 1 }, parents: [{ a: 2, b: 1 }] });
        const after2 = makePack({ actor, version: { a: 4, b: 1 }, parents: [{ a: 3, b: 1 }] });
        await store.append(root, []);
        await store.saveSnapshot(actor, { version: { a: 1 }, state: { older: true } });
        await store.append(left, ['a:1']);
        await store.merge([right]);
        await store.append(merged, ['a:1,b:1', 'a:2']);
        await appendChain(store, [after1, after2], ['a:2,b:1']);

        const loaded = await store.loadChain(actor, 'a:4,b:1');
        expect(loaded.base).toEqual({ version: { a: 2, b: 1 }, state });
        expect(loaded.packs).toHaveLength(2);
        expect(loaded.packs).toEqual([after1, after2]);
        expect(await store.loadChain(actor, 'a:2,b:1')).toEqual({ base: { version: { a: 2, b: 1 }, state }, packs: [] });

        // A snapshot after the merge is nearer, and wins.
        await store.saveSnapshot(actor, { version: { a: 3, b: 1 }, state: { nearer: 1 } });
        expect(await store.loadChain(actor, 'a:4,b:1')).toEqual({ base: { version: { a: 3, b: 1 }, state: { nearer: 1 } }, packs: [after2] });

        // Below the merge, the older snapshot is the base.
        expect(await store.loadChain(actor, 'a:2')).toEqual({ base: { version: { a: 1 }, state: { older: true } }, packs: [left] });
      });

      it('a merge pack that arrived through merge() is a base too', async () => {
        const actor = uniqueActor();
        const state = { merged: ['x', 'y'] };
        const packs = [
          makePack({ actor, version: { b: 1 } }),
          makePack({ actor, version: { c: 1 } }),
          makePack({ actor, kind: 'merge', version: { b: 1, c: 1 }, parents: [{ b: 1 }, { c: 1 }], state }),
          makePack({ actor, version: { b: 2, c: 1 }, parents: [{ b: 1, c: 1 }] }),
        ];
        await store.merge(packs);
        expect(await store.loadChain(actor, 'b:2,c:1')).toEqual({ base: { version: { b: 1, c: 1 }, state }, packs: [packs[3]] });
      });
    });

    describe('commandVersion', () => {
      it('returns the version of the pack that recorded a command id, undefined for unknown ids', async () => {
        const actor = uniqueActor();
        const first = makePack({ actor, version: { a: 1 }, commandIds: ['cmd-a'] });
        const second = makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }], commandIds: ['cmd-b', 'cmd-c'] });
        await appendChain(store, [first, second]);
        expect(await firstCommandVersion(store, actor, 'cmd-a')).toEqual({ a: 1 });
        expect(await firstCommandVersion(store, actor, 'cmd-b')).toEqual({ a: 2 });
        expect(await firstCommandVersion(store, actor, 'cmd-c')).toEqual({ a: 2 });
        expect(await firstCommandVersion(store, actor, 'cmd-unknown')).toBeUndefined();
        expect(await firstCommandVersion(store, actor, '')).toBeUndefined();
      });

      it('works for command ids of merged (replicated) packs', async () => {
        const actor = uniqueActor();
        await store.append(makePack({ actor, version: { a: 1 }, commandIds: ['local'] }), []);
        await store.merge([
          makePack({ actor, version: { a: 1, b: 1 }, parents: [{ a: 1 }], commandIds: ['remote-1'] }),
          makePack({ actor, version: { a: 1, b: 2 }, parents: [{ a: 1, b: 1 }], commandIds: ['remote-2', 'remote-3'] }),
        ]);
        expect(await firstCommandVersion(store, actor, 'local')).toEqual({ a: 1 });
        expect(await firstCommandVersion(store, actor, 'remote-1')).toEqual({ a: 1, b: 1 });
        expect(await firstCommandVersion(store, actor, 'remote-3')).toEqual({ a: 1, b: 2 });
      });

      it('a command id recorded by two packs (a retry applied on two branches) lists both, in recorded order, once each', async () => {
        const actor = uniqueActor();
        await store.append(makePack({ actor, version: { a: 1 } }), []);
        await store.append(makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }], commandIds: ['retried'] }), ['a:1']);
        const sibling = makePack({ actor, version: { a: 1, b: 1 }, parents: [{ a: 1 }], commandIds: ['retried'] });
        await store.merge([sibling]);
        await store.merge([sibling]);
        expect((await store.commandVersions(actor, 'retried')).map(key)).toEqual(['a:2', 'a:1,b:1']);
        expect(await store.commandVersions(actor, 'never-applied')).toEqual([]);
      });
    });

    describe('changesSince', () => {
      it('an undefined cursor reads from the start; pages respect limit and continue where they stopped', async () => {
        const actor = uniqueActor();
        const other = uniqueActor('other');
        const start = await drain(store, undefined);
        const chain = makeChain(actor, 5);
        const otherChain = makeChain(other, 2, 'z');
        await appendChain(store, chain.slice(0, 2));
        await appendChain(store, otherChain);
        await appendChain(store, chain.slice(2), ['a:2']);
        // Each actor's packs in the order they became durable; actors may interleave in any order
        // (a sharded store keeps one log per shard).
        const expected = [logKeys(chain), logKeys(otherChain)];
        const perActor = (packs: readonly Pack[]) => [logKeys(mine(packs, [actor])), logKeys(mine(packs, [other]))];

        const all = await drain(store, undefined);
        expect(perActor(all.packs)).toEqual(expected);

        for (const limit of [1, 2, 3]) {
          const seen: Pack[] = [];
          let cursor: string | undefined = start.cursor;
          for (let page = 0; page < 10_000; page++) {
            const changes = await store.changesSince(cursor, limit);
            expect(changes.packs.length).toBeLessThanOrEqual(limit);
            if (changes.packs.length === 0) break;
            seen.push(...changes.packs);
            cursor = changes.cursor;
          }
          expect(perActor(seen), `limit ${limit}`).toEqual(expected);
          // Against the whole log read in big pages: small pages neither overlap nor skip (the
          // interleaving of actors may differ, so compare the entries as sets).
          const reference = (await drain(store, start.cursor)).packs;
          expect(seen.length).toBe(reference.length);
          expect(new Set(logKeys(seen)).size).toBe(seen.length);
          expect([...logKeys(seen)].sort()).toEqual([...logKeys(reference)].sort());
        }
      });

      it('a page holds exactly `limit` packs when at least that many are available', async () => {
        const actor = uniqueActor();
        const start = await drain(store, undefined);
        const chain = makeChain(actor, 5);
        await appendChain(store, chain);
        const first = await store.changesSince(start.cursor, 2);
        expect(first.packs).toHaveLength(2);
        const second = await store.changesSince(first.cursor, 2);
        expect(second.packs).toHaveLength(2);
        const rest = await drain(store, second.cursor);
        expect(logKeys(mine([...first.packs, ...second.packs, ...rest.packs], [actor]))).toEqual(logKeys(chain));
      });

      it('packs come back whole and in durable order, parents before children', async () => {
        const actor = uniqueActor();
        const start = await drain(store, undefined);
        const root = makePack({ actor, version: { a: 1 } });
        const left = makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }] });
        const right = makePack({ actor, version: { a: 1, b: 1 }, parents: [{ a: 1 }] });
        const merged = makePack({ actor, kind: 'merge', version: { a: 2, b: 1 }, parents: [{ a: 2 }, { a: 1, b: 1 }], state: { s: 1 } });
        const after = makePack({ actor, version: { a: 3, b: 1 }, parents: [{ a: 2, b: 1 }] });
        await store.append(root, []);
        await store.merge([right]);
        await store.merge([left]);
        await store.append(merged, ['a:2', 'a:1,b:1']);
        await store.append(after, ['a:2,b:1']);

        const log = mine((await drain(store, start.cursor, 2)).packs, [actor]);
        expect(log).toEqual([root, right, left, merged, after]);
        const position = new Map(log.map((p, i) => [key(p.version), i]));
        for (const pack of log) {
          for (const parent of pack.parents) expect(position.get(key(parent))).toBeLessThan(position.get(key(pack.version))!);
        }
      });

      it('an empty page at the end keeps the cursor usable', async () => {
        const actor = uniqueActor();
        const chain = makeChain(actor, 4);
        await appendChain(store, chain.slice(0, 2));
        const end = await drain(store, undefined);
        expect(logKeys(mine(end.packs, [actor]))).toEqual(logKeys(chain.slice(0, 2)));

        const empty = await store.changesSince(end.cursor, 10);
        expect(mine(empty.packs, [actor])).toEqual([]);
        const emptyAgain = await store.changesSince(empty.cursor, 10);
        expect(mine(emptyAgain.packs, [actor])).toEqual([]);

        await appendChain(store, chain.slice(2), ['a:2']);
        const fromEnd = await drain(store, end.cursor);
        expect(logKeys(mine(fromEnd.packs, [actor]))).toEqual(logKeys(chain.slice(2)));
        const fromEmptyPage = await drain(store, emptyAgain.cursor);
        expect(logKeys(mine(fromEmptyPage.packs, [actor]))).toEqual(logKeys(chain.slice(2)));
      });

      it('packs added by merge() are in the log too, so replication is transitive', async () => {
        const actor = uniqueActor();
        const start = await drain(store, undefined);
        // Written at another replica's store, read from its log, merged here.
        const origin = new MemoryStore();
        const chain = makeChain(actor, 3, 'b');
        await appendChain(origin, chain);
        const shipped = (await origin.changesSince(undefined, 100)).packs;
        await origin.close();
        await store.merge(shipped);
        const local = makePack({ actor, version: { b: 4 }, parents: [{ b: 3 }] });
        await store.append(local, ['b:3']);

        const log = mine((await drain(store, start.cursor, 1)).packs, [actor]);
        expect(log).toEqual([...chain, local]);

        // A third store catching up from this one gets everything, including what this one merged.
        const third = new MemoryStore();
        const report = await third.merge(log);
        expect(report).toEqual({ added: 4, skipped: 0 });
        expect(await third.heads(actor)).toEqual([local]);
        await third.close();
      });
    });

    describe('merge', () => {
      it('copies packs from another store: packs, heads, chain and commands', async () => {
        const actor = uniqueActor();
        const origin = new MemoryStore();
        const chain = makeChain(actor, 3, 'b');
        await appendChain(origin, chain.slice(0, 2));
        await origin.append(chain[2]!, ['b:2'], { version: { b: 3 }, state: 'origin-only snapshot' });
        const shipped = (await origin.changesSince(undefined, 100)).packs;
        await origin.close();

        const report = await store.merge(shipped);
        expect(report).toEqual({ added: 3, skipped: 0 });
        expect(await store.heads(actor)).toEqual([chain[2]]);
        expect(await store.getPacks(actor, ['b:1', 'b:2', 'b:3'])).toEqual(chain);
        // Snapshots are local caches: merge copies packs only.
        expect(await store.loadChain(actor, 'b:3')).toEqual({ packs: chain });
        expect(await firstCommandVersion(store, actor, chain[1]!.commandIds[0]!)).toEqual({ b: 2 });

        // And the actor continues locally from the merged head.
        const next = makePack({ actor, version: { a: 1, b: 3 }, parents: [{ b: 3 }] });
        await store.append(next, ['b:3']);
        expect(await store.heads(actor)).toEqual([next]);
      });

      it('is idempotent: merging the same packs twice adds nothing the second time', async () => {
        const actor = uniqueActor();
        const start = await drain(store, undefined);
        const packs = [
          makePack({ actor, version: { a: 1 } }),
          makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }] }),
          makePack({ actor, version: { a: 1, b: 1 }, parents: [{ a: 1 }] }),
        ];
        expect(await store.merge(packs)).toEqual({ added: 3, skipped: 0 });
        const heads = await store.heads(actor);
        const logLength = mine((await drain(store, start.cursor)).packs, [actor]).length;
        expect(logLength).toBe(3);

        expect(await store.merge(packs)).toEqual({ added: 0, skipped: 3 });
        expect(await store.heads(actor)).toEqual(heads);
        expect(mine((await drain(store, start.cursor)).packs, [actor])).toHaveLength(logLength);

        // A batch that is partly known: only the new one is added.
        const fresh = makePack({ actor, version: { a: 3 }, parents: [{ a: 2 }] });
        expect(await store.merge([...packs, fresh])).toEqual({ added: 1, skipped: 3 });
        expect(mine((await drain(store, start.cursor)).packs, [actor])).toHaveLength(4);
      });

      it('the same pack again is skipped; a different pack under a held version is a VersionCollisionError', async () => {
        const actor = uniqueActor();
        const original = makePack({ actor, version: { a: 1 }, commandIds: ['original'] });
        await store.append(original, []);
        expect(await store.merge([original])).toEqual({ added: 0, skipped: 1 });
        // Two replicas sharing a replicaId write different packs with one version: never silently skip.
        const impostor = makePack({ actor, version: { a: 1 }, commandIds: ['impostor'] });
        const error = await expectRejection(store.merge([impostor]), VersionCollisionError);
        expect(error.message).toContain(actorKey(actor));
        expect(error.message).toContain('a:1');
        expect(await store.getPacks(actor, ['a:1'])).toEqual([original]);
        expect(await firstCommandVersion(store, actor, 'impostor')).toBeUndefined();
      });

      it('an empty batch is a no-op', async () => {
        expect(await store.merge([])).toEqual({ added: 0, skipped: 0 });
      });

      it('parents may come earlier in the same batch, in any actor interleaving', async () => {
        const a = uniqueActor('a');
        const b = uniqueActor('b');
        const chainA = makeChain(a, 3);
        const chainB = makeChain(b, 3);
        const interleaved = [chainA[0]!, chainB[0]!, chainB[1]!, chainA[1]!, chainA[2]!, chainB[2]!];
        expect(await store.merge(interleaved)).toEqual({ added: 6, skipped: 0 });
        expect(await store.heads(a)).toEqual([chainA[2]]);
        expect(await store.heads(b)).toEqual([chainB[2]]);
      });

      it('a pack whose parent is missing throws MissingAncestorError; the packs before it are kept', async () => {
        const actor = uniqueActor();
        const start = await drain(store, undefined);
        const p1 = makePack({ actor, version: { a: 1 } });
        const p2 = makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }] });
        const orphan = makePack({ actor, version: { a: 2, b: 2 }, parents: [{ a: 2, b: 1 }] });
        const p3 = makePack({ actor, version: { a: 3 }, parents: [{ a: 2 }] });

        const error = await expectRejection(store.merge([p1, p2, orphan, p3]), MissingAncestorError);
        expect(error.code).toBe('MISSING_ANCESTOR');
        expect(error.actorKey).toBe(actorKey(actor));
        expect(error.version).toBe('a:2,b:1');

        expect(await store.getPacks(actor, ['a:1', 'a:2', 'a:2,b:2', 'a:3'])).toEqual([p1, p2, undefined, undefined]);
        expect(await store.heads(actor)).toEqual([p2]);
        expect(await firstCommandVersion(store, actor, orphan.commandIds[0]!)).toBeUndefined();
        expect(mine((await drain(store, start.cursor)).packs, [actor])).toEqual([p1, p2]);

        // Retrying the batch (as a replicator does) skips what was kept.
        const retried = makePack({ actor, version: { a: 2, b: 1 }, parents: [{ a: 2 }] });
        expect(await store.merge([p1, p2, retried, orphan, p3])).toEqual({ added: 3, skipped: 2 });
        expect(keysOf(await store.heads(actor))).toEqual(['a:2,b:2', 'a:3']);
      });

      it('a merge pack whose second parent is missing is refused', async () => {
        const actor = uniqueActor();
        await store.merge([makePack({ actor, version: { a: 1 } })]);
        const merged = makePack({ actor, kind: 'merge', version: { a: 1, b: 1 }, parents: [{ a: 1 }, { b: 1 }], state: {} });
        const error = await expectRejection(store.merge([merged]), MissingAncestorError);
        expect(error.version).toBe('b:1');
        expect(keysOf(await store.heads(actor))).toEqual(['a:1']);
      });
    });

    describe('heads under divergence', () => {
      it('two concurrent roots merged in give two heads in canonical order; a dominating merge pack makes one', async () => {
        const actor = uniqueActor();
        // Merged in the reverse of canonical order.
        const b1 = makePack({ actor, version: { b: 1 } });
        const a1 = makePack({ actor, version: { a: 1 } });
        await store.merge([b1]);
        await store.merge([a1]);
        expect(await store.heads(actor)).toEqual([a1, b1]);

        const merged = makePack({ actor, kind: 'merge', version: VC.merge(a1.version, b1.version), parents: [{ b: 1 }, { a: 1 }], state: { both: true } });
        expect(await store.merge([merged])).toEqual({ added: 1, skipped: 0 });
        expect(await store.heads(actor)).toEqual([merged]);
      });

      it('{a:2} and {a:1,b:1} on a common parent are two heads; the pointwise max resolves them', async () => {
        const actor = uniqueActor();
        const root = makePack({ actor, version: { a: 1 } });
        const a2 = makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }] });
        const a1b1 = makePack({ actor, version: { a: 1, b: 1 }, parents: [{ a: 1 }] });
        await store.append(root, []);
        await store.append(a2, ['a:1']);
        await store.merge([a1b1]);
        const heads = await store.heads(actor);
        expect(heads).toEqual([a1b1, a2]);
        expect(keysOf(heads)).toEqual([...keysOf(heads)].sort());

        const merged = makePack({ actor, kind: 'merge', version: { a: 2, b: 1 }, parents: [{ a: 2 }, { a: 1, b: 1 }], state: 'resolved' });
        await store.append(merged, ['a:1,b:1', 'a:2']);
        expect(await store.heads(actor)).toEqual([merged]);
      });

      it('three branches give three heads in canonical order; one dominating pack resolves them all', async () => {
        const actor = uniqueActor();
        await store.append(makePack({ actor, version: { m: 1 } }), []);
        const branches = ['c', 'a', 'b'].map((r) => makePack({ actor, version: { m: 1, [r]: 1 }, parents: [{ m: 1 }] }));
        for (const branch of branches) await store.merge([branch]);
        const keys = keysOf(await store.heads(actor)) as string[];
        expect(keys).toEqual(['a:1,m:1', 'b:1,m:1', 'c:1,m:1']);
        const version = VC.mergeAll(branches.map((p) => p.version));
        const merged = makePack({ actor, kind: 'merge', version, parents: branches.map((p) => p.version), state: 3 });
        await store.append(merged, [...keys].reverse());
        expect(await store.heads(actor)).toEqual([merged]);
      });

      it('a pack that dominates only some heads replaces just those', async () => {
        const actor = uniqueActor();
        const packs = [
          makePack({ actor, version: { a: 1 } }),
          makePack({ actor, version: { b: 1 } }),
          makePack({ actor, version: { c: 1 } }),
        ];
        await store.merge(packs);
        const ab = makePack({ actor, kind: 'merge', version: { a: 1, b: 1 }, parents: [{ a: 1 }, { b: 1 }], state: null });
        await store.merge([ab]);
        expect(keysOf(await store.heads(actor))).toEqual(['a:1,b:1', 'c:1']);
      });

      it('a merged pack dominated by an existing head does not become a head', async () => {
        const actor = uniqueActor();
        const root = makePack({ actor, version: { a: 1 } });
        const ahead = makePack({ actor, version: { a: 3 }, parents: [{ a: 1 }] });
        await appendChain(store, [root, ahead]);
        const behind = makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }] });
        expect(await store.merge([behind])).toEqual({ added: 1, skipped: 0 });
        expect(await store.heads(actor)).toEqual([ahead]);
        expect(await store.getPacks(actor, ['a:2'])).toEqual([behind]);
        // Still appendable on the one head.
        await store.append(makePack({ actor, version: { a: 4 }, parents: [{ a: 3 }] }), ['a:3']);
        expect(keysOf(await store.heads(actor))).toEqual(['a:4']);
      });

      it('a merged descendant of the head replaces it', async () => {
        const actor = uniqueActor();
        const chain = makeChain(actor, 3);
        await store.append(chain[0]!, []);
        await store.merge(chain.slice(1));
        expect(await store.heads(actor)).toEqual([chain[2]]);
      });
    });

    describe('snapshots travel with packs', () => {
      /** Every snapshot shipped in the log after `cursor`, for the given actors. */
      async function shippedSnapshots(cursor: string | undefined, actors: readonly ActorRef[]) {
        const wanted = new Set(actors.map(actorKey));
        const out: { actor: string; version: string; state: unknown }[] = [];
        for (let page = 0; page < 10_000; page++) {
          const changes = await store.changesSince(cursor, 2);
          if (changes.packs.length === 0) return out;
          for (const s of changes.snapshots) {
            if (wanted.has(actorKey(s.actor))) out.push({ actor: actorKey(s.actor), version: key(s.version), state: s.state });
          }
          cursor = changes.cursor;
        }
        throw new Error('changesSince never returned an empty page');
      }

      it('a snapshot written with append() is shipped in the log with its pack, and only then', async () => {
        const actor = uniqueActor();
        const start = await drain(store, undefined);
        const [p1, p2, p3] = makeChain(actor, 3);
        await store.append(p1!, []);
        await store.append(p2!, ['a:1'], { version: p2!.version, state: { at: 2, rich: richData } });
        await store.append(p3!, ['a:2']);
        await store.saveSnapshot(actor, { version: p3!.version, state: { local: 'cache only' } });
        expect(await shippedSnapshots(start.cursor, [actor])).toEqual([
          { actor: actorKey(actor), version: 'a:2', state: { at: 2, rich: richData } },
        ]);
      });

      it('merge() keeps shipped snapshots: the copy loads from them and ships them on', async () => {
        const actor = uniqueActor();
        const other = uniqueActor('other');
        const start = await drain(store, undefined);
        const chain = makeChain(actor, 4);
        // The same version key for another actor in the same batch must not pick up this actor's snapshot.
        const otherChain = makeChain(other, 2);
        const snapshots = [
          { actor, version: chain[1]!.version, state: { mine: true } },
          { actor: other, version: { a: 2 }, state: { theirs: true } },
          { actor: other, version: { a: 9 }, state: 'for a pack that is not in the batch' },
        ];
        await store.merge([...chain, ...otherChain], snapshots);
        const copied = await store.loadChain(actor, 'a:4');
        expect(copied.base).toEqual({ version: { a: 2 }, state: { mine: true } });
        expect(keysOf(copied.packs)).toEqual(['a:3', 'a:4']);
        const otherChainLoad = await store.loadChain(other, 'a:2');
        expect(otherChainLoad).toEqual({ base: { version: { a: 2 }, state: { theirs: true } }, packs: [] });
        const shipped = await shippedSnapshots(start.cursor, [actor, other]);
        expect(shipped.sort((x, y) => x.actor.localeCompare(y.actor))).toEqual(
          [
            { actor: actorKey(actor), version: 'a:2', state: { mine: true } },
            { actor: actorKey(other), version: 'a:2', state: { theirs: true } },
          ].sort((x, y) => x.actor.localeCompare(y.actor)),
        );
        // Idempotent: shipping the same batch again changes nothing.
        expect(await store.merge([...chain, ...otherChain], snapshots)).toEqual({ added: 0, skipped: 6 });
        expect(await shippedSnapshots(start.cursor, [actor, other])).toHaveLength(2);
      });
    });

    describe('isolation', () => {
      it('actors do not see each other’s packs, heads, chains, snapshots or commands', async () => {
        const suffix = uniqueSuffix();
        const a: ActorRef = { type: 'conformance', id: `iso-${suffix}` };
        const b: ActorRef = { type: 'conformance', id: `iso-${suffix}-b` };
        const c: ActorRef = { type: 'conformance.other', id: `iso-${suffix}` };
        const packA = makePack({ actor: a, version: { a: 1 }, commandIds: ['shared-cmd'] });
        const packA2 = makePack({ actor: a, version: { a: 2 }, parents: [{ a: 1 }], commandIds: ['only-a'] });
        await appendChain(store, [packA, packA2]);
        await store.saveSnapshot(a, { version: { a: 1 }, state: 'snapshot of a' });

        for (const other of [b, c]) {
          expect(await store.heads(other)).toEqual([]);
          expect(await store.getPacks(other, ['a:1', 'a:2'])).toEqual([undefined, undefined]);
          expect(await firstCommandVersion(store, other, 'shared-cmd')).toBeUndefined();
          expect(await firstCommandVersion(store, other, 'only-a')).toBeUndefined();
          // A new actor starts from no heads, whatever its neighbours hold.
          const own = makePack({ actor: other, version: { a: 1 }, commandIds: ['shared-cmd'] });
          await store.append(own, []);
          const own2 = makePack({ actor: other, version: { a: 2 }, parents: [{ a: 1 }] });
          await store.append(own2, ['a:1']);
          expect(await store.heads(other)).toEqual([own2]);
          // a's snapshot at a:1 is not other's.
          expect(await store.loadChain(other, 'a:2')).toEqual({ packs: [own, own2] });
          expect(await firstCommandVersion(store, other, 'shared-cmd')).toEqual({ a: 1 });
        }

        expect(await store.heads(a)).toEqual([packA2]);
        expect(await store.getPacks(a, ['a:1', 'a:2'])).toEqual([packA, packA2]);
        expect(await store.loadChain(a, 'a:2')).toEqual({ base: { version: { a: 1 }, state: 'snapshot of a' }, packs: [packA2] });
        await expectRejection(store.append(makePack({ actor: a, version: { a: 3 }, parents: [{ a: 2 }] }), []), AppendConflictError);
      });
    });
  });
}
