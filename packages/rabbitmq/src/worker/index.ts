/** The worker: consumes the shard queues and executes their commands on a Runtime. */
export { Worker, startWorker } from './worker.js';
export { workerDefaults, type WorkerOptions, type WorkerHooks } from './options.js';
