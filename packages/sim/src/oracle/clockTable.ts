import type { VectorClock } from '@troupe/runtime';

/**
 * The versions of one history as numbers, for comparing them many times over: `commandHeadsAt`
 * compares every command pack of the history with each merge's version, and doing that on the
 * clock objects (`clockAtOrBefore`: key lists, `hasOwn` lookups) was most of its cost.
 *
 * Each replica named by any version gets a slot. A version is kept twice: as its own entries
 * (slot and counter, zeros included: the entries `clockAtOrBefore` reads on its left side) and as
 * a dense row (its counter in each slot, 0 where it has no entry: `entry` on the right side).
 * `atOrBefore(a, b)` is then exactly `clockAtOrBefore(versionOf(a), versionOf(b))`.
 */
export class ClockTable {
  private readonly slots = new Map<string, number>();
  /** Row r's own entries: slot, counter, slot, counter... at `own[starts[r]]` up to `own[starts[r + 1]]`. */
  private readonly own: number[] = [];
  private readonly starts: number[] = [0];
  /** Row r's counters at `r * width` (a missing entry is 0). */
  private readonly dense: number[];
  private readonly width: number;
  /** Per row: the sum of its own entries, in their order (`clockWeight` of its version). */
  readonly weights: number[] = [];

  constructor(versions: readonly VectorClock[]) {
    for (const version of versions) {
      let weight = 0;
      for (const replica of Object.keys(version)) {
        let slot = this.slots.get(replica);
        if (slot === undefined) this.slots.set(replica, (slot = this.slots.size));
        const counter = version[replica]!;
        this.own.push(slot, counter);
        weight += counter;
      }
      this.starts.push(this.own.length);
      this.weights.push(weight);
    }
    this.width = this.slots.size;
    this.dense = new Array<number>(versions.length * this.width).fill(0);
    for (let row = 0; row < versions.length; row++) {
      for (let i = this.starts[row]!; i < this.starts[row + 1]!; i += 2) this.dense[row * this.width + this.own[i]!] = this.own[i + 1]!;
    }
  }

  /** A version from outside the table as a dense row (replicas the table has no slot for are never compared: no row has an entry there). */
  row(version: VectorClock): number[] {
    const out = new Array<number>(this.width).fill(0);
    for (const [replica, slot] of this.slots) if (Object.hasOwn(version, replica)) out[slot] = version[replica]!;
    return out;
  }

  /** Row `a`'s version is at or before the dense row `b` (`row`, or `denseRow`): no own entry of `a` exceeds b's. */
  atOrBefore(a: number, b: readonly number[], bOffset = 0): boolean {
    const own = this.own;
    for (let i = this.starts[a]!; i < this.starts[a + 1]!; i += 2) if (!(own[i + 1]! <= b[bOffset + own[i]!]!)) return false;
    return true;
  }

  /** Row `r` as a dense row (a copy). */
  denseRow(r: number): number[] {
    return this.dense.slice(r * this.width, (r + 1) * this.width);
  }

  /** Row `a` is at or before row `b`. */
  rowAtOrBefore(a: number, b: number): boolean {
    return this.atOrBefore(a, this.dense, b * this.width);
  }
}
