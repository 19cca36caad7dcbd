/**
 * @troupe/sim: the deterministic partition simulator. `simulate({ seed })` runs replicas, clients
 * and a nemesis from one seeded PRNG and reports invariants I1-I6 of DESIGN.md.
 */
export { simulate, simulateWithTrace, type SimTrace, type TraceEvent, type TraceResolution } from './simulate.js';
export { type SimOptions, type RunOptions, type FaultRates, type PartitionMode, partitionModes, defaultFaults, resolveOptions } from './options.js';
export { type SimReport, type SimCounts, type ReplicaSummary, formatReport } from './report.js';
export { type Workload, type WorkloadCommand, bankWorkload, counterWorkload, Counter, workloads } from './workloads.js';
export { Rng } from './rng.js';
export { Network } from './nemesis.js';
export { traced, appliedLogOf, AppliedLog, type TracedState } from './traced.js';
export { InstrumentedStore, SimulatedCrash } from './instrumentedStore.js';
export { canonical, sha256 } from './canonical.js';
export { brokenStrategies, type BrokenStrategyName } from './brokenStrategies.js';
export * from './checkers/index.js';
export { renderHtml, renderTimeline, writeHtmlReport } from './htmlReport.js';
export { type ScheduleStep, type ScheduleCommand, type Schedule, type ScheduleFields } from './schedule.js';
export { shrink, type ShrinkResult, type ShrinkLimits } from './shrink.js';
export { runSimCli, importWorkload, type WorkloadLoader, type SimCliOptions } from './cli.js';
