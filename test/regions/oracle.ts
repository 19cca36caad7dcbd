import { isDeepStrictEqual } from 'node:util';
import type { EventRecord, EventStore, MergeRecord, Pack } from '@troupe/runtime';
import { computeMerge, fold } from '@troupe/runtime/resolution';
import { VC, isMergeLog } from '@troupe/runtime/store';
import { Account, type AccountState, overdraftFee, unrecordedOverdraft } from '@troupe/bank';
import type { SentCommand } from './bankClient.js';
import type { AccountView } from './convergence.js';
import { readOnly } from './readOnly.js';

/** One verdict of the oracle: what was checked, and whether it held. */
export interface Check {
  readonly ok: boolean;
  readonly what: string;
}

/**
 * An account's history at its single head, in the order it is folded: a command pack is its
 * parent's history plus its events; a merge pack is its common ancestor's history, plus the
 * replayed branch events, plus its own compensations (the compensations of merges it covers are
 * recomputed by it, not replayed).
 */
export async function linearHistory(store: EventStore, account: string): Promise<EventRecord[]> {
  const reader = readOnly(store);
  const ref = Account.ref(account);
  const heads = await reader.heads(ref);
  if (heads.length !== 1) throw new Error(`expected one head for account:${account}, found ${heads.length}`);
  const upTo = async (pack: Pack): Promise<EventRecord[]> => {
    if (pack.kind === 'merge') {
      const outcome = await computeMerge(reader, Account, ref, [pack]);
      const before = outcome.ancestor ? await upTo(outcome.ancestor) : [];
      return [...before, ...outcome.replayed, ...pack.events];
    }
    const parent = pack.parents[0];
    if (parent === undefined) return [...pack.events];
    const [parentPack] = await reader.getPacks(ref, [VC.encode(parent)]);
    if (!parentPack) throw new Error(`account:${account}: missing pack ${VC.encode(parent)}`);
    return [...(await upTo(parentPack)), ...pack.events];
  };
  return upTo(heads[0]!);
}

/** What the oracle found for one account (for reports). */
export interface AccountOutcome {
  readonly account: string;
  readonly accepted: number;
  readonly rejected: number;
  /** `overdraftCharged` events in the converged history. */
  readonly compensations: number;
  readonly state: AccountState;
  /** Merge records each region wrote for it. */
  readonly merges: Readonly<Record<string, readonly MergeRecord[]>>;
}

export interface OracleInput {
  readonly stores: ReadonlyMap<string, EventStore>;
  /** The converged views (`waitForConvergence`). */
  readonly views: readonly AccountView[];
  /** Every command every client sent. */
  readonly sent: readonly SentCommand[];
  readonly accounts: readonly string[];
  /** Accounts that were double spent and never paid back: each must end with exactly one fee-charging compensation. */
  readonly doubleSpent: readonly string[];
}

/**
 * Checks the converged regions against what the clients were told, with nothing taken from the
 * replicators' own reports: every send has its reply; every accepted command is applied exactly
 * once in every region (its id once over the actor's packs, its events once in the folded
 * history); the balance is what the accepted deposits and withdrawals and the charged fees make;
 * every overdraft is recorded, by one compensation each, never twice.
 */
export async function checkRegions(input: OracleInput): Promise<{ checks: Check[]; outcomes: AccountOutcome[] }> {
  const checks: Check[] = [];
  const check = (ok: boolean, what: string) => checks.push({ ok, what });

  const lost = input.sent.filter((s) => s.reply === undefined || s.unexpected !== undefined);
  const retried = input.sent.filter((s) => s.attempts > 1);
  check(
    lost.length === 0,
    `every send got its reply (${input.sent.length} sent, ${retried.length} retried with their command id after ${retried.reduce((n, s) => n + s.errors.length, 0)} unknown outcomes` +
      (lost.length ? `; LOST: ${lost.slice(0, 5).map((s) => `${s.commandId} (${s.unexpected ?? s.errors.at(-1)})`).join(', ')}` : '') +
      ')',
  );

  const outcomes: AccountOutcome[] = [];
  const problems: Record<string, string[]> = { applied: [], history: [], balance: [], compensation: [] };
  for (const account of input.accounts) {
    const mine = input.sent.filter((s) => s.account === account && s.reply !== undefined);
    const accepted = mine.filter((s) => s.reply!.status === 'accepted');
    const rejectedIds = new Set(mine.filter((s) => s.reply!.status === 'rejected').map((s) => s.commandId));
    const acceptedIds = new Set(accepted.map((s) => s.commandId));

    // Command ids over every pack each region holds: accepted ones once, nothing else.
    for (const [region, store] of input.stores) {
      const counts = new Map<string, number>();
      for (const pack of await store.history(Account.ref(account))) for (const id of pack.commandIds) counts.set(id, (counts.get(id) ?? 0) + 1);
      for (const id of acceptedIds) if (counts.get(id) !== 1) problems.applied!.push(`${region} ${account}: accepted ${id} applied ${counts.get(id) ?? 0} times`);
      for (const [id, n] of counts) {
        if (!acceptedIds.has(id)) problems.applied!.push(`${region} ${account}: ${id} applied ${n} times but ${rejectedIds.has(id) ? 'its reply was a rejection' : 'no client was told it was accepted'}`);
      }
    }

    // The folded history: the same in every region, each accepted event once, nothing else but compensations.
    const histories = new Map<string, EventRecord[]>();
    for (const [region, store] of input.stores) histories.set(region, await linearHistory(store, account));
    const [firstRegion, history] = [...histories][0]!;
    for (const [region, other] of histories) {
      if (!isDeepStrictEqual(other.map((e) => e.id), history.map((e) => e.id))) problems.history!.push(`${account}: the history in ${region} differs from ${firstRegion}'s`);
    }
    const occurrences = new Map<string, number>();
    for (const event of history) occurrences.set(event.id, (occurrences.get(event.id) ?? 0) + 1);
    const acceptedEvents = accepted.flatMap((s) => (s.reply!.status === 'accepted' ? s.reply!.events : []));
    for (const event of acceptedEvents) if (occurrences.get(event.id) !== 1) problems.history!.push(`${account}: event ${event.id} (${event.type}) of an accepted command is ${occurrences.get(event.id) ?? 0} times in the history`);
    const known = new Set(acceptedEvents.map((e) => e.id));
    const strangers = history.filter((e) => !known.has(e.id) && e.type !== 'overdraftCharged');
    if (strangers.length > 0) problems.history!.push(`${account}: events no accepted command produced: ${strangers.map((e) => `${e.type} ${e.id}`).join(', ')}`);

    // The state: the fold of the history, and what the accepted amounts and the fees make.
    const view = input.views.find((v) => v.account === account)!;
    const state = view.state!;
    const folded = fold(Account, Account.initial(), history) as AccountState;
    if (!isDeepStrictEqual(folded, state)) problems.balance!.push(`${account}: the head's state ${JSON.stringify(state)} is not the fold of its history ${JSON.stringify(folded)}`);
    const amounts = (type: string) => accepted.filter((s) => s.command.type === type).reduce((n, s) => n + (s.command.payload as { amount: number }).amount, 0);
    const fees = history.filter((e) => e.type === 'overdraftCharged').reduce((n, e) => n + (e.data as { fee: number }).fee, 0);
    const expected = amounts('deposit') - amounts('withdraw') - fees;
    if (state.balance !== expected || state.feesCharged !== fees) {
      problems.balance!.push(`${account}: balance ${state.balance}, fees ${state.feesCharged}; the accepted commands make ${amounts('deposit')} - ${amounts('withdraw')} - ${fees} = ${expected}`);
    }

    // Compensations: each records an overdraft not recorded yet (never twice), the fee once per episode, none left unrecorded.
    let before = Account.initial() as AccountState;
    const charges = history.filter((e) => e.type === 'overdraftCharged');
    for (const event of history) {
      if (event.type === 'overdraftCharged') {
        const fee = (event.data as { fee: number }).fee;
        if (unrecordedOverdraft(before) === 0) problems.compensation!.push(`${account}: compensation ${event.id} charged an overdraft already recorded (balance ${before.balance}, overdrawn ${before.overdrawn})`);
        if (fee !== (before.overdrawn === 0 ? overdraftFee : 0)) problems.compensation!.push(`${account}: compensation ${event.id} charged a fee of ${fee} with ${before.overdrawn} already recorded as overdrawn`);
      }
      before = fold(Account, before, [event]) as AccountState;
    }
    if (unrecordedOverdraft(state) !== 0) problems.compensation!.push(`${account}: balance ${state.balance} but only ${state.overdrawn} recorded as overdrawn`);
    if (input.doubleSpent.includes(account)) {
      const feeCharges = charges.filter((e) => (e.data as { fee: number }).fee > 0).length;
      if (state.balance >= 0 || feeCharges !== 1) problems.compensation!.push(`${account}: double spent, ends at balance ${state.balance} with ${feeCharges} fee-charging compensations (expected an overdraft and exactly 1)`);
    }

    const merges: Record<string, MergeRecord[]> = {};
    for (const [region, store] of input.stores) merges[region] = isMergeLog(store) ? await store.merges(Account.ref(account)) : [];
    outcomes.push({ account, accepted: accepted.length, rejected: rejectedIds.size, compensations: charges.length, state, merges });
  }

  const acceptedTotal = outcomes.reduce((n, o) => n + o.accepted, 0);
  const line = (key: string, what: string) => check(problems[key]!.length === 0, what + (problems[key]!.length ? `: ${problems[key]!.slice(0, 6).join('; ')}${problems[key]!.length > 6 ? ` (${problems[key]!.length} problems)` : ''}` : ''));
  line('applied', `every accepted command applied exactly once in every region (${acceptedTotal} command ids counted over each region's packs), no rejected one applied`);
  line('history', 'the folded history is the same in every region, with each accepted event exactly once and nothing else but compensations');
  line('balance', 'every balance is the fold of its history and equals accepted deposits - withdrawals - fees');
  const compensated = outcomes.filter((o) => o.compensations > 0).length;
  line('compensation', `every overdraft compensated exactly once (${compensated} accounts with a compensation; ${input.doubleSpent.length} double spent, each charged one fee)`);
  return { checks, outcomes };
}
