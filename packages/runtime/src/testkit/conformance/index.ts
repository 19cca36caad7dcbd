/**
 * `@troupe/runtime/testkit/conformance`: suites that register vitest tests (vitest and fast-check
 * are optional peer dependencies of the runtime). Load it from test files only; the helpers that
 * are safe at run time are in `@troupe/runtime/testkit`.
 */
export { type ConformanceOptions, runStoreConformance } from './storeConformance.js';
export {
  run as runReplicationScenario,
  checkInvariants as checkReplicationInvariants,
  scenario as replicationScenario,
  reached as replicationCoverage,
  type Scenario as ReplicationScenario,
} from './replicationScenario.js';
