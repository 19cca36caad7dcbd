/** The simulator's ordering oracle: I3's and I6's reference, sharing only types with @troupe/runtime. */
export { OrderingOracle, type OracleMerge } from './orderingOracle.js';
export { replayOrder, tickMs } from './order.js';
export { applyEvents, OracleReplayError } from './fold.js';
export { clockKey, clockMax, clockAtOrBefore, clockWeight } from './clock.js';
