/**
 * `@troupe/runtime/resolution`: the pieces of divergence resolution, for tools that explain,
 * check or replace merges (the bank demo's walkthrough, the simulator's checkers). The runtime
 * calls them itself; an app never needs them.
 */
export { fold, compareEvents } from './actor/index.js';
export {
  computeMerge,
  stateAt,
  findDivergence,
  commandHeads,
  defaultAncestryLimits,
  mergeReplica,
  snapshotWeight,
  survivingCopy,
  copiesOf,
  type MergeOutcome,
  type AncestryLimits,
  type Divergence,
  type StateAt,
  type CommandCopy,
} from './resolution/index.js';
export type { MergeStrategy } from './hosting/mergeStrategyOption.js';
