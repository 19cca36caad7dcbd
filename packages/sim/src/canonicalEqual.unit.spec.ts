import { describe, expect, it } from 'vitest';
import { canonical, canonicalEqual } from './canonical.js';
import { lcg } from './testing/lcg.js';

/** A small seeded generator (deterministic test input). */
const keyPool = ['a', 'b', 'B', '', '1', '01', 'toJSON', '__x'];
const leafPool: unknown[] = [0, -0, 1, 1.5, NaN, Infinity, -Infinity, 'x', '', true, false, null, undefined, () => 1, Symbol('s'), 1n];

function randomValue(rand: () => number, depth: number): unknown {
  const r = rand();
  if (depth <= 0 || r < 0.4) return leafPool[Math.floor(rand() * leafPool.length)];
  if (r < 0.6) return Array.from({ length: Math.floor(rand() * 3) }, () => randomValue(rand, depth - 1));
  if (r < 0.63) return new Date(Math.floor(rand() * 1e12));
  const out: Record<string, unknown> = {};
  const n = Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) out[keyPool[Math.floor(rand() * keyPool.length)]!] = randomValue(rand, depth - 1);
  return out;
}

/** A copy of `value` with its object keys in reverse order, sometimes with one leaf changed. */
function variant(rand: () => number, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => variant(rand, v));
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).reverse()) out[key] = variant(rand, (value as Record<string, unknown>)[key]);
    return out;
  }
  return rand() < 0.1 ? leafPool[Math.floor(rand() * leafPool.length)] : value;
}

/** canonical's equality, a throw included (a bigint): what `canonicalEqual` must answer. */
function textEqual(a: unknown, b: unknown): boolean | 'throws' {
  try {
    return canonical(a) === canonical(b);
  } catch {
    return 'throws';
  }
}

function answer(a: unknown, b: unknown): boolean | 'throws' {
  try {
    return canonicalEqual(a, b);
  } catch {
    return 'throws';
  }
}

describe('canonicalEqual', () => {
  it('answers exactly as comparing the canonical texts does, for any pair of values', () => {
    const rand = lcg(23);
    let equal = 0;
    let differ = 0;
    for (let i = 0; i < 20_000; i++) {
      const a = randomValue(rand, 3);
      const b = rand() < 0.7 ? variant(rand, a) : randomValue(rand, 3);
      const expected = textEqual(a, b);
      expect(answer(a, b), `${String(canonical.name)} of pair ${i}`).toBe(expected);
      if (expected === true) equal++;
      if (expected === false) differ++;
    }
    // Both answers were exercised many times.
    expect(equal).toBeGreaterThan(2_000);
    expect(differ).toBeGreaterThan(2_000);
  });

  it('tells states apart that differ anywhere, and not those that differ only in key order or undefined properties', () => {
    expect(canonicalEqual({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toBe(true);
    expect(canonicalEqual({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [2, 1] } })).toBe(false);
    expect(canonicalEqual({ a: 1, u: undefined }, { a: 1 })).toBe(true);
    expect(canonicalEqual([undefined], [null])).toBe(true);
    expect(canonicalEqual({ n: NaN }, { n: null })).toBe(true);
    expect(canonicalEqual({ n: 0 }, { n: -0 })).toBe(true);
    expect(canonicalEqual({ n: 1 }, { n: '1' })).toBe(false);
    expect(() => canonicalEqual({ n: 1n }, { n: 1n })).toThrow(TypeError);
  });
});
