import { createHash } from 'node:crypto';

/** JSON with object keys sorted and undefined properties dropped: equal values give equal text. */
export function canonical(value: unknown): string {
  // Written directly (no sorted copy of every object to stringify): the same text as
  // `canonicalReference`, which anything irregular (keys that look like array indices, which
  // JSON.stringify would move first, a `toJSON` key, a bigint) still goes through.
  if (value !== null && typeof value === 'object') {
    try {
      return write(value);
    } catch (error) {
      if (error !== irregular) throw error;
    }
  }
  return canonicalReference(value);
}

/**
 * `canonical(a) === canonical(b)`, without writing either text when the values are plainly equal.
 * The checkers compare states and events by their canonical text, and writing two texts per
 * comparison was a good part of their time. A walk of both values answers "equal" only where the
 * two texts are surely the same: equal primitives (no bigint, which canonical throws on), arrays
 * of the same length with plainly equal items, objects with the same own enumerable keys and
 * plainly equal values (whichever way canonical writes them, keys that look like array indices
 * or a `toJSON` included, equal key sets with equal values give equal texts). Anything else (a
 * difference, or a shape the walk does not decide, e.g. `undefined` against a function) is
 * settled by comparing the texts, so the answer is canonical's equality exactly.
 */
export function canonicalEqual(a: unknown, b: unknown): boolean {
  return plainlyEqual(a, b) || canonical(a) === canonical(b);
}

const isEnumerable = Object.prototype.propertyIsEnumerable;

function plainlyEqual(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null) return a === b && typeof a !== 'bigint';
  if (typeof b !== 'object' || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!plainlyEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    if (!isEnumerable.call(b, key)) return false;
    if (!plainlyEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/** The definition of `canonical`'s text: JSON.stringify of a copy with every object's keys sorted. */
export function canonicalReference(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

/** Thrown by `write` when the value needs `canonicalReference` to give the same text. */
const irregular = Symbol('irregular');

function write(value: object): string {
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + (item(value[i]) ?? 'null');
    return out + ']';
  }
  const keys = Object.keys(value).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const c = key.charCodeAt(0);
    if ((c >= 48 && c <= 57) || key === 'toJSON') throw irregular;
    const text = item((value as Record<string, unknown>)[key]);
    if (text === undefined) continue;
    out += (first ? '' : ',') + JSON.stringify(key) + ':' + text;
    first = false;
  }
  return out + '}';
}

/** A value's JSON text (as JSON.stringify writes it inside an object), undefined where it writes nothing. */
function item(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      return value === null ? 'null' : write(value);
    case 'bigint':
      throw irregular;
    default:
      // undefined, a function, a symbol: left out of an object, null in an array.
      return undefined;
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : sortKeys(v)));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
