/**
 * A tiny seeded generator for specs that draw random inputs without the simulator's `Rng`: a
 * linear congruential generator (Numerical Recipes constants), uniform in [0, 1).
 */
export function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
