import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VC, type Ordering, type VectorClock } from './index.js';

/**
 * Small alphabet so that random clocks often share replicas (and so are often ordered), with
 * separators-adjacent characters and names that exist on Object.prototype.
 */
const replicas = ['a', 'b', 'c', 'r-1', 'r.2', 'R_3', 'constructor', 'toString', 'valueOf', 'hasOwnProperty'] as const;
const replicaArb = fc.constantFrom(...replicas);

/** A plain object built by assignment, so it has Object.prototype like every real clock. */
function build(entries: readonly (readonly [string, number])[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

/** Clocks that may carry explicit zero entries. */
const clockArb: fc.Arbitrary<VectorClock> = fc
  .array(fc.tuple(replicaArb, fc.nat({ max: 4 })), { maxLength: 6 })
  .map((entries) => build(entries));

function stripZeros(clock: VectorClock): VectorClock {
  return build(Object.entries(clock).filter(([, v]) => v > 0));
}

/** The same clock with its entries in another order and some explicit zeros added. */
const variantArb = (clock: VectorClock) =>
  fc.tuple(fc.shuffledSubarray(replicas as unknown as string[]), fc.boolean()).map(([zeros, reverse]) => {
    const entries: [string, number][] = Object.entries(clock);
    for (const z of zeros) if (!Object.prototype.hasOwnProperty.call(clock, z)) entries.push([z, 0]);
    if (reverse) entries.reverse();
    return build(entries) as VectorClock;
  });

/** Reference definition of the partial order, pointwise over the union of replicas. */
function referenceCompare(a: VectorClock, b: VectorClock): Ordering {
  const get = (c: VectorClock, k: string) => (Object.prototype.hasOwnProperty.call(c, k) ? c[k]! : 0);
  let less = false;
  let greater = false;
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (get(a, k) < get(b, k)) less = true;
    if (get(a, k) > get(b, k)) greater = true;
  }
  return less && greater ? 'concurrent' : less ? 'before' : greater ? 'after' : 'equal';
}

const mirror: Record<Ordering, Ordering> = { before: 'after', after: 'before', equal: 'equal', concurrent: 'concurrent' };

function sameClock(a: VectorClock, b: VectorClock): boolean {
  return VC.compare(a, b) === 'equal';
}

/** Deep-freezes the inputs to catch mutation. */
function frozen(clock: VectorClock): VectorClock {
  return Object.freeze(build(Object.entries(clock)));
}

const runs = { numRuns: 300 };

describe('VC.compare: a partial order', () => {
  it('matches the pointwise definition', () => {
    fc.assert(fc.property(clockArb, clockArb, (a, b) => VC.compare(a, b) === referenceCompare(a, b)), { numRuns: 1000 });
  });

  it('is reflexive: every clock is equal to itself and to itself with zeros added or reordered', () => {
    fc.assert(
      fc.property(
        clockArb.chain((a) => fc.tuple(fc.constant(a), variantArb(a))),
        ([a, variant]) => VC.compare(a, a) === 'equal' && VC.compare(a, variant) === 'equal' && VC.compare(variant, a) === 'equal',
      ),
      runs,
    );
  });

  it('is antisymmetric: compare(b, a) mirrors compare(a, b)', () => {
    fc.assert(fc.property(clockArb, clockArb, (a, b) => VC.compare(b, a) === mirror[VC.compare(a, b)]), { numRuns: 1000 });
  });

  it('equal means the same non-zero entries', () => {
    fc.assert(fc.property(clockArb, clockArb, (a, b) => (VC.compare(a, b) === 'equal') === (VC.encode(a) === VC.encode(b))), { numRuns: 1000 });
  });

  it('before is transitive (random triples)', () => {
    fc.assert(
      fc.property(clockArb, clockArb, clockArb, (a, b, c) => {
        if (VC.compare(a, b) === 'before' && VC.compare(b, c) === 'before') return VC.compare(a, c) === 'before';
        return true;
      }),
      { numRuns: 2000 },
    );
  });

  it('before is transitive (constructed chains a < b < c)', () => {
    fc.assert(
      fc.property(clockArb, clockArb, clockArb, replicaArb, replicaArb, (a, d1, d2, r1, r2) => {
        const b = VC.increment(VC.merge(a, d1), r1);
        const c = VC.increment(VC.merge(b, d2), r2);
        return VC.compare(a, b) === 'before' && VC.compare(b, c) === 'before' && VC.compare(a, c) === 'before';
      }),
      runs,
    );
  });

  it('handles the obvious cases', () => {
    expect(VC.compare({}, {})).toBe('equal');
    expect(VC.compare({}, { a: 1 })).toBe('before');
    expect(VC.compare({ a: 1 }, {})).toBe('after');
    expect(VC.compare({ a: 1 }, { b: 1 })).toBe('concurrent');
    expect(VC.compare({ a: 2 }, { a: 1, b: 1 })).toBe('concurrent');
    expect(VC.compare({ a: 1, b: 0 }, { a: 1 })).toBe('equal');
    expect(VC.compare({ a: 1 }, { a: 1, b: 1 })).toBe('before');
  });

  it('replica ids named like Object.prototype members are ordinary replicas', () => {
    expect(VC.compare({}, { constructor: 1 })).toBe('before');
    expect(VC.compare({ toString: 1 }, {})).toBe('after');
    expect(VC.compare({ valueOf: 1 }, { hasOwnProperty: 1 })).toBe('concurrent');
    expect(VC.merge({}, { toString: 2 })).toEqual({ toString: 2 });
    expect(VC.merge({ constructor: 1 }, { constructor: 3 })).toEqual({ constructor: 3 });
    expect(VC.increment({}, 'valueOf')).toEqual({ valueOf: 1 });
    expect(VC.increment({ constructor: 4 }, 'constructor')).toEqual({ constructor: 5 });
    expect(VC.dominatedBy({ hasOwnProperty: 1 }, {})).toBe(false);
    expect(VC.dominatedBy({}, { hasOwnProperty: 1 })).toBe(true);
    expect(VC.weight(VC.increment({}, 'toString'))).toBe(1);
    expect(VC.decode(VC.encode({ constructor: 2, a: 1 }))).toEqual({ a: 1, constructor: 2 });
  });
});

describe('VC.merge: the least upper bound', () => {
  it('is commutative', () => {
    fc.assert(fc.property(clockArb, clockArb, (a, b) => VC.encode(VC.merge(a, b)) === VC.encode(VC.merge(b, a))), runs);
  });

  it('is associative', () => {
    fc.assert(
      fc.property(clockArb, clockArb, clockArb, (a, b, c) => VC.encode(VC.merge(VC.merge(a, b), c)) === VC.encode(VC.merge(a, VC.merge(b, c)))),
      runs,
    );
  });

  it('is idempotent', () => {
    fc.assert(fc.property(clockArb, (a) => sameClock(VC.merge(a, a), a)), runs);
  });

  it('is an upper bound of both arguments', () => {
    fc.assert(
      fc.property(clockArb, clockArb, (a, b) => {
        const m = VC.merge(a, b);
        return VC.dominatedBy(a, m) && VC.dominatedBy(b, m) && ['after', 'equal'].includes(VC.compare(m, a)) && ['after', 'equal'].includes(VC.compare(m, b));
      }),
      runs,
    );
  });

  it('is the least upper bound: any c at or after both is at or after the merge (random c)', () => {
    fc.assert(
      fc.property(clockArb, clockArb, clockArb, (a, b, c) => {
        if (VC.dominatedBy(a, c) && VC.dominatedBy(b, c)) return VC.dominatedBy(VC.merge(a, b), c);
        return true;
      }),
      { numRuns: 2000 },
    );
  });

  it('is the least upper bound (constructed upper bounds c = merge(a, b) ∨ d, then lowered where possible)', () => {
    fc.assert(
      fc.property(clockArb, clockArb, clockArb, (a, b, d) => {
        const c = VC.merge(VC.merge(a, b), d);
        // Every clock at or after both a and b dominates the merge; lowering any entry of the merge
        // below max(a, b) breaks being an upper bound.
        if (!VC.dominatedBy(VC.merge(a, b), c)) return false;
        const m = VC.merge(a, b);
        for (const k of Object.keys(m)) {
          if (m[k]! === 0) continue;
          const lowered = { ...m, [k]: m[k]! - 1 };
          if (VC.dominatedBy(a, lowered) && VC.dominatedBy(b, lowered)) return false;
        }
        return true;
      }),
      runs,
    );
  });

  it('with the empty clock is the identity; mergeAll folds merge', () => {
    fc.assert(
      fc.property(fc.array(clockArb, { maxLength: 5 }), (clocks) => {
        const folded = clocks.reduce((acc, c) => VC.merge(acc, c), VC.emptyClock);
        return sameClock(VC.mergeAll(clocks), folded) && clocks.every((c) => sameClock(VC.merge(c, VC.emptyClock), c));
      }),
      runs,
    );
  });

  it('does not mutate its arguments', () => {
    fc.assert(
      fc.property(clockArb, clockArb, replicaArb, (a, b, r) => {
        const fa = frozen(a);
        const fb = frozen(b);
        VC.merge(fa, fb);
        VC.mergeAll([fa, fb]);
        VC.increment(fa, r);
        return VC.encode(fa) === VC.encode(a) && VC.encode(fb) === VC.encode(b);
      }),
      runs,
    );
  });
});

describe('VC.increment, dominatedBy, weight', () => {
  it('increment is strictly after, and changes only that replica by one', () => {
    fc.assert(
      fc.property(clockArb, replicaArb, (a, r) => {
        const next = VC.increment(a, r);
        if (VC.compare(next, a) !== 'after' || VC.compare(a, next) !== 'before') return false;
        const before = Object.prototype.hasOwnProperty.call(a, r) ? a[r]! : 0;
        if (next[r] !== before + 1) return false;
        return Object.keys(a).every((k) => k === r || next[k] === a[k]);
      }),
      runs,
    );
  });

  it('dominatedBy agrees with compare', () => {
    fc.assert(
      fc.property(clockArb, clockArb, (a, b) => {
        const order = VC.compare(a, b);
        return VC.dominatedBy(a, b) === (order === 'before' || order === 'equal') && VC.dominatedBy(b, a) === (order === 'after' || order === 'equal');
      }),
      { numRuns: 1000 },
    );
  });

  it('weight grows by exactly one under increment', () => {
    fc.assert(fc.property(clockArb, replicaArb, (a, r) => VC.weight(VC.increment(a, r)) === VC.weight(a) + 1), runs);
  });

  it('weight strictly increases along before', () => {
    fc.assert(
      fc.property(clockArb, clockArb, (a, b) => (VC.compare(a, b) === 'before' ? VC.weight(a) < VC.weight(b) : true)),
      { numRuns: 1000 },
    );
  });

  it('weight ignores zeros and sums counters', () => {
    expect(VC.weight({})).toBe(0);
    expect(VC.weight({ a: 0 })).toBe(0);
    expect(VC.weight({ a: 2, b: 3, c: 0 })).toBe(5);
  });
});

describe('VC.encode / decode: canonical keys', () => {
  it('equal clocks encode equal, whatever the entry order and explicit zeros', () => {
    fc.assert(
      fc.property(
        clockArb.chain((a) => fc.tuple(fc.constant(a), variantArb(a))),
        ([a, variant]) => VC.encode(a) === VC.encode(variant),
      ),
      runs,
    );
  });

  it('encode is injective on clocks without zeros', () => {
    fc.assert(fc.property(clockArb, clockArb, (a, b) => (VC.encode(a) === VC.encode(b)) === sameClock(a, b)), { numRuns: 1000 });
  });

  it('decode(encode(x)) is x without its zero entries', () => {
    fc.assert(
      fc.property(clockArb, (a) => {
        expect(VC.decode(VC.encode(a))).toEqual(stripZeros(a));
      }),
      runs,
    );
  });

  it('has the documented text form', () => {
    expect(VC.encode({})).toBe('');
    expect(VC.encode({ b: 2, a: 1, c: 0 })).toBe('a:1,b:2');
    expect(VC.encode({ 'r-1': 10, R_3: 1 })).toBe('R_3:1,r-1:10');
    expect(VC.decode('')).toEqual({});
    expect(VC.decode('a:1,b:2')).toEqual({ a: 1, b: 2 });
    expect(VC.decode('r.2:9007199254740991')).toEqual({ 'r.2': Number.MAX_SAFE_INTEGER });
  });

  const malformed = [
    'a',
    'a:',
    ':1',
    'a:0',
    'a:-1',
    'a:1.5',
    'a:1.0',
    'a:01',
    'a:1e3',
    'a: 1',
    ' a:1',
    'a:1 ',
    'a:0x10',
    'a:+1',
    'a:NaN',
    'a:Infinity',
    'a:9007199254740993',
    'a::1',
    'a:1:2',
    'a:1,',
    ',a:1',
    'a:1,,b:1',
    'b:1,a:1',
    'a:1,a:2',
    'a:1,a:1',
    'a b:1',
    'a/b:1',
    'é:1',
    '__proto__:1',
    `${'x'.repeat(65)}:1`,
  ];

  it.each(malformed)('decode rejects %j', (text) => {
    expect(() => VC.decode(text)).toThrow(/not a vector clock/);
  });

  it('decode accepts exactly the strings encode produces', () => {
    const chars = fc.constantFrom('a', 'b', 'c', '1', '2', '0', ':', ',', '-', '.', ' ', '+', 'e');
    fc.assert(
      fc.property(fc.string({ unit: chars, maxLength: 12 }), (text) => {
        let decoded: VectorClock;
        try {
          decoded = VC.decode(text);
        } catch {
          return true;
        }
        return VC.encode(decoded) === text;
      }),
      { numRuns: 5000 },
    );
  });
});

describe('VC.isValidReplicaId', () => {
  it('accepts 1-64 characters of [A-Za-z0-9_.-]', () => {
    for (const id of ['a', 'Z', '0', 'eu-west-1', 'replica_2', 'r.1', 'x'.repeat(64), 'constructor', 'toString']) {
      expect(VC.isValidReplicaId(id), id).toBe(true);
    }
  });

  it('rejects empty, too long, separators, whitespace, other characters, and __proto__', () => {
    for (const id of ['', 'x'.repeat(65), 'a:b', 'a,b', 'a b', ' a', 'a\n', 'é', 'a/b', 'a@b', '__proto__']) {
      expect(VC.isValidReplicaId(id), JSON.stringify(id)).toBe(false);
    }
  });

  it('every valid replica id survives the canonical encoding, alone and among others', () => {
    const idChars = fc.constantFrom(...'abcXYZ019_.-'.split(''));
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ unit: idChars, minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 4, maxLength: 4 }),
        (ids, counters) => {
          for (const id of ids) expect(VC.isValidReplicaId(id)).toBe(true);
          const clock = build(ids.map((id, i) => [id, counters[i]!]));
          const decoded = VC.decode(VC.encode(clock));
          expect(decoded).toEqual(clock);
          expect(VC.compare(decoded, clock)).toBe('equal');
        },
      ),
      runs,
    );
  });

  it('ids with characters outside the alphabet are invalid', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 10 }), (id) => {
        const valid = /^[A-Za-z0-9_.-]{1,64}$/.test(id) && id !== '__proto__';
        return VC.isValidReplicaId(id) === valid;
      }),
      { numRuns: 1000 },
    );
  });
});
