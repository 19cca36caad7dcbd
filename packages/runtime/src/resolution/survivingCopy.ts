import { compareEvents } from '../actor/index.js';
import type { EventRecord, Pack } from '../model/index.js';
import { VC } from '../vectorClock/index.js';

/** One pack that applied a command, with the events it emitted for it. */
export interface CommandCopy {
  readonly pack: Pack;
  /** Version key of `pack`. */
  readonly key: string;
  /** The pack's events caused by the command. */
  readonly events: readonly EventRecord[];
}

/**
 * Which of several copies of one command (a retry accepted on two branches during a partition)
 * survives a merge: the copy whose first event replays first (`compareEvents`), a copy with events
 * before one without, and between copies without events the smaller version key. The one rule
 * behind both what a merge replays (`computeMerge`) and what a retry is answered with (the
 * runtime's duplicate lookup), so the answer names the copy the converged history keeps.
 */
export function survivingCopy<C extends CommandCopy>(copies: readonly C[]): C {
  let best: { copy: C; first: EventRecord | undefined } | undefined;
  for (const copy of copies) {
    const first = earliest(copy.events);
    if (best === undefined || precedes(first, copy.key, best.first, best.copy.key)) best = { copy, first };
  }
  if (best === undefined) throw new Error('survivingCopy: no copies');
  return best.copy;
}

/** The copies of `commandId` among `packs`: each pack that lists it, with its events caused by it. */
export function copiesOf(commandId: string, packs: readonly Pack[]): CommandCopy[] {
  return packs
    .filter((pack) => pack.commandIds.includes(commandId))
    .map((pack) => ({ pack, key: VC.encode(pack.version), events: pack.events.filter((e) => e.causationId === commandId) }));
}

function earliest(events: readonly EventRecord[]): EventRecord | undefined {
  let first: EventRecord | undefined;
  for (const event of events) if (first === undefined || compareEvents(event, first) < 0) first = event;
  return first;
}

function precedes(a: EventRecord | undefined, aKey: string, b: EventRecord | undefined, bKey: string): boolean {
  if (a && b) return compareEvents(a, b) < 0;
  if (a || b) return a !== undefined;
  return aKey < bKey;
}
