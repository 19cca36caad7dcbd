import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { CorruptDataError, MemoryStore, ReplicationLink, createRuntime } from '../index.js';
import { Ledger, makePack } from '../testkit/index.js';
import { fnv1a32Bytes, packFingerprint } from '../model/index.js';
import { decodePack, decodeValue, encodePack, encodeValue, fingerprintBytes, formatVersion, packFormatVersion } from './index.js';

const pack = makePack({ actor: { type: 'ledger', id: 'a' }, version: { r: 3 }, parents: [{ r: 2 }] });
const legacyPacker = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: true });

function flipped(bytes: Uint8Array, index: number, bit: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[index]! ^= 1 << bit;
  return copy;
}

describe('checksums on every read (#14 guard rail 9)', () => {
  it('writes packs and values with a CRC-32 trailer in formats 4 and 3', () => {
    expect(encodePack(pack)[0]).toBe(packFormatVersion);
    expect(encodeValue({ a: 1 })[0]).toBe(formatVersion);
    expect([formatVersion, packFormatVersion]).toEqual([3, 4]);
  });

  it('any single flipped bit in a stored pack or value is a CorruptDataError naming the key', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0, max: 7 }), fc.jsonValue(), (at, bit, state) => {
        for (const [bytes, decode] of [
          [encodePack(pack), (b: Uint8Array) => decodePack(b, 'troupe:{t.0}:ledger:a:p field r:3')],
          [encodeValue(state), (b: Uint8Array) => decodeValue(b, 'troupe:{t.0}:ledger:a:s field r:3')],
        ] as const) {
          const index = at % bytes.length;
          let error: unknown;
          try {
            decode(flipped(bytes, index, bit));
          } catch (e) {
            error = e;
          }
          expect(error, `byte ${index} bit ${bit}`).toBeInstanceOf(CorruptDataError);
          expect((error as CorruptDataError).message).toContain('field r:3');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('names the checksum mismatch when a body byte changed', () => {
    const bytes = encodePack(pack);
    const error = (() => {
      try {
        decodePack(flipped(bytes, 5, 0), 'pack ledger:a@r:3');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toMatch(/pack ledger:a@r:3: checksum mismatch \(stored [0-9a-f]{8}, computed [0-9a-f]{8}/);
  });

  it('still reads records written before checksums (formats 1 and 2)', () => {
    const plain = Buffer.concat([Buffer.of(1), legacyPacker.pack({ a: [1, 'x'] })]);
    expect(decodeValue(plain, 'old snapshot')).toEqual({ a: [1, 'x'] });
    const current = encodePack(pack);
    const compact = Buffer.concat([Buffer.of(2), current.subarray(1, current.length - 4)]);
    expect(decodePack(compact, 'old pack')).toEqual(pack);
  });

  it("a command pack's fingerprint is the one a store of the release before checksums computed (no false VersionCollisionError across releases)", () => {
    const current = encodePack(pack);
    const legacy = Buffer.concat([Buffer.of(2), current.subarray(1, current.length - 4)]);
    expect(fingerprintBytes(current)).toEqual(legacy);
    expect(packFingerprint(pack, current)).toBe(fnv1a32Bytes(legacy).toString(16).padStart(8, '0'));
  });

  it('a corrupt snapshot in a store stops the load with CorruptDataError instead of folding a wrong state', async () => {
    const store = new MemoryStore();
    const rt = createRuntime({ actors: [Ledger], store });
    for (let n = 1; n <= 4; n++) await rt.send(Ledger.ref('a'), { type: 'deposit', payload: { n } }); // snapshotEvery 4
    await rt.stop();
    // Corrupt the snapshot's bytes as a disk or a bad copy would (the store holds the state decoded: its encoding, flipped, goes in its place).
    const record = (store as unknown as { actors: Map<string, { snapshots: Map<string, unknown> }> }).actors.get('ledger:a')!;
    const [key, state] = [...record.snapshots][0]!;
    const bytes = encodeValue(state);
    store.unsafeOverwriteSnapshot(Ledger.ref('a'), key, flipped(bytes, bytes.length - 6, 3));
    const reader = createRuntime({ actors: [Ledger], store });
    await expect(reader.inspect(Ledger.ref('a'))).rejects.toBeInstanceOf(CorruptDataError);
    await reader.stop();
    // Replication does not spread it either.
    const other = createRuntime({ actors: [Ledger], replicaId: 'other' });
    await expect(new ReplicationLink({ store, resolve: async () => undefined }, other).settle()).rejects.toBeInstanceOf(CorruptDataError);
    await other.stop();
  });
});
