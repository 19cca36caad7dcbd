/**
 * The bank's two views on one replica of the demo, following that replica's store: what the demo
 * reads, what it prints, and the changes their subscribers were told (a merge's correction among
 * them).
 */
import { isDeepStrictEqual } from 'node:util';
import { type ActorRef, type EventStore, MemoryView, viewFromScratch } from '@troupe/runtime';
import { type OwnerBalance, balancesByOwner, overdrafts } from './views.js';

/** Both views' rows on one replica at one moment. */
export interface BankViewRows {
  readonly replica: string;
  readonly balances: ReadonlyMap<string, OwnerBalance>;
  readonly overdrafts: ReadonlyMap<string, number>;
}

/** One key's row as a subscriber of a view learnt it changed (undefined: no row). */
export interface ViewRowChange {
  readonly replica: string;
  /** The projection's name: 'balances-by-owner' or 'overdrafts'. */
  readonly view: string;
  readonly key: string;
  readonly before: OwnerBalance | number | undefined;
  readonly after: OwnerBalance | number | undefined;
  /** What the demo was doing when the view changed. */
  readonly during: string;
}

/**
 * `balancesByOwner` and `overdrafts` kept by `MemoryView`s over one replica's store. An app would
 * call `start()` (the views poll the store's log); the demo has them catch up after every write to
 * the store instead (`afterEveryWrite`), so that what they see, and so its output, is the same on
 * every run.
 */
export class BankViews {
  readonly balances: MemoryView<OwnerBalance>;
  readonly overdrafts: MemoryView<number>;
  /** Every change told to the views' subscribers, in order. */
  readonly changes: ViewRowChange[] = [];
  /** What `changes` records as the demo's current activity; the demo sets it before each phase. */
  during = '';

  constructor(
    readonly replica: string,
    /** The replica's store, as the views read it (the demo's runtime writes to it through `afterEveryWrite`). */
    readonly store: EventStore,
  ) {
    this.balances = this.recorded(new MemoryView(balancesByOwner, store));
    this.overdrafts = this.recorded(new MemoryView(overdrafts, store));
  }

  /** Reads the store's log to its end, in both views. */
  async catchUp(): Promise<void> {
    await this.balances.catchUp();
    await this.overdrafts.catchUp();
  }

  rows(): BankViewRows {
    return { replica: this.replica, balances: this.balances.current, overdrafts: this.overdrafts.current };
  }

  /** Both views computed from scratch over the given accounts' histories in the same store. */
  async fromScratch(accounts: readonly ActorRef[]): Promise<BankViewRows> {
    return {
      replica: this.replica,
      balances: await viewFromScratch(balancesByOwner, this.store, accounts),
      overdrafts: await viewFromScratch(overdrafts, this.store, accounts),
    };
  }

  async stop(): Promise<void> {
    await this.balances.stop();
    await this.overdrafts.stop();
  }

  private recorded<Row extends OwnerBalance | number>(view: MemoryView<Row>): MemoryView<Row> {
    let previous: ReadonlyMap<string, Row> = view.current;
    view.subscribe(({ changed, rows }) => {
      for (const key of changed) {
        this.changes.push({ replica: this.replica, view: view.projection.name, key, before: previous.get(key), after: rows.get(key), during: this.during });
      }
      previous = rows;
    });
    return view;
  }
}


/** Whether two replicas' (or a replica's and a from-scratch) views hold the same rows. */
export function sameViewRows(a: BankViewRows, b: BankViewRows): boolean {
  return isDeepStrictEqual(a.balances, b.balances) && isDeepStrictEqual(a.overdrafts, b.overdrafts);
}

// ---------------------------------------------------------------------------------------------
// Printing

export function fmtViewRow(row: OwnerBalance | number | undefined): string {
  if (row === undefined) return 'none';
  if (typeof row === 'number') return String(row);
  return `${row.balance} (${row.accounts} account${row.accounts === 1 ? '' : 's'})`;
}

function fmtRows<Row>(rows: ReadonlyMap<string, Row>, fmt: (row: Row) => string): string {
  return rows.size === 0 ? 'none' : [...rows].map(([key, row]) => `${key} ${fmt(row)}`).join(', ');
}

/** One line per replica: its balances by owner, then its overdrafts. */
export function viewLines(views: readonly BankViewRows[]): string[][] {
  return views.map((v) => [v.replica, `balances-by-owner: ${fmtRows(v.balances, fmtViewRow)}`, `overdrafts: ${fmtRows(v.overdrafts, String)}`]);
}
