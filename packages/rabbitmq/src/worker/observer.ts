import { type RuntimeObserver, combineObservers } from '@troupe/runtime';
import type { WorkerMetrics } from './metrics.js';

/**
 * The observer the worker gives its runtime: counts append conflicts, resolutions and
 * passivations into the worker's metrics, then calls the user's own observer (from
 * `WorkerOptions.runtime.observer`) when there is one.
 */
export function workerObserver(metrics: WorkerMetrics, user: RuntimeObserver | undefined): RuntimeObserver {
  const counting: RuntimeObserver = {
    appendConflict: () => metrics.appendConflicts.inc(),
    resolved: () => metrics.resolutions.inc(),
    resolutionFailed: () => metrics.resolutionFailures.inc(),
    passivated: ({ reason }) => metrics.passivations.inc({ reason }),
  };
  return combineObservers(counting, user);
}
