import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';

describe('Rng', () => {
  it('replays the same stream from the same seed, and another from another seed', () => {
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 20 }, () => rng.int(0, 1000));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('draws in range, shuffles into a permutation, and forks an independent stream', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 1000; i++) {
      const n = rng.int(2, 5);
      expect(n).toBeGreaterThanOrEqual(2);
      expect(n).toBeLessThanOrEqual(5);
      const f = rng.float();
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
    }
    expect(rng.shuffle([1, 2, 3, 4, 5]).sort()).toEqual([1, 2, 3, 4, 5]);
    const a = new Rng(3);
    const b = new Rng(3);
    a.fork().int(0, 10);
    b.fork();
    expect(a.int(0, 1e6)).toBe(b.int(0, 1e6));
  });

  it('spreads the first draws of consecutive seeds (swarm options are not a function of seed mod 4)', () => {
    const firsts = Array.from({ length: 16 }, (_, seed) => new Rng(seed).int(2, 5));
    expect(new Set(firsts).size).toBeGreaterThan(2);
    expect(firsts.slice(0, 4)).not.toEqual(firsts.slice(4, 8));
  });
});
