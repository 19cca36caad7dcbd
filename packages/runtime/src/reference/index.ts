/**
 * The reference model (exported from `@troupe/runtime/testkit`): a naive full-history recomputation of divergence resolution, for
 * checkers (the simulator, property tests). No test framework dependency.
 */
export { ReferenceModel } from './referenceModel.js';
