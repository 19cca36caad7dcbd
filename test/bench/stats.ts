import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

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

/** Linear-interpolated quantile of an ascending array. */
function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const p25 = quantileSorted(sorted, 0.25);
  const p75 = quantileSorted(sorted, 0.75);
  return {
    median: quantileSorted(sorted, 0.5),
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
