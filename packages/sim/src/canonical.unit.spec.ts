import { describe, expect, it } from 'vitest';
import { canonical, canonicalReference } from './canonical.js';
import { lcg } from './testing/lcg.js';

/** A small seeded generator (deterministic test input). */
const keyPool = ['a', 'b', 'B', 'é', '', ' ', 'k\\n', '\u0000', 'z'.repeat(3), '-1', '1', '10', '9', '01', 'toJSON', '__x', '\ud800'];
const leafPool: unknown[] = [0, -0, 1.5, -7, NaN, Infinity, -Infinity, 1e21, 'x', '', 'é\u2028', '\udc00', true, false, null, undefined, () => 1, Symbol('s')];

function randomValue(rand: () => number, depth: number): unknown {
  const r = rand();
  if (depth <= 0 || r < 0.45) return leafPool[Math.floor(rand() * leafPool.length)];
  if (r < 0.65) return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth - 1));
  if (r < 0.7) return new Date(Math.floor(rand() * 1e12));
  if (r < 0.72) return new Map([['a', 1]]);
  const out: Record<string, unknown> = {};
  const n = Math.floor(rand() * 5);
  for (let i = 0; i < n; i++) out[keyPool[Math.floor(rand() * keyPool.length)]!] = randomValue(rand, depth - 1);
  return out;
}

describe('canonical', () => {
  it('writes exactly the text of its definition (JSON.stringify of key-sorted copies), for any value', () => {
    const rand = lcg(17);
    for (let i = 0; i < 5_000; i++) {
      const value = randomValue(rand, 4);
      expect(canonical(value)).toBe(canonicalReference(value));
    }
  });

  it('sorts keys, drops undefined, writes null for holes and non-finite numbers', () => {
    // eslint-disable-next-line no-sparse-arrays
    expect(canonical({ b: [1, , undefined, NaN], a: { d: undefined, c: -0 } })).toBe('{"a":{"c":0},"b":[1,null,null,null]}');
    expect(canonical({ 10: 'x', 9: 'y', b: 1 })).toBe(canonicalReference({ 10: 'x', 9: 'y', b: 1 }));
    expect(() => canonical({ n: 1n })).toThrow(TypeError);
  });
});
