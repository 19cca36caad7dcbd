import { defineActor, reject } from '../actor/index.js';

/**
 * Test actor whose state records the order events were applied in, so any difference in replay
 * order between replicas shows up as a difference in state.
 */
export interface LedgerState {
  readonly balance: number;
  readonly overdrawn: number;
  readonly applied: readonly string[];
}

export const Ledger = defineActor({
  type: 'ledger',
  initial: (): LedgerState => ({ balance: 0, overdrawn: 0, applied: [] }),
  commands: {
    deposit: (_s, p: { n: number }) => [{ type: 'deposited', data: { n: p.n } }],
    withdraw: (s, p: { n: number }) => (s.balance >= p.n ? [{ type: 'withdrew', data: { n: p.n } }] : reject('insufficient funds')),
    note: (_s, p: { tag: string }) => [{ type: 'noted', data: { tag: p.tag } }],
  },
  events: {
    deposited: (s, d: { n: number }, e) => ({ ...s, balance: s.balance + d.n, applied: [...s.applied, e.id] }),
    withdrew: (s, d: { n: number }, e) => ({ ...s, balance: s.balance - d.n, applied: [...s.applied, e.id] }),
    noted: (s, _d: { tag: string }, e) => ({ ...s, applied: [...s.applied, e.id] }),
    overdraft: (s, d: { amount: number }, e) => ({ ...s, overdrawn: d.amount, applied: [...s.applied, e.id] }),
  },
  onMerge: (merged) =>
    merged.balance < 0 && merged.overdrawn !== -merged.balance ? [{ type: 'overdraft', data: { amount: -merged.balance } }] : [],
  snapshotEvery: 4,
});
