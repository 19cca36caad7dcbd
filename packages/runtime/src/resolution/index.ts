export { computeMerge, stateAt, mergeReplica, snapshotWeight, type MergeOutcome } from './resolve.js';
export {
  commandHeads,
  findDivergence,
  defaultAncestryLimits,
  type AncestryLimits,
  type Divergence,
} from './ancestry.js';
export { nextTimestamp, tick } from './hybridTime.js';
