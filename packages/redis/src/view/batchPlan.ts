/**
 * The pure part of a Redis view's batch: from the new rows of the actors a batch touched, their
 * previous contributions and the parts of every row key involved, what to write. The same
 * semantics as the runtime's `ViewState` (an actor's contribution is replaced whole: its old rows
 * retracted, its new ones applied; a key's row is recombined from every contributor under it,
 * sorted by actor key, so any commutative, associative `combine` works and no inverse is needed),
 * computed client-side per touched key because `combine` is JavaScript: Redis only stores the
 * parts and applies the result atomically (see viewScripts.ts).
 */
import type { Contribution, Parts } from './viewCodec.js';

/** An actor the batch recomputed: its rows at `version`, and what it contributed before (undefined: nothing). */
export interface ActorRows<Row> {
  readonly actor: string;
  readonly version: string;
  readonly rows: ReadonlyMap<string, Row>;
  readonly previous: Contribution | undefined;
}

export interface BatchWrites<Row> {
  /** Every updated actor's new contribution (kept even without rows: its version answers `waitFor`). */
  readonly contributions: readonly (readonly [actor: string, contribution: Contribution])[];
  readonly partsSet: readonly (readonly [key: string, parts: Parts<Row>])[];
  readonly partsDeleted: readonly string[];
  readonly rowsSet: readonly (readonly [key: string, row: Row])[];
  readonly rowsDeleted: readonly string[];
}

/** The rows an actor contributes, keyed (a key given twice keeps its last row, as `ViewState` does). */
export function rowMap<Row>(rows: Iterable<readonly [string, Row]>): Map<string, Row> {
  const map = new Map<string, Row>();
  for (const [key, row] of rows) map.set(String(key), row);
  return map;
}

/** The row keys whose parts the batch must read: every key an updated actor contributed to before or contributes to now. */
export function affectedKeys(updates: readonly ActorRows<unknown>[]): string[] {
  const keys = new Set<string>();
  for (const update of updates) {
    for (const key of update.previous?.keys ?? []) keys.add(key);
    for (const key of update.rows.keys()) keys.add(key);
  }
  return [...keys].sort(byCodeUnits);
}

/**
 * What the batch writes. `parts` holds the stored parts of the `affectedKeys` (a key absent from
 * it has none). Each actor appears at most once in `updates`.
 */
export function planBatch<Row>(updates: readonly ActorRows<Row>[], parts: ReadonlyMap<string, Parts<Row>>, combine?: (a: Row, b: Row) => Row): BatchWrites<Row> {
  const working = new Map<string, Map<string, Row>>();
  for (const key of affectedKeys(updates)) working.set(key, new Map(parts.get(key) ?? []));
  for (const update of updates) {
    for (const key of update.previous?.keys ?? []) working.get(key)!.delete(update.actor);
    for (const [key, row] of update.rows) working.get(key)!.set(update.actor, row);
  }
  const partsSet: [string, Parts<Row>][] = [];
  const partsDeleted: string[] = [];
  const rowsSet: [string, Row][] = [];
  const rowsDeleted: string[] = [];
  for (const [key, contributors] of working) {
    if (contributors.size === 0) {
      partsDeleted.push(key);
      rowsDeleted.push(key);
      continue;
    }
    // Sorted as ViewState sorts its holders (default sort: UTF-16 code units), so without
    // `combine` the same actor's row wins, and `combine` folds in the same order.
    const sorted = [...contributors.entries()].sort(([a], [b]) => byCodeUnits(a, b));
    partsSet.push([key, sorted]);
    let row = sorted[0]![1];
    if (combine) for (const [, next] of sorted.slice(1)) row = combine(row, next);
    rowsSet.push([key, row]);
  }
  const contributions = updates.map((u) => [u.actor, { version: u.version, keys: [...u.rows.keys()].sort(byCodeUnits) }] as const);
  return { contributions, partsSet, partsDeleted, rowsSet, rowsDeleted };
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
