/**
 * The codec's fast path (#17): plain data is copied instead of round-tripped through msgpack. For
 * any value, what `canonicalBounded`, `canonicalInputBounded` and `canonicalFrozen` return is
 * exactly what the round trip (`canonical`, `canonicalInput`) returns: same values (-0 and NaN
 * included), same key order, same refusals; the size they report bounds the encoded size from
 * above; the frozen form is deep-frozen and the argument is left unfrozen.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonical, canonicalBounded, canonicalFrozen, canonicalInput, canonicalInputBounded, canonicalSized } from './index.js';

/** Same structure, same values (Object.is), same own key order, same prototypes. */
function expectSame(actual: unknown, expected: unknown, path = '$'): void {
  if (expected === null || typeof expected !== 'object') {
    expect(Object.is(actual, expected), `${path}: ${String(actual)} vs ${String(expected)}`).toBe(true);
    return;
  }
  expect(typeof actual, path).toBe('object');
  expect(Object.getPrototypeOf(actual), path).toBe(Object.getPrototypeOf(expected));
  if (expected instanceof Set || expected instanceof Map || expected instanceof Date || ArrayBuffer.isView(expected)) {
    expect(actual, path).toEqual(expected);
    return;
  }
  expect(Object.keys(actual as object), path).toEqual(Object.keys(expected));
  for (const key of Object.keys(expected)) expectSame((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], `${path}.${key}`);
}

function isDeepFrozen(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  return Object.isFrozen(value) && Object.keys(value).every((key) => isDeepFrozen((value as Record<string, unknown>)[key]));
}

function outcome<T>(f: () => T): { ok: true; value: T } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, error };
  }
}

const values = fc.oneof(
  fc.anything({ withNullPrototype: true, withBigInt: false, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withBoxedValues: false, withObjectString: true }),
  fc.jsonValue(),
  fc.constantFrom<unknown>(-0, [-0], { a: -0 }, 'a\ud800', { 'b\udc00': 1 }, [undefined], { a: undefined }, JSON.parse('{"__proto__":{"x":1}}'), [1, , 2], 2 ** 60, -(2 ** 53), NaN),
);

describe('the codec fast path equals the msgpack round trip', () => {
  it('canonicalBounded and canonicalFrozen: the same value as canonical, a bound of the size, deep-frozen copies', () => {
    fc.assert(
      fc.property(values, (value) => {
        const expected = outcome(() => canonicalSized(value));
        const bounded = outcome(() => canonicalBounded(value));
        expect(bounded.ok).toBe(expected.ok);
        if (!expected.ok || !bounded.ok) return;
        expectSame(bounded.value.value, expected.value.value);
        expect(bounded.value.bound).toBeGreaterThanOrEqual(expected.value.bytes);
        const frozen = canonicalFrozen(value);
        if (frozen) {
          expectSame(frozen.value, canonical(value));
          expect(isDeepFrozen(frozen.value)).toBe(true);
        }
        if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) expect(Object.isFrozen(value)).toBe(false);
      }),
      { numRuns: 2_000 },
    );
  });

  it('canonicalInputBounded: the same value or the same refusal as canonicalInput', () => {
    fc.assert(
      fc.property(values, (value) => {
        const expected = outcome(() => canonicalInput(value));
        const bounded = outcome(() => canonicalInputBounded(value));
        expect(bounded.ok).toBe(expected.ok);
        if (!expected.ok || !bounded.ok) {
          if (!expected.ok && !bounded.ok) expect((bounded.error as Error).message).toBe((expected.error as Error).message);
          return;
        }
        expectSame(bounded.value.value, expected.value.value);
        expect(bounded.value.bound).toBeGreaterThanOrEqual(expected.value.bytes);
      }),
      { numRuns: 2_000 },
    );
  });

  it('copies: the result shares no object with the argument', () => {
    const value = { a: { b: [1, { c: 'x' }] } };
    const { value: copy } = canonicalBounded(value);
    expect(copy).toEqual(value);
    expect(copy).not.toBe(value);
    expect(copy.a).not.toBe(value.a);
    expect(copy.a.b[1]).not.toBe(value.a.b[1]);
    expect(canonicalFrozen(new Set([1]))).toBeUndefined();
    expect(canonicalFrozen({ at: new Date(0) })).toBeUndefined();
  });
});
