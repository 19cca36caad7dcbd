import { createRequire } from 'node:module';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidOptionError } from '../errors/index.js';
import { FlakeIdSource, ManualClock, machineIdFor, machineIdMax, parseEventId } from './index.js';

interface FlakeIdGenerator {
  gen(): string;
}
type FlakeIdConstructor = new (options?: { mid?: number; timeOffset?: number }) => FlakeIdGenerator;

// `flakeid` is CommonJS without types.
const FlakeId = createRequire(import.meta.url)('flakeid') as FlakeIdConstructor;

const T0 = 1_700_000_000_000;

function draw(source: FlakeIdSource, n: number): string[] {
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = source.next();
  return out;
}

/** Index of the first id not strictly greater (as a string) than its predecessor, or -1. */
function firstDisorder(ids: readonly string[]): number {
  for (let i = 1; i < ids.length; i++) if (!(ids[i - 1]! < ids[i]!)) return i;
  return -1;
}

/** The id the bit layout defines: 42 bits ms, 10 bits machine, 12 bits sequence, 20 digits. */
function expectedId(ms: number, machineId: number, sequence: number): string {
  return ((BigInt(ms) << 22n) | (BigInt(machineId) << 12n) | BigInt(sequence)).toString().padStart(20, '0');
}

describe('FlakeIdSource', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('ids are strictly increasing as strings and unique over 100k ids on a moving clock', () => {
    const clock = new ManualClock(T0);
    const source = new FlakeIdSource({ machineId: 7, clock });
    const ids: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      if (i % 37 === 0) clock.advance(1);
      ids.push(source.next());
    }
    expect(firstDisorder(ids)).toBe(-1);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => /^\d{20}$/.test(id))).toBe(true);
    // String order is numeric order.
    for (let i = 1; i < ids.length; i += 997) expect(BigInt(ids[i - 1]!) < BigInt(ids[i]!)).toBe(true);
  });

  it('stays strictly increasing when the clock steps back by 10 s mid-stream, and resumes on real time later', () => {
    const clock = new ManualClock(T0);
    const source = new FlakeIdSource({ machineId: 3, clock });
    const before = draw(source, 1000);
    clock.advance(5);
    before.push(...draw(source, 1000));
    const lastMs = parseEventId(before.at(-1)!).ms;

    clock.advance(-10_000);
    const during: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      if (i % 100 === 0) clock.advance(1);
      during.push(source.next());
    }
    // Never uses the stepped-back milliseconds.
    expect(during.every((id) => parseEventId(id).ms >= lastMs)).toBe(true);

    clock.set(T0 + 60_000);
    const after = draw(source, 1000);
    expect(parseEventId(after[0]!)).toEqual({ ms: T0 + 60_000, machineId: 3, sequence: 0 });

    const all = [...before, ...during, ...after];
    expect(firstDisorder(all)).toBe(-1);
    expect(new Set(all).size).toBe(all.length);
  });

  it('borrows the next millisecond after 4096 ids in one ms, without waiting for a frozen clock', () => {
    const clock = new ManualClock(T0);
    const source = new FlakeIdSource({ machineId: 9, clock });
    const started = performance.now();
    const ids = draw(source, 3 * 4096 + 10);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(firstDisorder(ids)).toBe(-1);
    expect(parseEventId(ids[0]!)).toEqual({ ms: T0, machineId: 9, sequence: 0 });
    expect(parseEventId(ids[4095]!)).toEqual({ ms: T0, machineId: 9, sequence: 4095 });
    expect(parseEventId(ids[4096]!)).toEqual({ ms: T0 + 1, machineId: 9, sequence: 0 });
    expect(parseEventId(ids[3 * 4096 + 9]!)).toEqual({ ms: T0 + 3, machineId: 9, sequence: 9 });
    ids.forEach((id, i) => {
      if (id !== expectedId(T0 + Math.floor(i / 4096), 9, i % 4096)) throw new Error(`id ${i} is ${id}`);
    });

    // The clock then reaches a borrowed millisecond: still increasing.
    clock.advance(1);
    const more = draw(source, 5000);
    expect(firstDisorder([...ids, ...more])).toBe(-1);
  });

  it('truncates fractional milliseconds', () => {
    const clock = new ManualClock(T0 + 0.75);
    const source = new FlakeIdSource({ machineId: 1, clock });
    expect(parseEventId(source.next())).toEqual({ ms: T0, machineId: 1, sequence: 0 });
  });

  it('ids have a fixed width of 20 digits, from ms 0 to the last 42-bit millisecond', () => {
    for (const [ms, mid] of [
      [0, 0],
      [1, 1],
      [T0, 1023],
      [2 ** 41, 512],
      [2 ** 42 - 1, 1023],
    ] as const) {
      const source = new FlakeIdSource({ machineId: mid, clock: new ManualClock(ms) });
      for (const id of draw(source, 4096)) expect(id).toMatch(/^\d{20}$/);
    }
    expect(new FlakeIdSource({ machineId: 0, clock: new ManualClock(0) }).next()).toBe('00000000000000000000');
  });

  it('follows the bit layout exactly and parseEventId round-trips ms, machineId and sequence', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 42 - 2 }),
        fc.integer({ min: 0, max: machineIdMax }),
        fc.integer({ min: 1, max: 4096 }),
        (ms, machineId, count) => {
          const source = new FlakeIdSource({ machineId, clock: new ManualClock(ms) });
          for (let sequence = 0; sequence < count; sequence++) {
            const id = source.next();
            if (id !== expectedId(ms, machineId, sequence)) return false;
            const parsed = parseEventId(id);
            if (parsed.ms !== ms || parsed.machineId !== machineId || parsed.sequence !== sequence) return false;
          }
          return true;
        },
      ),
      { numRuns: 60 },
    );
  });

  it('two sources with different machine ids at the same ms never collide', () => {
    const clock = new ManualClock(T0);
    const a = new FlakeIdSource({ machineId: 1, clock });
    const b = new FlakeIdSource({ machineId: 2, clock });
    const ids = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      ids.add(a.next());
      ids.add(b.next());
    }
    expect(ids.size).toBe(20_000);
    // Including when one of them lags behind a clock step.
    clock.advance(-1000);
    const c = new FlakeIdSource({ machineId: 3, clock });
    for (let i = 0; i < 5000; i++) {
      ids.add(a.next());
      ids.add(c.next());
    }
    expect(ids.size).toBe(30_000);
  });

  it('is bit-compatible with the flakeid package', () => {
    for (const ms of [T0, 1_234_567_890_123, 2 ** 41 + 12_345, 5]) {
      vi.spyOn(Date, 'now').mockReturnValue(ms);
      for (const mid of [1, 2, 42, 511, 512, 1000, 1022]) {
        const theirs = new FlakeId({ mid });
        const ours = new FlakeIdSource({ machineId: mid, clock: new ManualClock(ms) });
        for (let i = 0; i < 300; i++) {
          const expected = theirs.gen();
          const actual = ours.next();
          if (BigInt(actual) !== BigInt(expected)) {
            throw new Error(`ms ${ms} mid ${mid} #${i}: ours ${actual}, flakeid ${expected}`);
          }
        }
      }
      vi.restoreAllMocks();
    }
    // Same number, only the padding differs.
    vi.spyOn(Date, 'now').mockReturnValue(T0);
    expect(new FlakeIdSource({ machineId: 42, clock: new ManualClock(T0) }).next()).toBe(new FlakeId({ mid: 42 }).gen().padStart(20, '0'));
  });

  it('rejects invalid machine ids with InvalidOptionError naming machineId', () => {
    for (const machineId of [-1, 1024, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
      expect(() => new FlakeIdSource({ machineId }), String(machineId)).toThrow(InvalidOptionError);
    }
    expect(() => new FlakeIdSource({ machineId: '3' as unknown as number })).toThrow(InvalidOptionError);
    expect(new FlakeIdSource({ machineId: 0 }).machineId).toBe(0);
    expect(new FlakeIdSource({ machineId: machineIdMax }).machineId).toBe(1023);
  });

  it('uses the system clock by default', () => {
    vi.spyOn(Date, 'now').mockReturnValue(T0 + 123);
    expect(parseEventId(new FlakeIdSource({ machineId: 5 }).next())).toEqual({ ms: T0 + 123, machineId: 5, sequence: 0 });
  });
});

describe('machineIdFor', () => {
  it('is deterministic and within 0..machineIdMax', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (replica) => {
        const id = machineIdFor(replica);
        return Number.isInteger(id) && id >= 0 && id <= machineIdMax && id === machineIdFor(replica);
      }),
    );
    expect(machineIdFor('eu-west-1')).not.toBe(machineIdFor('us-east-1'));
  });
});
