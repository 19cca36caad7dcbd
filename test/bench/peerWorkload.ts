/**
 * The workloads of the peers scenario (`peers.ts`), expressed once and handed to each side:
 *
 * - the bench's counter (`counter.ts`): the SAME decide and evolve functions of the troupe
 *   definition, adapted to Emmett's decider shape (`decide(command, state)`, `evolve(state, event)`)
 *   without changing what they compute;
 * - a ledger account for the Redis part: one `posted` event of five fields per command (the data of
 *   `redis.ts`), as troupe packs built the way the runtime's Entity builds them, and as the payload
 *   an `eventstore` user would add to a stream.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DeciderCommandHandler } from '@event-driven-io/emmett';
import { type DecideContext } from '@troupe/runtime';
import { Counter, type CounterState } from './counter.js';
import { Ledger, type LedgerState, PackWriter, type Posted, posting } from './redis.js';

// ---------------------------------------------------------------------------------------------
// Counter, the same functions on every side

export interface AddCommand {
  readonly type: 'add';
  readonly data: { readonly by: number };
}
export interface AddedEvent {
  readonly type: 'added';
  readonly data: { readonly by: number };
}

type CounterDecide = (s: CounterState, p: { by: number }, ctx: DecideContext) => readonly { type: 'added'; data: { by: number } }[];
type CounterEvolve = (s: CounterState, d: { by: number }, e: never) => CounterState;

/** The troupe definition's own handlers, looked up once. */
const counterDecide = Counter.commands.add as unknown as CounterDecide;
const counterEvolve = Counter.events.added as unknown as CounterEvolve;
/** Emmett's decider has no context argument; the counter ignores it anyway. */
const decideCtx: DecideContext = { actor: { type: 'counter', id: 'emmett' }, commandId: 'emmett', now: 0, replica: 'emmett' };

/**
 * Emmett's command handler over the counter: `decide` calls the troupe definition's `add`,
 * `evolve` its `added`. Emmett reads (aggregates) the stream on every command, folds it with
 * `evolve`, calls `decide`, and appends with the expected stream version it read.
 */
export const emmettCounter = DeciderCommandHandler<CounterState, AddCommand, AddedEvent>({
  decide: (command, state) => counterDecide(state, command.data, decideCtx) as AddedEvent[],
  evolve: (state, event) => counterEvolve(state, event.data, undefined as never),
  initialState: () => Counter.initial(),
});

// ---------------------------------------------------------------------------------------------
// Ledger, for the Redis part

// The ledger of the Redis scenario itself (same definition, same postings, same pack writer).
export { Ledger, type LedgerState, type Posted, posting, PackWriter as LedgerPackWriter };

/** The same evolve for every side (troupe folds EventRecords, eventstore payloads, raw plain objects). */
export const evolveLedger = Ledger.events.posted as (s: LedgerState, d: Posted) => LedgerState;

/** Sum of the amounts of postings `from .. from + n - 1`, in cents (exact). */
export function postingCents(from: number, n: number): number {
  let cents = 0;
  for (let k = from; k < from + n; k++) cents += Math.round(posting(k).amount * 100);
  return cents;
}

// ---------------------------------------------------------------------------------------------

/** Installed version of a package (its package.json, found by walking up from its entry point). */
export function packageVersion(name: string): string {
  const require = createRequire(import.meta.url);
  try {
    let dir = dirname(require.resolve(name));
    for (let i = 0; i < 6; i++) {
      try {
        const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (json.name === name && json.version) return json.version;
      } catch {
        // no package.json here
      }
      dir = dirname(dir);
    }
  } catch {
    // not resolvable
  }
  return 'unknown';
}
