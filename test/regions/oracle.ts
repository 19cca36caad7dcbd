import { isDeepStrictEqual } from 'node:util';
import type { EventRecord, EventStore, MergeRecord, Pack } from '@troupe/runtime';
import { type MergeOutcome, computeMerge, fold } from '@troupe/runtime/resolution';
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
 * An account's histories as they are folded: `at(pack)` is the history up to a pack — a command
 * pack is its parent's history plus its events; a merge pack is its common ancestor's history,
 * plus the replayed branch events, plus its own compensations (the compensations of merges it
 * covers are recomputed by it, not replayed). Read-only; each pack is linearized once.
 */
export class HistoryWalker {
  private readonly reader: EventStore;
  private readonly ref: ReturnType<typeof Account.ref>;
  private readonly memo = new Map<string, Promise<EventRecord[]>>();

  constructor(
    store: EventStore,
    readonly account: string,
  ) {
    this.reader = readOnly(store);
    this.ref = Account.ref(account);
  }

  /** The history at the account's single head. */
  async head(): Promise<EventRecord[]> {
    const heads = await this.reader.heads(this.ref);
    if (heads.length !== 1) throw new Error(`expected one head for account:${this.account}, found ${heads.length}`);
    return this.at(heads[0]!);
  }

  at(pack: Pack): Promise<EventRecord[]> {
    const key = VC.encode(pack.version);
    let history = this.memo.get(key);
    if (!history) {
      history = this.linearize(pack);
      this.memo.set(key, history);
    }
    return history;
  }

  /** The merge pack `versionKey`, its recomputation, and the state its `onMerge` saw (the ancestor's history plus the replay). */
  async merge(versionKey: string): Promise<{ pack: Pack; outcome: MergeOutcome; merged: AccountState }> {
    const [pack] = await this.reader.getPacks(this.ref, [versionKey]);
    if (!pack || pack.kind !== 'merge') throw new Error(`account:${this.account}: no merge pack {${versionKey}}`);
    const outcome = await computeMerge(this.reader, Account, this.ref, [pack]);
    const before = outcome.ancestor ? await this.at(outcome.ancestor) : [];
    return { pack, outcome, merged: fold(Account, Account.initial(), [...before, ...outcome.replayed]) as AccountState };
  }

  private async linearize(pack: Pack): Promise<EventRecord[]> {
    if (pack.kind === 'merge') {
      const outcome = await computeMerge(this.reader, Account, this.ref, [pack]);
      const before = outcome.ancestor ? await this.at(outcome.ancestor) : [];
      return [...before, ...outcome.replayed, ...pack.events];
    }
    const parent = pack.parents[0];
    if (parent === undefined) return [...pack.events];
    const [parentPack] = await this.reader.getPacks(this.ref, [VC.encode(parent)]);
    if (!parentPack) throw new Error(`account:${this.account}: missing pack ${VC.encode(parent)}`);
    return [...(await this.at(parentPack)), ...pack.events];
  }
}

/** The account's history at its single head, in the order it is folded (see HistoryWalker). */
export function linearHistory(store: EventStore, account: string): Promise<EventRecord[]> {
  return new HistoryWalker(store, account).head();
}

/** What the oracle found for one account (for reports). */
export interface AccountOutcome {
  readonly account: string;
  readonly accepted: number;
  readonly rejected: number;
  /** `overdraftCharged` events in the converged history. */
  readonly compensations: number;
  readonly state: AccountState;
  /** The converged history, in the order it is folded (the same in every region). */
  readonly history: readonly EventRecord[];
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
  let replayedPastOverdraft = 0;
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

    // Compensations: each was written by a merge whose own merged state had an overdraft not
    // recorded yet (the fee only for a new episode), the merge recomputes to the same pack, none
    // is in the history twice, and no overdraft is left unrecorded at the end.
    const walker = new HistoryWalker(input.stores.values().next().value!, account);
    const charges = history.filter((e) => e.type === 'overdraftCharged');
    for (const event of charges) {
      const key = /^m(.+)#\d{4}$/.exec(event.id)?.[1];
      if (key === undefined) {
        problems.compensation!.push(`${account}: compensation ${event.id} is not a merge's`);
        continue;
      }
      const { pack, outcome, merged } = await walker.merge(key);
      const fee = (event.data as { fee: number }).fee;
      if (!isDeepStrictEqual(outcome.compensations, pack.events)) problems.compensation!.push(`${account}: merge {${key}} recomputes to other compensations than it holds`);
      if (unrecordedOverdraft(merged) === 0) problems.compensation!.push(`${account}: compensation ${event.id} was written by a merge that saw no unrecorded overdraft (balance ${merged.balance}, overdrawn ${merged.overdrawn})`);
      if (fee !== (merged.overdrawn === 0 ? overdraftFee : 0)) problems.compensation!.push(`${account}: compensation ${event.id} charged a fee of ${fee} where ${merged.overdrawn} was already recorded as overdrawn`);
    }
    const twice = [...occurrences].filter(([, n]) => n > 1).map(([id]) => id);
    if (twice.length > 0) problems.compensation!.push(`${account}: events twice in the history: ${twice.join(', ')}`);
    if (unrecordedOverdraft(state) !== 0) problems.compensation!.push(`${account}: balance ${state.balance} but only ${state.overdrawn} recorded as overdrawn`);
    if (input.doubleSpent.includes(account)) {
      const feeCharges = charges.filter((e) => (e.data as { fee: number }).fee > 0).length;
      if (state.balance >= 0 || feeCharges !== 1) problems.compensation!.push(`${account}: double spent, ends at balance ${state.balance} with ${feeCharges} fee-charging compensations (expected an overdraft and exactly 1)`);
    }
    // A compensation replayed by a later merge lands in (ts, id) order among the other branch's
    // events, which may have covered the overdraft by then: counted for the report, not a failure.
    let replaying = Account.initial() as AccountState;
    for (const event of history) {
      if (event.type === 'overdraftCharged' && unrecordedOverdraft(replaying) === 0) replayedPastOverdraft++;
      replaying = fold(Account, replaying, [event]) as AccountState;
    }

    const merges: Record<string, MergeRecord[]> = {};
    for (const [region, store] of input.stores) merges[region] = isMergeLog(store) ? await store.merges(Account.ref(account)) : [];
    outcomes.push({ account, accepted: accepted.length, rejected: rejectedIds.size, compensations: charges.length, state, history, merges });
  }

  const acceptedTotal = outcomes.reduce((n, o) => n + o.accepted, 0);
  const line = (key: string, what: string) => check(problems[key]!.length === 0, what + (problems[key]!.length ? `: ${problems[key]!.slice(0, 6).join('; ')}${problems[key]!.length > 6 ? ` (${problems[key]!.length} problems)` : ''}` : ''));
  line('applied', `every accepted command applied exactly once in every region (${acceptedTotal} command ids counted over each region's packs), no rejected one applied`);
  line('history', 'the folded history is the same in every region, with each accepted event exactly once and nothing else but compensations');
  line('balance', 'every balance is the fold of its history and equals accepted deposits - withdrawals - fees');
  const compensated = outcomes.filter((o) => o.compensations > 0).length;
  line(
    'compensation',
    `every overdraft compensated exactly once (${compensated} accounts with a compensation, each written by a merge that saw the overdraft unrecorded; ` +
      `${input.doubleSpent.length} double spent, each charged one fee; ${replayedPastOverdraft} compensations replayed after the other branch had covered the overdraft)`,
  );
  return { checks, outcomes };
}
