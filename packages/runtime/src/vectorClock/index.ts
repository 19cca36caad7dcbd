export * as VC from './vectorClock.js';
export type { VectorClock, Ordering } from './vectorClock.js';
