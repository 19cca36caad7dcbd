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
  /** row key → contributing actor keys. */
  private readonly contributors = new Map<string, Set<string>>();
  private readonly values = new Map<string, Row>();
  private snapshot: ReadonlyMap<string, Row> | undefined;

  constructor(private readonly projection: Pick<ProjectionDefinition<Row>, 'combine'>) {}

  /** Replaces `actor`'s rows; returns the keys whose value changed (or appeared, or went). */
  replace(actor: string, rows: ViewRows<Row>): string[] {
    const next = new Map<string, Row>();
    for (const [key, row] of rows) next.set(String(key), row);
    const previous = this.contributions.get(actor) ?? new Map<string, Row>();
    const touched = new Set<string>([...previous.keys(), ...next.keys()]);
    if (next.size === 0) this.contributions.delete(actor);
    else this.contributions.set(actor, next);
    const changed: string[] = [];
    for (const key of touched) {
      const holders = this.contributors.get(key) ?? new Set<string>();
      if (next.has(key)) holders.add(actor);
      else holders.delete(actor);
      if (holders.size === 0) this.contributors.delete(key);
      else this.contributors.set(key, holders);
      const before = this.values.get(key);
      const had = this.values.has(key);
      const value = this.combineKey(key, holders);
      if (value === undefined) this.values.delete(key);
      else this.values.set(key, value.row);
      if (had !== (value !== undefined) || (value !== undefined && !sameRow(before, value.row))) changed.push(key);
    }
    if (changed.length > 0) this.snapshot = undefined;
    return changed;
  }

  /** The rows of every key, as an immutable snapshot (a new object only after a change). */
  current(): ReadonlyMap<string, Row> {
    this.snapshot ??= Object.freeze(new Map([...this.values.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))) as ReadonlyMap<string, Row>;
    return this.snapshot;
  }

  private combineKey(key: string, holders: ReadonlySet<string>): { row: Row } | undefined {
    if (holders.size === 0) return undefined;
    const sorted = [...holders].sort();
    const rowOf = (actor: string) => this.contributions.get(actor)!.get(key) as Row;
    const combine = this.projection.combine;
    if (!combine) return { row: rowOf(sorted[0]!) };
    let row = rowOf(sorted[0]!);
    for (const actor of sorted.slice(1)) row = combine(row, rowOf(actor));
    return { row };
  }
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
