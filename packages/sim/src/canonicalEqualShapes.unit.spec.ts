import { describe, expect, it } from 'vitest';
import { canonical, canonicalEqual } from './canonical.js';

/**
 * `canonicalEqual` answers "equal" without writing texts when its walk finds the values plainly
 * equal; canonicalEqual.unit.spec.ts draws plain objects, arrays and leaves. These are the shapes
 * where a walk of own keys and items could see "equal" where the texts differ (or the reverse):
 * holes, own `toJSON`, class instances, getters, typed arrays, boxed primitives, Maps, Dates,
 * `__proto__` keys, objects without a prototype, symbol keys, arrays with extra properties.
 * Each pair must get the answer comparing canonical's texts gives.
 */
class Amount {
  constructor(readonly cents: number) {}
  toJSON(): string {
    return `${this.cents}c`;
  }
}
const ownToJSON = function (this: { v: number }) {
  return this.v;
};
const withToJSON = (items: number[]): number[] => Object.assign([...items], { toJSON: () => 'x' });

const pairs: [string, unknown, unknown][] = [
  ['a hole against undefined', [1, , 3], [1, undefined, 3]],
  ['a hole against a value', [1, , 3], [1, 2, 3]],
  ['class instances (a toJSON on the prototype)', new Amount(1), new Amount(2)],
  ['class instance against its fields', new Amount(1), { cents: 1 }],
  ['own toJSON, one function, other fields', { toJSON: ownToJSON, v: 1 }, { toJSON: ownToJSON, v: 2 }],
  ['own toJSON, one function, same fields', { toJSON: ownToJSON, v: 1 }, { toJSON: ownToJSON, v: 1 }],
  ['own toJSON, two functions', { toJSON: () => 1 }, { toJSON: () => 2 }],
  ['a getter against a value', { get v() { return 1; } }, { v: 2 }],
  ['a getter against its value', { get v() { return 1; } }, { v: 1 }],
  ['dates', new Date(1), new Date(2)],
  ['boxed numbers', new Number(1), new Number(2)],
  ['a boxed string against its characters', new String('ab'), { 0: 'a', 1: 'b' }],
  ['typed arrays', new Uint8Array([1, 2]), new Uint8Array([1, 3])],
  ['a typed array against an array', new Uint8Array([1, 2]), [1, 2]],
  ['maps', new Map([[1, 2]]), new Map()],
  ['an array with a toJSON property', withToJSON([1, 2]), [1, 2]],
  ['an array with a toJSON property, other items', withToJSON([1, 2]), [1, 3]],
  ['-0 in an array', { a: [-0] }, { a: [0] }],
  ['NaN and null', [NaN], [null]],
  ['Infinity and NaN', { a: Infinity }, { a: NaN }],
  ['own __proto__ keys', JSON.parse('{"__proto__": {"a": 1}}'), JSON.parse('{"__proto__": {"a": 2}}')],
  ['no prototype', Object.assign(Object.create(null), { a: 1 }), { a: 2 }],
  ['no prototype, same fields', Object.assign(Object.create(null), { a: 1 }), { a: 1 }],
  ['undefined against a function', { a: undefined }, { a: () => 1 }],
  ['a symbol key', { [Symbol('x')]: 1, a: 1 }, { a: 1 }],
  ['index-like keys in another order', { 10: 'a', 2: 'b', x: 1 }, { x: 1, 2: 'b', 10: 'a' }],
  ['index-like keys, other values', { 10: 'a', 2: 'b' }, { 10: 'a', 2: 'c' }],
];

describe('canonicalEqual on irregular shapes', () => {
  it('answers as comparing the canonical texts does', () => {
    let equal = 0;
    for (const [name, a, b] of pairs) {
      const expected = canonical(a) === canonical(b);
      if (expected) equal++;
      expect(canonicalEqual(a, b), name).toBe(expected);
      expect(canonicalEqual(b, a), `${name} (swapped)`).toBe(expected);
    }
    // Both answers occur.
    expect(equal).toBeGreaterThan(5);
    expect(equal).toBeLessThan(pairs.length - 5);
  });

  it('throws on a cycle, as canonical does, the same object included', () => {
    const cycle = (): unknown => {
      const out: Record<string, unknown> = { a: 1 };
      out.self = out;
      return out;
    };
    const one = cycle();
    expect(() => canonical(one)).toThrow();
    expect(() => canonicalEqual(one, cycle())).toThrow();
    expect(() => canonicalEqual(one, one)).toThrow();
  });
});
