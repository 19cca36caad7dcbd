import type { Workload } from '@troupe/runtime';
import { Account } from './account.js';

/**
 * The bank's client mix, used by `troupe load` and `troupe sim`: open (10 %), deposit (40 %) and
 * withdraw (50 %) on `acc0..acc<n-1>`, amounts 1-60. Commands to accounts not yet open are rejected.
 */
export const bankWorkload: Workload = {
  name: 'bank',
  actors: [Account],
  nextCommand(random, _step, actors) {
    const actor = Account.ref(`acc${random.int(0, actors - 1)}`);
    const roll = random.int(0, 99);
    const amount = random.int(1, 60);
    if (roll < 10) return { actor, type: 'open', payload: { owner: `owner${random.int(0, 9)}` } };
    if (roll < 50) return { actor, type: 'deposit', payload: { amount } };
    return { actor, type: 'withdraw', payload: { amount } };
  },
};

/** The name `troupe load --app` and `troupe sim --app` look for. */
export const workload = bankWorkload;
