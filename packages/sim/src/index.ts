/**
 * @troupe/sim: the deterministic partition simulator. `simulate({ seed, workload })` runs
 * replicas, clients and a nemesis from one seeded PRNG and reports invariants I1-I9 (see the
 * root README's guarantees; I8 views, I9 stability).
 * Every export is listed in README.md ("API"); exports.unit.spec.ts keeps the two in step.
 */
export { simulate, simulateWithTrace, type SimHooks, type SimTrace, type TraceEvent, type TraceResolution } from './simulate.js';
export type { ReplicatorFactory, SyncRunner } from './executor.js';
export { type SimOptions, type RunOptions, type FaultRates, type PartitionMode, partitionModes, defaultFaults, simDefaults } from './options.js';
export { type SimReport, type SimCounts, type ReplicaSummary, formatReport } from './report.js';
export { type StoreFactory, type SimStores, type StoreRun, type StoreUsed, type DestroyableStore, memoryStores, prefixedStores, type CuttableConnection, type ConnectionStats, type ConnectedStore } from './stores.js';
export { ioredisConnection, type RedisClientLike } from './redisConnection.js';
export { type CounterState, type TapeState, type WorkloadShape, type SimWorkload, Counter, Tape, counterWorkload, tapeWorkload, shapeDefaults, counterTotals, tapeDigests } from './workloads.js';
export { type ViewFactory, type SimView, memoryViews } from './views.js';
export type { InvariantName, Invariants, CheckResult, Violation, ReplyRecord } from './checkers/index.js';
export { type ScheduleStep, type ScheduleCommand, type Schedule, type ScheduleFields } from './schedule.js';
export { shrink, type ShrinkResult, type ShrinkLimits } from './shrink.js';
export { renderHtml, writeHtmlReport } from './htmlReport.js';
export { brokenStrategies, type BrokenStrategyName } from './brokenStrategies.js';
