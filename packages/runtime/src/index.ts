/**
 * @troupe/runtime: event-sourced actors that stay available through partitions and reconcile
 * afterwards. Embeddable alone: MemoryStore and the in-process runtime are the default.
 */
export * from './errors/index.js';
export * from './ids/index.js';
export * from './vectorClock/index.js';
export * from './model/index.js';
export * from './codec/index.js';
export * from './actor/index.js';
export * from './store/index.js';
export * from './resolution/index.js';
export * from './hosting/index.js';
export * from './replication/index.js';
