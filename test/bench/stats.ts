import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
// The one quantile of troupe's reports and benchmarks: nearest rank (a measured value, never a
// blend of two); for an odd number of rounds the median is the middle round either way.
import { quantile } from '@troupe/cli/stats';

/** Small order statistics used by every scenario: medians and quartiles, never means. */

export interface Summary {
  readonly median: number;
  readonly p25: number;
  readonly p75: number;
  /** p75 - p25 (interquartile range), same unit as the median. */
  readonly iqr: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const p25 = quantile(sorted, 0.25);
  const p75 = quantile(sorted, 0.75);
  return {
    median: quantile(sorted, 0.5),
    p25,
    p75,
    iqr: p75 - p25,
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    n: sorted.length,
  };
}

export function median(values: readonly number[]): number {
  return summarize(values).median;
}

/** Lets the event loop drain (timers, immediates, GC finalizers) between measured rounds. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 5));
}

let gcFunction: (() => void) | undefined;

/** Full GC between rounds, so one round's garbage is not billed to the next (exposes gc once, without CLI flags). */
export function collectGarbage(): void {
  if (!gcFunction) {
    v8.setFlagsFromString('--expose-gc');
    gcFunction = runInNewContext('gc') as () => void;
  }
  gcFunction();
}
