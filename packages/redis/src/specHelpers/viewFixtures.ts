/** The projection the view tests (and their runner processes) share. Not published. */
import { defineProjection } from '@troupe/runtime';
import { Ledger, type LedgerState } from '@troupe/runtime/testkit';

/**
 * Per ledger: how many events its state applied and its balance; across ledgers: the events
 * applied in all (`applied`: an event applied twice, or a contribution added instead of replaced,
 * shows here), the overdrafts, and how many ledgers sit in each bucket of `applied % 3` (a row
 * that moves to another key as the ledger grows: the old key must be retracted).
 */
export const Applied = defineProjection({
  name: 'applied',
  version: 1,
  from: [Ledger],
  rows: (actor, state: LedgerState) =>
    state.applied.length === 0
      ? []
      : [
          [`applied:${actor.id}`, state.applied.length],
          [`balance:${actor.id}`, state.balance],
          ['applied', state.applied.length],
          ['overdrawn', state.overdrawn],
          [`bucket:${state.applied.length % 3}`, 1],
        ],
  combine: (a: number, b: number) => a + b,
});

export { Ledger };
