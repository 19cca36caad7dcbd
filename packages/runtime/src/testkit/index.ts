/**
 * `@troupe/runtime/testkit`: helpers for testing apps, stores and checkers. No test framework
 * here: the simulator loads it at run time. The suites that register vitest tests are in
 * `@troupe/runtime/testkit/conformance`.
 */
export {
  type MakePackOptions,
  makePack,
  makeEvent,
  makeChain,
  appendChain,
  uniqueActor,
  uniqueSuffix,
} from './fixtures.js';
export {
  given,
  deciderContextDefaults,
  type DeciderCase,
  type DeciderEvent,
  type DeciderWhen,
  type GivenOptions,
} from './decider.js';
export { canConnect, requireService, type ServiceCheck } from './serviceGate.js';
export { makeTestCertificates, hasOpenssl, type TestCertificates } from './certificates.js';
export { ReferenceModel } from '../reference/index.js';
export { TestCluster } from './cluster.js';
export { afterEveryWrite } from './afterEveryWrite.js';
export { Ledger, type LedgerState } from './ledger.js';
// The hook to replace resolution in tests (the resolution functions themselves are in
// @troupe/runtime/resolution), and a clock to drive time by hand.
export { withMergeStrategy, type MergeStrategy } from '../hosting/mergeStrategyOption.js';
export { ManualClock } from '../ids/index.js';
