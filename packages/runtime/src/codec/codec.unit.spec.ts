import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineActor } from '../actor/index.js';
import { createRuntime } from '../hosting/index.js';
import { CorruptDataError } from '../errors/index.js';
import { decodePack, decodeValue, encodePack, encodeValue, formatVersion, packFormatVersion } from './index.js';
import { ReplicationLink } from '../replication/index.js';
import { MemoryStore } from '../store/index.js';
import { makePack, uniqueActor } from '../testkit/index.js';

function corruptionOf(fn: () => unknown): CorruptDataError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CorruptDataError);
    return error as CorruptDataError;
  }
  throw new Error('expected CorruptDataError, nothing was thrown');
}

/** JSON-like values (what event data and states are), without -0 which msgpack writes as 0. */
// JSON-like values; without '__proto__' keys, which msgpackr drops on decoding (it guards
// against prototype pollution): `canonical()` applies the same to payloads before they are used.
const valueArb = fc
  .jsonValue()
  .map((v) => JSON.parse(JSON.stringify(v)) as unknown)
  .filter((v) => !JSON.stringify(v).includes('"__proto__"'));

describe('codec', () => {
  it('encodeValue writes the format byte first, then msgpack', () => {
    const bytes = encodeValue({ a: 1 });
    expect(bytes[0]).toBe(formatVersion);
    expect(bytes.length).toBeGreaterThan(1);
  });

  it('decodeValue(encodeValue(x)) deep-equals x', () => {
    const samples: unknown[] = [
      null,
      true,
      false,
      0,
      -1,
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      1700000000000.0009765625,
      0.1,
      5e-324,
      '',
      'héllo ✓ 日本',
      'x'.repeat(70_000),
      [],
      [1, [2, [3, [4]]]],
      {},
      { nested: { list: [1, 'a', null, { deep: true }], n: -3.25 } },
    ];
    for (const sample of samples) expect(decodeValue(encodeValue(sample), 'sample')).toEqual(sample);
    expect(Object.is(decodeValue(encodeValue(1700000000000.0009765625), 'ts'), 1700000000000.0009765625)).toBe(true);
  });

  it('round-trips arbitrary JSON-like values', () => {
    fc.assert(
      fc.property(valueArb, (value) => {
        expect(decodeValue(encodeValue(value), 'prop')).toEqual(value);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips arbitrary doubles exactly', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }).filter((d) => !Object.is(d, -0)), (d) => Object.is(decodeValue(encodeValue(d), 'd'), d)),
      { numRuns: 500 },
    );
  });

  it('a wrong format byte is CorruptDataError naming `where`', () => {
    const bytes = Buffer.from(encodeValue({ a: 1 }));
    for (const byte of [0, 2, 0x80, 0xff]) {
      bytes[0] = byte;
      const error = corruptionOf(() => decodeValue(bytes, 'pack account:7@a:3'));
      expect(error.code).toBe('CORRUPT_DATA');
      expect(error.where).toBe('pack account:7@a:3');
      expect(error.message).toContain('pack account:7@a:3');
      expect(error.message).toContain(`format byte ${byte}`);
    }
  });

  it('empty and one-byte input is CorruptDataError naming `where`', () => {
    for (const bytes of [new Uint8Array(0), Uint8Array.of(formatVersion)]) {
      const error = corruptionOf(() => decodeValue(bytes, 'snapshot x:1@a:1'));
      expect(error.where).toBe('snapshot x:1@a:1');
      expect(error.message).toContain('snapshot x:1@a:1');
    }
  });

  it('every truncation of an encoded value is CorruptDataError naming `where`', () => {
    fc.assert(
      fc.property(valueArb, (value) => {
        const bytes = encodeValue(value);
        for (let length = 0; length < bytes.length; length++) {
          const error = corruptionOf(() => decodeValue(bytes.subarray(0, length), `cut@${length}`));
          expect(error.where).toBe(`cut@${length}`);
          expect(error.message).toContain(`cut@${length}`);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('trailing bytes after a value are CorruptDataError', () => {
    const bytes = Buffer.concat([encodeValue([1, 2]), Buffer.from([3])]);
    expect(corruptionOf(() => decodeValue(bytes, 'tail')).where).toBe('tail');
  });

  it('encodePack / decodePack round-trip a pack', () => {
    const actor = uniqueActor();
    const pack = makePack({ actor, version: { a: 2, b: 1 }, parents: [{ a: 1, b: 1 }], ts: 1700000000000.0009765625 });
    const merge = makePack({ actor, kind: 'merge', version: { a: 2, b: 2 }, parents: [{ a: 2, b: 1 }, { a: 1, b: 2 }], state: { s: [1, null] } });
    expect(decodePack(encodePack(pack), 'p')).toEqual(pack);
    expect(decodePack(encodePack(merge), 'm')).toEqual(merge);
  });

  it('decodePack rejects decodable values that are not packs, naming `where`', () => {
    const actor = uniqueActor();
    const pack = makePack({ actor, version: { a: 1 } });
    const notPacks: unknown[] = [
      null,
      42,
      'pack',
      [pack],
      {},
      { ...pack, kind: 'other' },
      { ...pack, version: 'a:1' },
      { ...pack, parents: {} },
      { ...pack, events: null },
      { ...pack, commandIds: 'cmd' },
      { ...pack, ts: '1700000000000' },
      { ...pack, actor: 'type:id' },
    ];
    for (const value of notPacks) {
      const error = corruptionOf(() => decodePack(encodeValue(value), 'pack t:1@a:1'));
      expect(error.where).toBe('pack t:1@a:1');
      expect(error.message).toContain('pack t:1@a:1');
    }
  });

  it('packs use the compact format 2, read format 1 packs too, and round-trip every event field', () => {
    const actor = uniqueActor();
    const base = makePack({ actor, version: { a: 3 }, parents: [{ a: 2 }], commandIds: ['c1', 'c2'], ts: 1700000000000.5 });
    const shared = base.events[0]!;
    const pack = {
      ...base,
      events: [
        { ...shared, causationId: 'c1', correlationId: 'c1', ts: base.ts, replica: base.replica },
        { ...shared, id: '00000000000000000002', causationId: 'c2', correlationId: 'flow-9', ts: base.ts - 1, replica: 'other', initiatedBy: 'alice' },
        { ...shared, id: '00000000000000000003', causationId: 'c1', correlationId: 'c1', data: undefined },
        { ...shared, id: '00000000000000000004', causationId: 'c1', correlationId: 'c1', data: null, initiatedBy: 'bob' },
      ],
    };
    const compact = encodePack(pack);
    expect(compact[0]).toBe(packFormatVersion);
    expect(decodePack(compact, 'p')).toEqual(pack);
    const plain = encodeValue(pack);
    expect(plain[0]).toBe(formatVersion);
    expect(decodePack(plain, 'p')).toEqual(pack);
    expect(compact.length).toBeLessThan(plain.length * 0.75);
  });

  it('a compact pack with a malformed body is CorruptDataError naming `where`', () => {
    const bodies: unknown[] = [[], ['t', 'i', 'other', {}, [], [], 'r', 1, []], ['t', 'i', 'command', {}, [], [], 'r', 1, [['id']]], ['t', 'i', 'command', { a: 'x' }, [], [], 'r', 1, []]];
    for (const body of bodies) {
      const bytes = Buffer.concat([Buffer.from([packFormatVersion]), encodeValue(body).subarray(1)]);
      expect(corruptionOf(() => decodePack(bytes, 'k f')).where).toBe('k f');
    }
  });
});

describe('codec: data through the runtime', () => {
  // R10: a state the codec cannot encode must fail the command before its pack is written.
  it('a state the codec cannot encode (a symbol) fails the send that would snapshot it, and nothing is written', async () => {
    const Sym = defineActor({
      type: 'sym',
      initial: () => ({ n: 0, tag: Symbol.for('t') as unknown }),
      commands: { add: () => [{ type: 'added', data: {} }] },
      events: { added: (s: { n: number; tag: unknown }) => ({ ...s, n: s.n + 1 }) },
      snapshotEvery: 1,
    });
    const store = new MemoryStore();
    const rt = createRuntime({ actors: [Sym], store });
    try {
      await expect(rt.send(Sym.ref('x'), { type: 'add', payload: {}, commandId: 'k' })).rejects.toThrow(/symbol/i);
    } finally {
      await rt.stop();
    }
    expect(store.packCount).toBe(0);
  });

  // R11: data msgpack does not read back the same (a lone surrogate, a Map) is held in its canonical
  // form; otherwise live and reloaded states differ, and so do the fingerprints of copied packs.
  it('data msgpack does not round-trip byte for byte replicates without a VersionCollisionError, and the live state is what replicas read back', async () => {
    const Notes = defineActor({
      type: 'notes',
      initial: () => ({ texts: [] as unknown[] }),
      commands: { write: (_s, p: { text: unknown }) => [{ type: 'written', data: { text: p.text } }] },
      events: { written: (s: { texts: unknown[] }, d: { text: unknown }) => ({ texts: [...s.texts, d.text] }) },
    });
    const eu = createRuntime({ actors: [Notes], replicaId: 'eu', machineId: 1, store: new MemoryStore() });
    const us = createRuntime({ actors: [Notes], replicaId: 'us', machineId: 2, store: new MemoryStore() });
    const reloaded = createRuntime({ actors: [Notes], replicaId: 'eu', machineId: 1, store: eu.store });
    try {
      const n = Notes.ref('n');
      await eu.send(n, { type: 'write', payload: { text: '😀'.slice(0, 1) } });
      await eu.send(n, { type: 'write', payload: { text: new Map([[1, 'one']]) } });
      await new ReplicationLink(eu, us).settle();
      const [a, b] = [await eu.inspect(n), await us.inspect(n)];
      expect(b).toEqual(a);
      // The live state holds what every replica reads back, not the caller's original objects.
      expect((await reloaded.inspect(n)).state).toEqual(a.state);
      expect((a.state as { texts: unknown[] }).texts[1]).toEqual({ 1: 'one' });
    } finally {
      await Promise.all([eu.stop(), us.stop(), reloaded.stop()]);
    }
  });
});
