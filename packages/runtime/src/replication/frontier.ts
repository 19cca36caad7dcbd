import type { FrontierEntry, FrontierTable } from '../store/regionLog.js';

/** A region log cursor taken apart: `[<identity>:]<offset>[.<offset>…]` (see `RegionLog`). */
export interface ParsedCursor {
  readonly identity: string | undefined;
  readonly offsets: readonly number[];
}

/** Takes a region log cursor apart; undefined when it is not one. */
export function parseRegionCursor(cursor: string): ParsedCursor | undefined {
  const colon = cursor.lastIndexOf(':');
  if (colon === 0) return undefined; // an empty identity
  // The offsets after the identity: `.`-separated runs of 1 to 15 decimal digits (exact as
  // numbers), read in one pass (replication compares cursors after every batch it copies).
  const offsets: number[] = [];
  let value = 0;
  let digits = 0;
  for (let i = colon + 1; i <= cursor.length; i++) {
    const c = i === cursor.length ? 46 : cursor.charCodeAt(i); // the end closes the last offset like a '.'
    if (c === 46) {
      if (digits === 0) return undefined;
      offsets.push(value);
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 15) {
      value = value * 10 + (c - 48);
      digits++;
    } else return undefined;
  }
  return { identity: colon > 0 ? cursor.slice(0, colon) : undefined, offsets };
}

/**
 * Whether cursor `b` is at or past cursor `a` in the same log: same identity, same number of
 * offsets, and every offset of `b` at least `a`'s. False for cursors of different stores.
 */
export function cursorAtOrPast(b: string, a: string): boolean {
  const pa = parseRegionCursor(a);
  const pb = parseRegionCursor(b);
  if (!pa || !pb || pa.identity !== pb.identity || pa.offsets.length !== pb.offsets.length) return false;
  return pb.offsets.every((offset, i) => offset >= pa.offsets[i]!);
}

/**
 * The entry a frontier table keeps when `offered` arrives for a slot holding `held`: the offered
 * one when it is at or past the held one in the same log; when the two are of different stores
 * (the source started over: a new identity), the one saved later; the held one otherwise (a
 * stale or older entry never moves a frontier back).
 */
export function laterEntry(held: FrontierEntry | undefined, offered: FrontierEntry): FrontierEntry {
  if (!held) return offered;
  if (cursorAtOrPast(offered.cursor, held.cursor)) return offered.cursor === held.cursor && offered.at <= held.at ? held : offered;
  const ph = parseRegionCursor(held.cursor);
  const po = parseRegionCursor(offered.cursor);
  const sameLog = ph && po && ph.identity === po.identity && ph.offsets.length === po.offsets.length;
  if (!sameLog && offered.at > held.at) return offered;
  return held;
}

/** Two frontier tables merged entry by entry with `laterEntry` (neither is changed). */
export function mergeFrontierTables(a: FrontierTable, b: FrontierTable): FrontierTable {
  const merged: Record<string, Record<string, FrontierEntry>> = {};
  for (const table of [a, b]) {
    for (const [reader, row] of Object.entries(table)) {
      const into = (merged[reader] ??= {});
      for (const [source, entry] of Object.entries(row)) into[source] = laterEntry(into[source], entry);
    }
  }
  return merged;
}

/** The entries of `offered` that would change `held` when merged into it (what a store must write). */
export function frontierChanges(held: FrontierTable, offered: FrontierTable): FrontierTable {
  const changes: Record<string, Record<string, FrontierEntry>> = {};
  for (const [reader, row] of Object.entries(offered)) {
    for (const [source, entry] of Object.entries(row)) {
      const current = held[reader]?.[source];
      if (laterEntry(current, entry) !== current) (changes[reader] ??= {})[source] = entry;
    }
  }
  return changes;
}
