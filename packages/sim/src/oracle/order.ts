import type { EventRecord } from '@troupe/runtime';

/**
 * The replay order of the root README ("Model"): by `ts`, then by `id` (fixed-width decimal, so
 * string order is numeric order), then by `replica`. Written here again, not imported from the
 * runtime: an ordering bug in the runtime must not move the oracle with it.
 */
export function replayOrder(a: EventRecord, b: EventRecord): number {
  if (a.ts < b.ts) return -1;
  if (a.ts > b.ts) return 1;
  if (a.id < b.id) return -1;
  if (a.id > b.id) return 1;
  if (a.replica < b.replica) return -1;
  if (a.replica > b.replica) return 1;
  return 0;
}

/** One hybrid-time tick in ms (README, "ts is hybrid"): a merge's compensations are stamped one tick after its newest head. */
export const tickMs = 1 / 1024;
