import { type MergeContext, type PayloadValidator, type EmittedEvent, defineActor, reject } from '@troupe/runtime';

/**
 * A bank account that keeps accepting deposits and withdrawals on every replica while the network
 * is partitioned.
 *
 * Locally a withdrawal never takes the balance below zero ('insufficient funds'). But two replicas
 * that cannot see each other can both spend the same money; when their branches are merged the
 * balance can end up negative. Nothing acknowledged is undone: instead the merge records the
 * overdraft with one compensation event, `overdraftCharged`, which charges a flat fee once per
 * overdraft episode and sets `overdrawn` to the amount the holder now owes.
 *
 * Amounts are integer cents: 1 to `amountMax` per command, and a deposit may not take the balance
 * above `balanceMax`, so balances are exact integers (#14: two deposits of 1e308 used to make the
 * balance Infinity); see `balanceMax` for what merges can add. The fee is `overdraftFee` cents.
 */

/** Charged once when a merge finds the account overdrawn and no overdraft was recorded yet, in cents. */
export const overdraftFee = 10;

/** Largest amount of one deposit or withdrawal, in cents (10 billion units of currency). */
export const amountMax = 1_000_000_000_000;

/**
 * Largest balance a deposit may reach, in cents. A merge adds up the deposits the branches made
 * concurrently, so a merged balance can pass it by what the other branches deposited meanwhile;
 * passing Number.MAX_SAFE_INTEGER (9 × 10^15) would take thousands of maximal deposits on several
 * branches between merges, repeatedly. Not a hard bound across merges: a practical one.
 */
export const balanceMax = 1_000_000_000_000_000;

/** Longest owner name accepted by `open`. */
export const ownerLengthMax = 100;

export interface AccountState {
  /** True once `opened` was applied. */
  readonly open: boolean;
  /** Owner given at opening; null before. */
  readonly owner: string | null;
  /** Current balance, fees included. Only a merge can take it below zero. */
  readonly balance: number;
  /**
   * Recorded overdraft still owed: 0 when none. Always between 0 and max(0, -balance). It equals
   * -balance after an `overdraftCharged`, and deposits pay it down. When it is less than
   * -balance, part of the debt is not recorded yet: `onMerge` records it.
   */
  readonly overdrawn: number;
  /** Total overdraft fees charged so far (already subtracted from the balance). */
  readonly feesCharged: number;
}

export type AccountCommands = {
  open: { readonly owner: string };
  deposit: { readonly amount: number };
  withdraw: { readonly amount: number };
};

export type AccountEvents = {
  opened: { readonly owner: string };
  deposited: { readonly amount: number };
  withdrew: { readonly amount: number };
  /**
   * Compensation written by a merge: `fee` is subtracted from the balance and the recorded
   * overdraft is set from the resulting balance (set, never added, so replaying the event on a
   * state that already records the overdraft records nothing twice). `overdrawn` is the overdraft
   * the merge saw, for readers; the fold recomputes it from the balance.
   */
  overdraftCharged: { readonly overdrawn: number; readonly fee: number };
};

export type AccountEvent = EmittedEvent<AccountEvents>;

export const initialAccount = (): AccountState => ({ open: false, owner: null, balance: 0, overdrawn: 0, feesCharged: 0 });

/** True when the account owes money (balance below zero). */
export function isOverdrawn(state: AccountState): boolean {
  return state.balance < 0;
}

/** The part of a negative balance that no `overdraftCharged` has recorded yet; 0 when none. */
export function unrecordedOverdraft(state: AccountState): number {
  return Math.max(0, -state.balance - state.overdrawn);
}

/**
 * The compensation for a merged state: nothing when the balance is not negative or the overdraft
 * is already recorded in full; otherwise one `overdraftCharged` recording it, with the fee when no
 * overdraft was recorded before (a new episode) and without it when an earlier merge already
 * recorded part of it. Pure: reads only the state.
 */
export function overdraftCompensation(merged: AccountState): AccountEvent[] {
  if (unrecordedOverdraft(merged) === 0) return [];
  const fee = merged.overdrawn > 0 ? 0 : overdraftFee;
  return [{ type: 'overdraftCharged', data: { overdrawn: -(merged.balance - fee), fee } }];
}

// ---------------------------------------------------------------------------------------------
// Run-time payload validation (commands arrive from the network, types are not enough).

function fieldsProblem(payload: unknown, allowed: readonly string[]): string | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return `payload must be an object with ${allowed.map((f) => `'${f}'`).join(', ')}`;
  }
  const unexpected = Object.keys(payload).filter((key) => !allowed.includes(key));
  if (unexpected.length > 0) return `unexpected field${unexpected.length > 1 ? 's' : ''} ${unexpected.map((f) => `'${f}'`).join(', ')}`;
  return undefined;
}

export const validateOpen: PayloadValidator = (payload) => {
  const problem = fieldsProblem(payload, ['owner']);
  if (problem) return problem;
  const owner = (payload as { owner?: unknown }).owner;
  if (typeof owner !== 'string' || owner.trim().length === 0) return 'owner must be a non-empty string';
  if (owner.length > ownerLengthMax) return `owner must be at most ${ownerLengthMax} characters`;
  return undefined;
};

export const validateAmount: PayloadValidator = (payload) => {
  const problem = fieldsProblem(payload, ['amount']);
  if (problem) return problem;
  const amount = (payload as { amount?: unknown }).amount;
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0 || amount > amountMax) {
    return `amount must be a whole number of cents from 1 to ${amountMax}`;
  }
  return undefined;
};

// ---------------------------------------------------------------------------------------------

export const Account = defineActor<AccountState, AccountCommands, AccountEvents>({
  type: 'account',
  initial: initialAccount,
  commands: {
    open: (state, { owner }) => (state.open ? reject('account is already open') : [{ type: 'opened', data: { owner } }]),
    deposit: (state, { amount }) => {
      if (!state.open) return reject('account is not open');
      if (state.balance + amount > balanceMax) return reject('balance limit reached');
      return [{ type: 'deposited', data: { amount } }];
    },
    withdraw: (state, { amount }) => {
      if (!state.open) return reject('account is not open');
      if (state.balance < amount) return reject('insufficient funds');
      return [{ type: 'withdrew', data: { amount } }];
    },
  },
  events: {
    // A merge can replay two `opened` (both sides opened during a partition): the first owner stays.
    opened: (state, { owner }) => ({ ...state, open: true, owner: state.open ? state.owner : owner }),
    deposited: (state, { amount }) => {
      const balance = state.balance + amount;
      return { ...state, balance, overdrawn: Math.min(state.overdrawn, Math.max(0, -balance)) };
    },
    withdrew: (state, { amount }) => ({ ...state, balance: state.balance - amount }),
    overdraftCharged: (state, { fee }) => {
      const balance = state.balance - fee;
      return { ...state, balance, overdrawn: Math.max(0, -balance), feesCharged: state.feesCharged + fee };
    },
  },
  validate: { open: validateOpen, deposit: validateAmount, withdraw: validateAmount },
  onMerge: (merged: AccountState, _ctx: MergeContext<AccountState>) => overdraftCompensation(merged),
});

export type AccountDefinition = typeof Account;
