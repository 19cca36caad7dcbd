/**
 * Foreign or corrupt data under troupe's keys, and packs over the size limit: each gives a clear
 * error naming the key (and field), writes nothing, and leaves every other actor of the store
 * working.
 */
import {
  type ActorRef,
  CorruptDataError,
  LimitExceededError,
  type Runtime,
  createRuntime,
  defineActor,
} from '@troupe/runtime';
import { VC, encodeValue } from '@troupe/runtime/store';
import { makePack, requireService, uniqueActor } from '@troupe/runtime/testkit';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectOptions } from './connect.js';
import type { RedisStore } from './redisStore/index.js';
import { createTestStore, testRedisUrl } from './specHelpers/testStore.js';

interface NotesState {
  readonly count: number;
  readonly applied: readonly string[];
}

const Notes = defineActor({
  type: 'notes',
  initial: (): NotesState => ({ count: 0, applied: [] }),
  commands: {
    write: (_s, p: { text: string }) => [{ type: 'written', data: { text: p.text } }],
  },
  events: {
    written: (s, _d: { text: string }, e) => ({ count: s.count + 1, applied: [...s.applied, e.id] }),
  },
  snapshotEvery: 1_000,
});

/** Garbage: not the format byte troupe writes, not msgpack. */
const garbage = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]);
/** Well-formed msgpack behind troupe's format byte, but not a pack. */
const foreignValue = encodeValue({ hello: 'world' });

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

describe.skipIf(!available)('RedisStore given foreign or corrupt data under its keys', () => {
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup = [];
  });

  /** A store under a fresh prefix, a runtime on it, and a raw client on the same database. */
  async function setup(options: ConnectOptions = {}): Promise<{ store: RedisStore; runtime: Runtime; raw: Redis }> {
    const store = await createTestStore(options);
    const runtime = createRuntime({ actors: [Notes], store, replicaId: 'r1', machineId: 21 });
    const raw = new Redis(testRedisUrl, { lazyConnect: true });
    await raw.connect();
    cleanup.push(async () => {
      await runtime.stop();
      raw.disconnect();
      await store.destroy();
    });
    return { store, runtime, raw };
  }

  /** An actor with `commands` written through the runtime; returns its version keys, oldest first. */
  async function writeActor(runtime: Runtime, actor: ActorRef, commands: number): Promise<string[]> {
    const versions: string[] = [];
    for (let i = 0; i < commands; i++) {
      const reply = await runtime.send(actor, { type: 'write', payload: { text: `note ${i}` } });
      if (reply.status !== 'accepted') throw new Error('rejected');
      versions.push(VC.encode(reply.version));
    }
    return versions;
  }

  /** A fresh actor in the same shard as `actor` (so it shares the shard's log with it). */
  function neighbour(store: RedisStore, actor: ActorRef): ActorRef {
    for (;;) {
      const other = Notes.ref(uniqueActor('neighbour').id);
      if (store.shardOf(other) === store.shardOf(actor)) return other;
    }
  }

  /** Another actor of the same store, in the same shard, still writes and reads through store and runtime. */
  async function expectOthersFine(store: RedisStore, runtime: Runtime, victim: ActorRef, before?: ActorRef): Promise<void> {
    const other = neighbour(store, victim);
    const versions = await writeActor(runtime, other, 3);
    expect((await store.heads(other)).map((p) => VC.encode(p.version))).toEqual([versions[2]]);
    expect((await store.loadChain(other, versions[2]!)).packs).toHaveLength(3);
    expect((await runtime.inspect<NotesState>(other)).state.count).toBe(3);
    if (before) {
      // An actor written before the damage is unaffected too.
      expect((await runtime.inspect<NotesState>(before)).state.count).toBe(2);
      expect(await runtime.send(before, { type: 'write', payload: { text: 'after' } })).toMatchObject({ status: 'accepted' });
    }
  }

  /** Awaits `operation` and returns its error (failing when it resolves). */
  async function failure(operation: () => Promise<unknown>): Promise<Error> {
    try {
      await operation();
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected the operation to fail');
  }

  async function expectCorrupt(operation: () => Promise<unknown>, ...mentions: string[]): Promise<CorruptDataError> {
    const error = await failure(operation);
    expect(error, error.message).toBeInstanceOf(CorruptDataError);
    for (const text of mentions) expect(error.message).toContain(text);
    return error as CorruptDataError;
  }

  it('garbage bytes in the head pack: heads, getPacks, loadChain and the runtime name the :p key and field', async () => {
    const { store, runtime, raw } = await setup();
    const victim = Notes.ref('victim');
    const before = neighbour(store, victim);
    await writeActor(runtime, before, 2);
    const versions = await writeActor(runtime, victim, 3);
    const head = versions[2]!;
    const { packs } = store.keysOf(victim);
    await raw.hset(packs, head, garbage);

    const where = `${packs} field ${head}`;
    expect((await expectCorrupt(() => store.heads(victim), where)).where).toBe(where);
    await expectCorrupt(() => store.getPacks(victim, [versions[0]!, head]), where);
    await expectCorrupt(() => store.loadChain(victim, head), where);
    await expectCorrupt(() => runtime.inspect(victim), where);
    // A runtime that has to load the actor cannot; one that still holds its state in memory
    // writes on (the conditional append compares head keys, it never reads the head's bytes).
    const fresh = createRuntime({ actors: [Notes], store, replicaId: 'r1', machineId: 22 });
    try {
      await expectCorrupt(() => fresh.send(victim, { type: 'write', payload: { text: 'x' } }), where);
    } finally {
      await fresh.stop();
    }
    // The intact packs of the victim still read.
    expect((await store.getPacks(victim, [versions[0]!]))[0]!.version).toEqual(VC.decode(versions[0]!));
    await expectOthersFine(store, runtime, victim, before);
  });

  it('one flipped bit in a stored pack or snapshot fails its checksum: CorruptDataError naming the key and field (#14 guard rail 9)', async () => {
    const { store, runtime, raw } = await setup();
    const victim = Notes.ref('flipped');
    const versions = await writeActor(runtime, victim, 5);
    // A snapshot at the third version: a load of the fifth reads it and the two packs after it.
    await store.saveSnapshot(victim, { version: VC.decode(versions[2]!), state: { count: 3, applied: [] } });
    const { packs, snapshots } = store.keysOf(victim);
    for (const [key, field] of [[packs, versions[3]!], [snapshots, versions[2]!]] as const) {
      const bytes = (await raw.hgetBuffer(key, field))!;
      const flipped = Buffer.from(bytes);
      flipped[Math.floor(bytes.length / 2)]! ^= 0x04; // a value byte: still well-formed msgpack most of the time
      await raw.hset(key, field, flipped);
      const error = await expectCorrupt(() => store.loadChain(victim, versions[4]!), `${key} field ${field}`);
      expect(error.message).toMatch(/checksum mismatch/);
      await raw.hset(key, field, bytes);
    }
    expect((await store.loadChain(victim, versions[4]!)).packs.length).toBeGreaterThan(0);
  });

  it('a well-formed value that is not a pack is corrupt data too', async () => {
    const { store, runtime, raw } = await setup();
    const victim = Notes.ref('victim');
    const [first] = await writeActor(runtime, victim, 1);
    await raw.hset(store.keysOf(victim).packs, first!, foreignValue);
    const error = await expectCorrupt(() => store.heads(victim), `${store.keysOf(victim).packs} field ${first}`);
    expect(error.message).toContain('not a pack');
    await expectOthersFine(store, runtime, victim);
  });

  it('garbage in an older pack: loadChain names the field of that pack, not only the head it started from', async () => {
    const { store, runtime, raw } = await setup();
    const victim = Notes.ref('victim');
    const versions = await writeActor(runtime, victim, 4);
    const { packs } = store.keysOf(victim);
    await raw.hset(packs, versions[1]!, garbage);
    const error = await expectCorrupt(() => store.loadChain(victim, versions[3]!), packs);
    expect(error.where).toBe(`${packs} field ${versions[1]}`);
    // Same with a chain longer than one script call.
    const { store: paged, runtime: pagedRuntime, raw: pagedRaw } = await setup({ chainPacksPerCallMax: 2 });
    const long = await writeActor(pagedRuntime, victim, 7);
    await pagedRaw.hset(paged.keysOf(victim).packs, long[1]!, garbage);
    expect((await expectCorrupt(() => paged.loadChain(victim, long[6]!))).where).toBe(`${paged.keysOf(victim).packs} field ${long[1]}`);
    await expectOthersFine(store, runtime, victim);
  });

  it('the heads set names a pack that is not stored: a CorruptDataError naming the :p key and field', async () => {
    const { store, runtime, raw } = await setup();
    const victim = Notes.ref('victim');
    await writeActor(runtime, victim, 2);
    await raw.sadd(store.keysOf(victim).heads, 'r9:9');
    await expectCorrupt(() => store.heads(victim), `${store.keysOf(victim).packs} field r9:9`, `heads set ${store.keysOf(victim).heads}`, 'not stored');
    await expectOthersFine(store, runtime, victim);
  });

  it('a foreign type at a troupe key (a STRING where the :h set should be) is a CorruptDataError naming the key', async () => {
    const { store, runtime, raw } = await setup();
    const victim = Notes.ref('victim');
    const before = neighbour(store, victim);
    await writeActor(runtime, before, 2);
    const [first] = await writeActor(runtime, victim, 1);
    const keys = store.keysOf(victim);
    await raw.set(keys.heads, 'not a set');

    const error = await expectCorrupt(() => store.heads(victim), keys.heads, 'holds a string where troupe keeps a set');
    expect(error.where).toBe(keys.heads);
    const next = makePack({ actor: victim, version: { r1: 2 }, parents: [VC.decode(first!)] });
    expect((await expectCorrupt(() => store.append(next, [first!]))).where).toBe(keys.heads);
    await expectCorrupt(() => runtime.send(victim, { type: 'write', payload: { text: 'x' } }), keys.heads);
    await expectCorrupt(() => runtime.inspect(victim), keys.heads);
    // Nothing was written by the failed append (the script fails on its first read of :h).
    expect(await raw.hkeys(keys.packs)).toEqual([first]);
    expect(await raw.llen(keys.log)).toBe(3);
    expect(await raw.get(keys.heads)).toBe('not a set');
    await expectOthersFine(store, runtime, victim, before);
  });

  // Redis does not roll back a script that fails half-way: the scripts check the type of every
  // key they will write before the first write, so a foreign type leaves nothing half-written.
  it('merge into an actor whose :h key holds a foreign type writes nothing', async () => {
    const { store, runtime, raw } = await setup();
    const victim = Notes.ref('victim');
    const [first] = await writeActor(runtime, victim, 1);
    const keys = store.keysOf(victim);
    await raw.set(keys.heads, 'not a set');
    const next = makePack({ actor: victim, version: { r1: 2 }, parents: [VC.decode(first!)] });
    await expectCorrupt(() => store.merge([next]), keys.heads);
    expect(await raw.hkeys(keys.packs)).toEqual([first]);
  });

  it('append to an actor whose :r key holds a foreign type writes nothing', async () => {
    const { store, runtime, raw } = await setup();
    const victim = Notes.ref('victim');
    const [first] = await writeActor(runtime, victim, 1);
    const keys = store.keysOf(victim);
    await raw.del(keys.parents);
    await raw.set(keys.parents, 'not a hash');
    const next = makePack({ actor: victim, version: { r1: 2 }, parents: [VC.decode(first!)] });
    await expectCorrupt(() => store.append(next, [first!]), keys.parents);
    expect(await raw.hkeys(keys.packs)).toEqual([first]);
  });

  it('a foreign type at the :p and :c keys is a CorruptDataError naming the key', async () => {
    const { store, runtime, raw } = await setup();
    const victim = Notes.ref('victim');
    await writeActor(runtime, victim, 1);
    const keys = store.keysOf(victim);
    await raw.del(keys.packs);
    await raw.rpush(keys.packs, 'a list');
    await expectCorrupt(() => store.getPacks(victim, ['r1:1']), keys.packs);
    await expectCorrupt(() => store.heads(victim), keys.packs);
    await expectCorrupt(() => store.loadChain(victim, 'r1:1'), keys.packs);
    await raw.del(keys.commands);
    await raw.sadd(keys.commands, 'a set');
    await expectCorrupt(() => store.commandVersions(victim, 'c-1'), keys.commands);
    await expectOthersFine(store, runtime, victim);
  });

  it('a corrupt command-id entry names the :c key and field', async () => {
    const { store, runtime, raw } = await setup();
    const victim = Notes.ref('victim');
    await writeActor(runtime, victim, 1);
    await raw.hset(store.keysOf(victim).commands, 'c-1', 'not a version');
    await expectCorrupt(() => store.commandVersions(victim, 'c-1'), `${store.keysOf(victim).commands} field c-1`);
    await expectCorrupt(() => runtime.send(victim, { type: 'write', payload: { text: 'x' }, commandId: 'c-1' }), store.keysOf(victim).commands);
    await expectOthersFine(store, runtime, victim);
  });

  it('a corrupt snapshot: loadChain (and the runtime) name the :s key and field', async () => {
    const { store, runtime, raw } = await setup();
    const victim = Notes.ref('victim');
    const versions = await writeActor(runtime, victim, 3);
    await store.saveSnapshot(victim, { version: VC.decode(versions[1]!), state: { count: 2, applied: [] } });
    const { snapshots } = store.keysOf(victim);
    await raw.hset(snapshots, versions[1]!, garbage);
    const error = await expectCorrupt(() => store.loadChain(victim, versions[2]!), `${snapshots} field ${versions[1]}`);
    expect(error.where).toBe(`${snapshots} field ${versions[1]}`);
    await expectCorrupt(() => runtime.inspect(victim), snapshots);
    await expectOthersFine(store, runtime, victim);
  });

  it('a shipped snapshot that is corrupt: changesSince names the :s key', async () => {
    const { store, runtime, raw } = await setup();
    const victim = Notes.ref('victim');
    const [first] = await writeActor(runtime, victim, 1);
    // A pack appended with its snapshot is logged with it; the snapshot then rots.
    const next = makePack({ actor: victim, version: { r1: 2 }, parents: [VC.decode(first!)] });
    await store.append(next, [first!], { version: next.version, state: { count: 2, applied: [] } });
    await raw.hset(store.keysOf(victim).snapshots, 'r1:2', garbage);
    await expectCorrupt(() => store.changesSince(undefined, 100), `${store.keysOf(victim).snapshots} field r1:2`);
  });

  describe('a corrupt replication log entry: changesSince names the log key, writers carry on', () => {
    const entries: [string, string | Buffer][] = [
      ['not JSON', 'this is not json'],
      ['a JSON object', '{"type":"notes"}'],
      ['a JSON string', '"notes:victim"'],
      ['numbers instead of strings', '[1, 2, 3, 0]'],
      ['binary garbage', garbage],
    ];
    for (const [label, entry] of entries) {
      it(label, async () => {
        const { store, runtime, raw } = await setup();
        const victim = Notes.ref('victim');
        await writeActor(runtime, victim, 2);
        const { log } = store.keysOf(victim);
        await raw.rpush(log, entry);
        const error = await expectCorrupt(() => store.changesSince(undefined, 100), log);
        expect(error.where).toBe(log);
        // Writers of the shard are not affected (they only append to the log)...
        await expectOthersFine(store, runtime, victim);
        expect((await runtime.inspect<NotesState>(victim)).state.count).toBe(2);
        // ...and a reader whose cursor is past the bad entry reads on.
        const shard = store.shardOf(victim);
        const past = Array.from({ length: store.shards }, (_, s) => (s === shard ? 3 : 0)).join('.');
        const after = await store.changesSince(past, 100);
        expect(after.packs.length).toBeGreaterThanOrEqual(3);
      });
    }

    it('an entry naming a pack that is not stored', async () => {
      const { store, runtime, raw } = await setup();
      const victim = Notes.ref('victim');
      await writeActor(runtime, victim, 1);
      await raw.rpush(store.keysOf(victim).log, JSON.stringify(['notes', 'victim', 'r7:7', 0]));
      await expectCorrupt(() => store.changesSince(undefined, 100), `${store.keysOf(victim).packs} field r7:7`, 'not stored');
      await expectOthersFine(store, runtime, victim);
    });
  });

  describe('a pack larger than packBytesMax', () => {
    it('append and merge refuse it with LimitExceededError naming packBytesMax; nothing is written', async () => {
      const { store, runtime, raw } = await setup({ packBytesMax: 4_096 });
      const victim = Notes.ref('victim');
      const [first] = await writeActor(runtime, victim, 1);
      const keys = store.keysOf(victim);
      const logBefore = await raw.llen(keys.log);
      const big = makePack({
        actor: victim,
        version: { r1: 2 },
        parents: [VC.decode(first!)],
        events: [{ id: '00000000000000000001', actor: victim, type: 'written', data: { text: 'x'.repeat(10_000) }, ts: Date.now(), correlationId: 'c', causationId: 'c', replica: 'r1' }],
      });
      for (const operation of [() => store.append(big, [first!]), () => store.merge([big])]) {
        const error = await failure(operation);
        expect(error).toBeInstanceOf(LimitExceededError);
        expect((error as LimitExceededError).limit).toBe('packBytesMax');
        expect(error.message).toContain('packBytesMax');
        expect(error.message).toContain('notes:victim@r1:2');
      }
      expect((await store.heads(victim)).map((p) => VC.encode(p.version))).toEqual([first]);
      expect(await raw.hkeys(keys.packs)).toEqual([first]);
      expect(await raw.llen(keys.log)).toBe(logBefore);
      await expectOthersFine(store, runtime, victim);
    });

    it('a command whose pack is too large is refused; the actor carries on', async () => {
      const { store, runtime, raw } = await setup({ packBytesMax: 4_096 });
      const victim = Notes.ref('victim');
      await writeActor(runtime, victim, 2);
      const keys = store.keysOf(victim);
      const logBefore = await raw.llen(keys.log);
      const error = await failure(() => runtime.send(victim, { type: 'write', payload: { text: 'x'.repeat(10_000) }, commandId: 'too-big' }));
      expect(error).toBeInstanceOf(LimitExceededError);
      expect(error.message).toContain('packBytesMax');
      expect(await raw.hlen(keys.packs)).toBe(2);
      expect(await raw.llen(keys.log)).toBe(logBefore);
      expect(await store.commandVersions(victim, 'too-big')).toEqual([]);
      expect(await runtime.send(victim, { type: 'write', payload: { text: 'small' } })).toMatchObject({ status: 'accepted', version: { r1: 3 } });
      expect((await runtime.inspect<NotesState>(victim)).state.count).toBe(3);
      await expectOthersFine(store, runtime, victim);
    });
  });
});
