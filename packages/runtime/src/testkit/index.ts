/**
 * `@troupe/runtime/testkit`: shared test suites and helpers. Imports vitest, so only load it from
 * test files (vitest is an optional peer dependency of the runtime).
 */
export {
  type ConformanceOptions,
  type MakePackOptions,
  runStoreConformance,
  makePack,
  makeEvent,
  makeChain,
  appendChain,
  uniqueActor,
  uniqueSuffix,
} from './storeConformance.js';
export { canConnect, requireService, type ServiceCheck } from './serviceGate.js';
export { ReferenceModel } from '../reference/index.js';
export { TestCluster } from './cluster.js';
export { Ledger, type LedgerState } from './ledger.js';
export {
  run as runReplicationScenario,
  checkInvariants as checkReplicationInvariants,
  scenario as replicationScenario,
  reached as replicationCoverage,
  type Scenario as ReplicationScenario,
} from './replicationScenario.js';
