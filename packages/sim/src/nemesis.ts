import type { PartitionMode } from './options.js';
import type { Rng } from './rng.js';

/** Which one-way links are up: `down[from][to]`. Replication runs only over links that are up. */
export class Network {
  private readonly down: boolean[][];

  constructor(readonly size: number) {
    this.down = Array.from({ length: size }, () => Array.from({ length: size }, () => false));
  }

  isUp(from: number, to: number): boolean {
    return !this.down[from]![to];
  }

  /** The links that are down, as "from>to", for the trace. */
  downLinks(): string[] {
    const out: string[] = [];
    for (let a = 0; a < this.size; a++) for (let b = 0; b < this.size; b++) if (this.down[a]![b]) out.push(`${a}>${b}`);
    return out;
  }

  get partitioned(): boolean {
    return this.downLinks().length > 0;
  }

  heal(): void {
    for (const row of this.down) row.fill(false);
  }

  /** Cuts every link between the two sides, both ways. */
  split(side: readonly number[]): void {
    const inSide = new Set(side);
    for (let a = 0; a < this.size; a++) {
      for (let b = 0; b < this.size; b++) if (a !== b && inSide.has(a) !== inSide.has(b)) this.down[a]![b] = true;
    }
  }

  cut(from: number, to: number): void {
    this.down[from]![to] = true;
  }

  /**
   * Adds a partition of the given mode (on top of the links already down) and says what it did:
   * halves = a random half against the rest; majority = a minority (at most half) against a
   * majority; isolate = one replica against all; asymmetric = one direction of one link;
   * mixed = one of those at random.
   */
  partition(mode: PartitionMode, rng: Rng): { mode: PartitionMode; side?: number[]; link?: [number, number] } {
    const all = Array.from({ length: this.size }, (_, i) => i);
    const actual = mode === 'mixed' ? rng.pick(['halves', 'majority', 'isolate', 'asymmetric'] as const) : mode;
    if (actual === 'asymmetric') {
      const from = rng.int(0, this.size - 1);
      const to = (from + rng.int(1, this.size - 1)) % this.size;
      this.cut(from, to);
      return { mode: actual, link: [from, to] };
    }
    const shuffled = rng.shuffle(all);
    const size =
      actual === 'halves' ? Math.floor(this.size / 2) : actual === 'isolate' ? 1 : rng.int(1, Math.max(1, Math.floor((this.size - 1) / 2)));
    const side = shuffled.slice(0, size).sort((a, b) => a - b);
    this.split(side);
    return { mode: actual, side };
  }
}
