/**
 * The worker thread of `troupe sim --runs N --jobs K` (built to dist/simWorker.js; the main
 * thread starts it from there). It loads the spec's workload once, then runs each seed the main
 * thread posts and posts back its small summary; `null` ends it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type ResolvedWorkload, type SeedRunSpec, oneLine, resolveWorkload, runSeed } from './simRun.js';
import type { WorkerReply } from './simRuns.js';

const port = parentPort!;
const spec = (workerData as { spec: SeedRunSpec }).spec;
const post = (reply: WorkerReply) => port.postMessage(reply);

let resolved: ResolvedWorkload;
try {
  resolved = await resolveWorkload(spec);
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'fatal', error: oneLine(error) });
  port.close();
}

port.on('message', (seed: number | null) => {
  if (seed === null) {
    port.close();
    return;
  }
  void runSeed(spec, seed, resolved).then((result) => post({ type: 'result', result }));
});
