import type { ProjectionDefinition, ViewRows } from './defineProjection.js';

/**
 * The pure heart of a view: each actor's contribution (its rows), and per key the rows combined
 * over the actors contributing to it. Replacing an actor's contribution retracts its old rows and
 * applies its new ones; a key's value is recombined from its contributors, so any commutative,
 * associative `combine` works (no inverse needed).
 */
export class ViewState<Row> {
  /** actor key → its rows. */
  private readonly contributions = new Map<string, Map<string, Row>>();
  /** row key → its contributors, kept sorted by actor key (an actor's row inserted, replaced or removed in place, never re-sorted). */
  private readonly contributors = new Map<string, Contributors<Row>>();
  private readonly values = new Map<string, Row>();
  private snapshot: ReadonlyMap<string, Row> | undefined;

  constructor(private readonly projection: Pick<ProjectionDefinition<Row>, 'combine'>) {}

  /** Replaces `actor`'s rows; returns the keys whose value changed (or appeared, or went). */
  replace(actor: string, rows: ViewRows<Row>): string[] {
    const next = new Map<string, Row>();
    for (const [key, row] of rows) next.set(String(key), row);
    const previous = this.contributions.get(actor);
    if (next.size === 0) this.contributions.delete(actor);
    else this.contributions.set(actor, next);
    const changed: string[] = [];
    // The keys touched: the previous rows' keys, then the new ones (in that order). A key whose
    // row is the very same value as before keeps its combined value: nothing to recombine.
    if (previous) {
      for (const [key, before] of previous) {
        if (!next.has(key)) this.update(key, actor, false, undefined, changed);
        else {
          const row = next.get(key) as Row;
          if (!Object.is(before, row)) this.update(key, actor, true, row, changed);
        }
      }
    }
    for (const [key, row] of next) if (!previous?.has(key)) this.update(key, actor, true, row, changed);
    if (changed.length > 0) this.snapshot = undefined;
    return changed;
  }

  /** The rows of every key, as an immutable snapshot (a new object only after a change). */
  current(): ReadonlyMap<string, Row> {
    this.snapshot ??= Object.freeze(new Map([...this.values.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))) as ReadonlyMap<string, Row>;
    return this.snapshot;
  }

  /** Puts (`present`) or removes `actor`'s row of `key`, recombines the key, and notes it in `changed` when its value changed. */
  private update(key: string, actor: string, present: boolean, row: Row | undefined, changed: string[]): void {
    let holders = this.contributors.get(key);
    if (present) {
      if (!holders) this.contributors.set(key, (holders = { actors: [actor], rows: [row as Row] }));
      else {
        const i = lowerBound(holders.actors, actor);
        if (holders.actors[i] === actor) holders.rows[i] = row as Row;
        else {
          holders.actors.splice(i, 0, actor);
          holders.rows.splice(i, 0, row as Row);
        }
      }
    } else if (holders) {
      const i = lowerBound(holders.actors, actor);
      if (holders.actors[i] === actor) {
        holders.actors.splice(i, 1);
        holders.rows.splice(i, 1);
      }
      if (holders.actors.length === 0) {
        this.contributors.delete(key);
        holders = undefined;
      }
    }
    const before = this.values.get(key);
    const had = before !== undefined || this.values.has(key);
    if (holders === undefined) {
      this.values.delete(key);
      if (had) changed.push(key);
      return;
    }
    const value = this.combineRows(holders.rows);
    this.values.set(key, value);
    if (!had || !sameRow(before, value)) changed.push(key);
  }

  /** The rows combined in their contributors' order (actor keys sorted), so the result never depends on arrival order. */
  private combineRows(rows: readonly Row[]): Row {
    const combine = this.projection.combine;
    let row = rows[0] as Row;
    if (!combine) return row;
    for (let i = 1; i < rows.length; i++) row = combine(row, rows[i] as Row);
    return row;
  }
}

interface Contributors<Row> {
  /** Sorted (`<` on strings: the order of `Array.prototype.sort`'s default). */
  readonly actors: string[];
  /** `rows[i]` is `actors[i]`'s row of the key. */
  readonly rows: Row[];
}

/** The first index whose actor is not below `actor`. */
function lowerBound(actors: readonly string[], actor: string): number {
  let lo = 0;
  let hi = actors.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (actors[mid]! < actor) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Rows compared by value (JSON-like data), so an unchanged recomputation notifies nobody. */
function sameRow(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}
