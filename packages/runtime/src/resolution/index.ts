export { computeMerge, stateAt, mergeReplica, snapshotWeight, type MergeOutcome, type StateAt } from './resolve.js';
export { survivingCopy, copiesOf, type CommandCopy } from './survivingCopy.js';
export {
  commandHeads,
  findDivergence,
  defaultAncestryLimits,
  type AncestryLimits,
  type Divergence,
} from './ancestry.js';
export { nextTimestamp, tick } from './hybridTime.js';
