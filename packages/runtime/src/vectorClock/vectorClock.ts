/**
 * Vector clocks name the versions of an actor. A clock maps replica ids to counters; a missing
 * entry means 0. Clocks are plain frozen-by-convention objects: every function here returns a new
 * clock and never mutates its arguments.
 */
export type VectorClock = Readonly<Record<string, number>>;

export type Ordering = 'before' | 'after' | 'equal' | 'concurrent';

export const emptyClock: VectorClock = Object.freeze({});

const hasOwn = Object.prototype.hasOwnProperty;

/** The counter of `replica` in `clock` (0 when absent). Own entries only: a replica named e.g. 'constructor' must not read Object.prototype. */
function counter(clock: VectorClock, replica: string): number {
  return hasOwn.call(clock, replica) ? clock[replica]! : 0;
}

/** The clock with `replica`'s counter one higher: the version of a write at that replica. */
export function increment(clock: VectorClock, replica: string): VectorClock {
  return { ...clock, [replica]: counter(clock, replica) + 1 };
}

/** Pointwise maximum: the least clock that is at or after both. */
export function merge(a: VectorClock, b: VectorClock): VectorClock {
  const out: Record<string, number> = { ...a };
  for (const key in b) {
    const value = b[key]!;
    if (value > counter(out, key)) out[key] = value;
  }
  return out;
}

/** Pointwise maximum of any number of clocks. */
export function mergeAll(clocks: Iterable<VectorClock>): VectorClock {
  let out: VectorClock = emptyClock;
  for (const clock of clocks) out = merge(out, clock);
  return out;
}

/** Compares two clocks in the happened-before partial order. */
export function compare(a: VectorClock, b: VectorClock): Ordering {
  let aBigger = false;
  let bBigger = false;
  for (const key in a) {
    const av = a[key]!;
    const bv = counter(b, key);
    if (av > bv) aBigger = true;
    else if (av < bv) bBigger = true;
  }
  for (const key in b) {
    if (hasOwn.call(a, key)) continue;
    if (b[key]! > 0) bBigger = true;
  }
  if (aBigger && bBigger) return 'concurrent';
  if (aBigger) return 'after';
  if (bBigger) return 'before';
  return 'equal';
}

/** True when `a` is before or equal to `b` (a ≤ b pointwise). */
export function dominatedBy(a: VectorClock, b: VectorClock): boolean {
  for (const key in a) {
    if (a[key]! > counter(b, key)) return false;
  }
  return true;
}

/** Sum of all counters: strictly grows along every parent -> child edge, so it orders causally. */
export function weight(clock: VectorClock): number {
  let total = 0;
  for (const key in clock) total += clock[key]!;
  return total;
}

/**
 * Canonical text form, usable as a key: entries sorted by replica id, zero entries dropped,
 * `replica:counter` joined by commas. Equal clocks always encode to the same string.
 */
export function encode(clock: VectorClock): string {
  // One positive entry (a clock of one replica's writes): no arrays, no sort.
  let only: string | undefined;
  let count = 0;
  for (const k in clock) {
    if (!(clock[k]! > 0) || !hasOwn.call(clock, k)) continue;
    if (++count > 1) break;
    only = k;
  }
  if (count === 0) return '';
  if (count === 1) return only! + ':' + clock[only!]!;
  // The positive own entries, sorted as they are gathered (insertion sort, code-unit order as
  // Array.prototype.sort's default: a clock has a few entries, one per replica).
  const keys: string[] = [];
  for (const k in clock) {
    if (!(clock[k]! > 0) || !hasOwn.call(clock, k)) continue;
    let i = keys.length;
    keys.push(k);
    while (i > 0 && keys[i - 1]! > k) {
      keys[i] = keys[i - 1]!;
      i--;
    }
    keys[i] = k;
  }
  let out = '';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    out += (i === 0 ? '' : ',') + k + ':' + clock[k]!;
  }
  return out;
}

const replicaIdPattern = /^[A-Za-z0-9_.-]+$/;

/** True when `id` can be a replica id (it must survive the canonical encoding unambiguously). */
export function isValidReplicaId(id: string): boolean {
  // '__proto__' cannot be an own key of a plain object assigned with `clock[id] = n`.
  return id.length > 0 && id.length <= 64 && replicaIdPattern.test(id) && id !== '__proto__';
}

/** Parses the canonical form back; throws on anything `encode` would not have produced. */
export function decode(text: string): VectorClock {
  const out: Record<string, number> = {};
  if (text === '') return out;
  let previous: string | undefined;
  for (const part of text.split(',')) {
    const colon = part.lastIndexOf(':');
    const key = part.slice(0, colon);
    const digits = part.slice(colon + 1);
    const value = Number(digits);
    if (colon <= 0 || !isValidReplicaId(key) || !Number.isSafeInteger(value) || value <= 0) {
      throw new Error(`not a vector clock: '${text}'`);
    }
    // Sorted keys (`encode`'s order: code units), no duplicates, plain decimal counters: only what
    // `encode` writes is accepted (checked as it is read, without encoding the clock again).
    if ((previous !== undefined && !(previous < key)) || String(value) !== digits) {
      throw new Error(`not a vector clock: '${text}' (not in canonical form)`);
    }
    previous = key;
    out[key] = value;
  }
  return out;
}
