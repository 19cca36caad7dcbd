/**
 * `@troupe/cli/stats`: the one quantile of troupe's reports (`troupe load`'s latencies) and of
 * its benchmarks (test/bench), so a p99 means the same thing everywhere.
 *
 * Nearest rank, not linear interpolation: the q-quantile of n ascending values is the value at
 * rank ceil(q * n) (1-based; rank 1 for q = 0), i.e. the smallest measured value with at least
 * a fraction q of the values at or below it. Chosen because every reported figure is then a
 * value that was measured (a p99 latency is one command's latency, not a blend of two that
 * hides a gap between them), it needs no assumption about values between samples, and it is
 * what `troupe load` and the bus benchmark already reported, so published p50/p99 figures stay
 * comparable. The price: on few values it moves in steps (the median of [1, 2] is 1, not 1.5).
 */

/**
 * The nearest-rank q-quantile (q in 0..1) of `sorted`, which must be in ascending order (not
 * checked: callers sort once and take several quantiles). NaN for no values, as there is none to
 * report; a q outside 0..1 (or NaN) throws a RangeError.
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q must be in 0..1, got ${q}`);
  if (sorted.length === 0) return Number.NaN;
  // q * n carries binary rounding (0.07 * 100 = 7.000000000000001): a 1e-12 relative tolerance
  // keeps an exact rank exact instead of moving it one value up.
  const position = q * sorted.length;
  const rank = Math.max(1, Math.ceil(position - position * 1e-12));
  return sorted[rank - 1]!;
}
