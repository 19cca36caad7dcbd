import { isDeepStrictEqual } from 'node:util';
import type { EventStore } from '@troupe/runtime';
import { stateAt } from '@troupe/runtime/resolution';
import { VC } from '@troupe/runtime/store';
import { Account, type AccountState } from '@troupe/bank';
import { readOnly } from './readOnly.js';

/** One account as one region's store holds it. */
export interface AccountView {
  readonly region: string;
  readonly account: string;
  readonly heads: number;
  /** The single head's version key; null when diverged or absent. */
  readonly version: string | null;
  /** The state at the single head; null when diverged or absent. */
  readonly state: AccountState | null;
}

/** Reads every account in every region (heads, and the state at a single head). */
export async function readViews(stores: ReadonlyMap<string, EventStore>, accounts: readonly string[]): Promise<AccountView[]> {
  const views: AccountView[] = [];
  for (const [region, store] of stores) {
    const reader = readOnly(store);
    for (const account of accounts) {
      const ref = Account.ref(account);
      const heads = await reader.heads(ref);
      if (heads.length !== 1) {
        views.push({ region, account, heads: heads.length, version: null, state: null });
        continue;
      }
      const { state } = await stateAt(reader, Account, ref, heads[0]!.version);
      views.push({ region, account, heads: 1, version: VC.encode(heads[0]!.version), state: state as AccountState });
    }
  }
  return views;
}

/** Accounts on which the regions do not agree yet (several heads somewhere, or different versions or states), with why. */
export function disagreements(views: readonly AccountView[]): string[] {
  const byAccount = new Map<string, AccountView[]>();
  for (const view of views) byAccount.set(view.account, [...(byAccount.get(view.account) ?? []), view]);
  const problems: string[] = [];
  for (const [account, perRegion] of byAccount) {
    const diverged = perRegion.filter((v) => v.heads !== 1);
    if (diverged.length > 0) {
      problems.push(`${account}: ${diverged.map((v) => `${v.region} has ${v.heads} heads`).join(', ')}`);
      continue;
    }
    const first = perRegion[0]!;
    const versions = new Set(perRegion.map((v) => v.version));
    if (versions.size > 1) problems.push(`${account}: versions differ (${perRegion.map((v) => `${v.region} {${v.version}}`).join(', ')})`);
    else if (!perRegion.every((v) => isDeepStrictEqual(v.state, first.state))) problems.push(`${account}: same version {${first.version}}, different states`);
  }
  return problems;
}

export interface Converged {
  readonly views: readonly AccountView[];
  /** From the call to the first poll that found every region agreeing. */
  readonly ms: number;
  readonly polls: number;
}

/**
 * Polls every region's store until every account has one head, with the same version and state
 * in every region; throws after `timeoutMs` naming what still disagrees.
 */
export async function waitForConvergence(
  stores: ReadonlyMap<string, EventStore>,
  accounts: readonly string[],
  options: { readonly timeoutMs?: number; readonly pollMs?: number } = {},
): Promise<Converged> {
  const started = performance.now();
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let polls = 0;
  for (;;) {
    polls++;
    const views = await readViews(stores, accounts);
    const problems = disagreements(views);
    if (problems.length === 0) return { views, ms: Math.round(performance.now() - started), polls };
    if (Date.now() > deadline) {
      throw new Error(`the regions did not converge within ${options.timeoutMs ?? 60_000} ms (${polls} polls): ${problems.slice(0, 10).join('; ')}${problems.length > 10 ? `; and ${problems.length - 10} more` : ''}`);
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
  }
}
