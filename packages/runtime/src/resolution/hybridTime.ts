/**
 * Event timestamps are hybrid: the writer's clock in ms, raised when needed to one tick above
 * the latest timestamp in the causal past. A tick is 1/1024 ms (exact in a double for any
 * realistic date), so one actor can take 1024 writes per ms before its timestamps run ahead of
 * the wall clock. Because of it, ordering events by (ts, id) always puts a cause before its effect,
 * even when a replica's clock is behind or steps back.
 */
export const tick = 1 / 1024;

export function nextTimestamp(nowMs: number, causalPastMaxTs: number | undefined): number {
  if (causalPastMaxTs === undefined) return nowMs;
  return Math.max(nowMs, causalPastMaxTs + tick);
}
