import type { VectorClock } from '@troupe/runtime';

/**
 * Vector clocks as the README defines them, for the oracle only (no runtime code): a missing
 * entry is 0; a version's key lists `replica:counter` sorted by replica, zeros left out.
 */

const entry = (clock: VectorClock, replica: string): number => (Object.hasOwn(clock, replica) ? clock[replica]! : 0);

/** The canonical key of a version (`r1:3,r2:5`). */
export function clockKey(clock: VectorClock): string {
  // One loop over the sorted replicas (no filter/map arrays): the oracle keys every pack and parent.
  const replicas = Object.keys(clock);
  if (replicas.length > 1) replicas.sort();
  let key = '';
  for (const replica of replicas) {
    const counter = entry(clock, replica);
    if (counter > 0) key += `${key === '' ? '' : ','}${replica}:${counter}`;
  }
  return key;
}

/** Pointwise maximum: the version of a merge of these clocks. */
export function clockMax(clocks: readonly VectorClock[]): VectorClock {
  const out: Record<string, number> = {};
  for (const clock of clocks) for (const replica of Object.keys(clock)) out[replica] = Math.max(out[replica] ?? 0, entry(clock, replica));
  return out;
}

/** `a` happened before or equals `b`: no entry of `a` exceeds `b`'s. */
export function clockAtOrBefore(a: VectorClock, b: VectorClock): boolean {
  return Object.keys(a).every((replica) => entry(a, replica) <= entry(b, replica));
}

/** Sum of the entries: grows strictly from a pack to each child, so sorting by it puts parents first. */
export function clockWeight(clock: VectorClock): number {
  let total = 0;
  for (const replica of Object.keys(clock)) total += entry(clock, replica);
  return total;
}
