import type { AnyActorDefinition } from '@troupe/runtime';
import { Account } from './account.js';

export {
  Account,
  type AccountDefinition,
  type AccountState,
  type AccountCommands,
  type AccountEvents,
  type AccountEvent,
  initialAccount,
  isOverdrawn,
  unrecordedOverdraft,
  overdraftCompensation,
  overdraftFee,
  amountMax,
  balanceMax,
  ownerLengthMax,
  validateOpen,
  validateAmount,
} from './account.js';
export {
  balancesByOwner,
  overdrafts,
  bankProjections,
  ownerBalanceRows,
  addOwnerBalances,
  overdraftRows,
  overdraftKey,
  overdraftTotalKey,
  type OwnerBalance,
} from './views.js';
export { runBankScenario, formatScenario, type ScenarioResult, type ScenarioStep, type ReplicaView, type BranchView } from './demo.js';
export type { BankViewRows, ViewRowChange } from './demoViews.js';

/** Every actor this app defines, to pass as `createRuntime({ actors: bankActors })`. */
export const bankActors: readonly AnyActorDefinition[] = [Account];
export { bankWorkload, workload } from './workload.js';

/** The name `troupe worker --app` looks for. */
export const actors = bankActors;
