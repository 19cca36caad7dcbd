import { describe, expect, it } from 'vitest';
import { encodeValue } from '../codec/index.js';
import { CorruptDataError } from '../errors/index.js';
import { MemoryStore, type EventStore } from './index.js';
import { runStoreConformance } from '../testkit/conformance/index.js';
import { appendChain, makeChain, makePack, uniqueActor } from '../testkit/index.js';

runStoreConformance({ name: 'MemoryStore', create: async () => new MemoryStore(), regionLog: true, mergeLog: true });

describe('MemoryStore (store-specific)', () => {
  async function corruptionCase(bytes: Buffer) {
    const store = new MemoryStore();
    const victim = uniqueActor('victim');
    const bystander = uniqueActor('bystander');
    const chain = makeChain(victim, 3);
    const intact = makeChain(bystander, 3);
    await appendChain(store, chain);
    await appendChain(store, intact);
    store.unsafeOverwritePack(victim, 'a:2', bytes);
    return { store, victim, bystander, chain, intact };
  }

  async function expectCorrupt(promise: Promise<unknown>, actorText: string, versionKey: string): Promise<void> {
    let caught: unknown;
    try {
      await promise;
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CorruptDataError);
    const error = caught as CorruptDataError;
    expect(error.code).toBe('CORRUPT_DATA');
    expect(error.message).toContain(actorText);
    expect(error.message).toContain(`@${versionKey}`);
    expect(error.where).toContain(actorText);
    expect(error.where).toContain(versionKey);
  }

  const corruptions: [string, Buffer][] = [
    ['garbage bytes', Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x13, 0x37])],
    ['garbage behind a valid format byte', Buffer.from([0x01, 0xdf, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ['a single byte', Buffer.from([0x01])],
    ['no bytes at all', Buffer.alloc(0)],
    ['valid msgpack that is not a pack (a string)', encodeValue('not a pack')],
    ['valid msgpack that is not a pack (an object)', encodeValue({ kind: 'command', version: { a: 2 } })],
    ['valid msgpack null', encodeValue(null)],
  ];

  for (const [label, bytes] of corruptions) {
    it(`a corrupt pack (${label}) fails reads of that actor with CorruptDataError naming actor and version`, async () => {
      const { store, victim, bystander, chain, intact } = await corruptionCase(bytes);
      const name = `${victim.type}:${victim.id}`;
      await expectCorrupt(store.getPacks(victim, ['a:2']), name, 'a:2');
      // The corrupt pack is on the chain of the head: loading through it fails too.
      await expectCorrupt(store.loadChain(victim, 'a:3'), name, 'a:2');
      await expectCorrupt(store.loadChain(victim, 'a:2'), name, 'a:2');
      // Intact packs of the same actor still read.
      expect(await store.getPacks(victim, ['a:1', 'a:3'])).toEqual([chain[0], chain[2]]);
      expect(await store.heads(victim)).toEqual([chain[2]]);

      // Another actor is unaffected.
      expect(await store.heads(bystander)).toEqual([intact[2]]);
      expect(await store.getPacks(bystander, ['a:1', 'a:2', 'a:3'])).toEqual(intact);
      expect(await store.loadChain(bystander, 'a:3')).toEqual({ packs: intact });
    });

    it(`a corrupt head (${label}) fails heads() of that actor only`, async () => {
      const { store, victim, bystander, intact } = await corruptionCase(bytes);
      store.unsafeOverwritePack(victim, 'a:3', bytes);
      const name = `${victim.type}:${victim.id}`;
      await expectCorrupt(store.heads(victim), name, 'a:3');
      await expectCorrupt(store.getPacks(victim, ['a:3']), name, 'a:3');
      await expectCorrupt(store.loadChain(victim, 'a:3'), name, 'a:3');
      // The log reads the overwritten bytes too (it holds what the actor's map holds).
      await expectCorrupt(store.changesSince('2', 1), name, 'a:3');
      expect(await store.heads(bystander)).toEqual([intact[2]]);
      expect(await store.loadChain(bystander, 'a:3')).toEqual({ packs: intact });
    });
  }

  it('getPacks of an actor whose other packs are corrupt still returns the intact ones', async () => {
    const { store, victim, chain } = await corruptionCase(Buffer.from('garbage'));
    expect(await store.getPacks(victim, ['a:1'])).toEqual([chain[0]]);
    expect(await store.loadChain(victim, 'a:1')).toEqual({ packs: [chain[0]] });
  });

  it('after close() every operation throws', async () => {
    const store: EventStore = new MemoryStore();
    const actor = uniqueActor();
    const pack = makePack({ actor, version: { a: 1 } });
    await store.append(pack, []);
    await store.close();
    await expect(store.append(makePack({ actor, version: { a: 2 }, parents: [{ a: 1 }] }), ['a:1'])).rejects.toThrow(/closed/);
    await expect(store.heads(actor)).rejects.toThrow(/closed/);
    await expect(store.getPacks(actor, ['a:1'])).rejects.toThrow(/closed/);
    await expect(store.loadChain(actor, 'a:1')).rejects.toThrow(/closed/);
    await expect(store.saveSnapshot(actor, { version: { a: 1 }, state: 1 })).rejects.toThrow(/closed/);
    await expect(store.commandVersions(actor, pack.commandIds[0]!)).rejects.toThrow(/closed/);
    await expect(store.changesSince(undefined, 10)).rejects.toThrow(/closed/);
    await expect(store.merge([pack])).rejects.toThrow(/closed/);
  });

  it('packCount and actorRefs report what is held', async () => {
    const store = new MemoryStore();
    const a = uniqueActor('a');
    const b = uniqueActor('b');
    await appendChain(store, makeChain(a, 2));
    await store.merge(makeChain(b, 3));
    expect(store.packCount).toBe(5);
    expect(store.actorRefs()).toEqual([a, b]);
  });
});
