import { type ProjectionDefinition, type ViewRows, defineProjection } from '@troupe/runtime';
import { Account, type AccountState } from './account.js';

/**
 * The bank's views (#16): rows derived from each account's state at its head, combined per key.
 * Because they read states, not events, a view kept up to date by a `MemoryView` is corrected when
 * a merge rewrites an account's history after a partition: the account's old rows are retracted
 * and the rows of its merged state (compensation included) applied, so every replica's view ends
 * equal to the view computed from scratch (`viewFromScratch`).
 */

/** A row of `balancesByOwner`: what one owner holds across their accounts. */
export interface OwnerBalance {
  /** Sum of the balances of the owner's open accounts, in cents (negative when overdrawn). */
  readonly balance: number;
  /** How many open accounts the owner has. */
  readonly accounts: number;
}

/** The rows one account contributes to `balancesByOwner`: none before it is opened. */
export function ownerBalanceRows(state: AccountState): ViewRows<OwnerBalance> {
  if (!state.open || state.owner === null) return [];
  return [[state.owner, { balance: state.balance, accounts: 1 }]];
}

/** Adds up two owners' rows under one key (commutative and associative, as a view needs). */
export function addOwnerBalances(a: OwnerBalance, b: OwnerBalance): OwnerBalance {
  return { balance: a.balance + b.balance, accounts: a.accounts + b.accounts };
}

/**
 * Balance per owner: key = the owner given at opening, row = the total balance of that owner's
 * accounts and their count. An account opened on both sides of a partition keeps the first owner
 * after the merge (see `Account`), and the view follows: its row moves to that owner.
 */
export const balancesByOwner: ProjectionDefinition<OwnerBalance> = defineProjection({
  name: 'balances-by-owner',
  version: 1,
  from: [Account],
  rows: (_account, state) => ownerBalanceRows(state),
  combine: addOwnerBalances,
});

/** The key of the sum of every recorded overdraft in `overdrafts`; an account's key always starts with `account:`. */
export const overdraftTotalKey = 'total';

/** The key of one account's row in `overdrafts`: its actor key, `account:<id>`. */
export function overdraftKey(accountId: string): string {
  return `${Account.type}:${accountId}`;
}

/**
 * The rows one account contributes to `overdrafts`: its recorded overdraft (`overdrawn`, set by the
 * `overdraftCharged` compensation and paid down by deposits) under its own key and under the total;
 * none while nothing is recorded. Part of a negative balance that no merge has recorded yet is not
 * an overdraft here (see `unrecordedOverdraft`).
 */
export function overdraftRows(accountId: string, state: AccountState): ViewRows<number> {
  if (state.overdrawn <= 0) return [];
  return [
    [overdraftKey(accountId), state.overdrawn],
    [overdraftTotalKey, state.overdrawn],
  ];
}

/**
 * Overdrafts: key `account:<id>` = the overdraft recorded for that account, in cents (only accounts
 * with one), and key `total` = their sum (absent when no account has one).
 */
export const overdrafts: ProjectionDefinition<number> = defineProjection({
  name: 'overdrafts',
  version: 1,
  from: [Account],
  rows: (account, state) => overdraftRows(account.id, state),
  combine: (a: number, b: number) => a + b,
});

/** Every view this app defines. */
export const bankProjections = [balancesByOwner, overdrafts] as const;
