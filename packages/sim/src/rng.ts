import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';

/**
 * The simulator's only source of randomness: xoroshiro128+ from pure-rand, seeded once per run.
 * Everything a run does (options, workload, nemesis, sync order) is drawn from it in a fixed
 * order, so a seed replays the same run.
 */
export class Rng {
  private readonly generator: JumpableRandomGenerator;

  constructor(readonly seed: number) {
    // Small consecutive seeds give correlated first draws: scramble the seed first.
    this.generator = xoroshiro128plus(mix32(seed));
  }

  /** Integer in [from, to], both included. */
  int(from: number, to: number): number {
    return uniformInt(this.generator, from, to);
  }

  /** Float in [0, 1). */
  float(): number {
    return uniformInt(this.generator, 0, 0x3fffffff) / 0x40000000;
  }

  /** True with probability p. Always draws one value, so the stream does not depend on p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('rng.pick of an empty list');
    return items[this.int(0, items.length - 1)]!;
  }

  /** A new array with the items in a random order (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /**
   * Side stream `index` (1, 2, ...) of a seed: the seed's stream jumped `index` times, independent
   * of the main stream and of the other side streams. What is drawn from it never shifts what the
   * main stream draws, so a fault kind added on a side stream leaves every run's other draws as they were.
   */
  static side(seed: number, index: number): Rng {
    let rng = new Rng(seed);
    for (let i = 0; i < index; i++) rng = rng.fork();
    return rng;
  }

  /** An independent stream (a jumped copy): draws from it never shift this one's. */
  fork(): Rng {
    const child = Object.create(Rng.prototype) as Rng;
    const generator = this.generator.clone();
    generator.jump();
    this.generator.next();
    Object.assign(child, { seed: this.seed, generator });
    return child;
  }
}

/** murmur3's 32-bit finalizer: spreads consecutive seeds over the whole state space. */
function mix32(seed: number): number {
  let h = seed | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}
