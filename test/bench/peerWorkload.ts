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
import { type ActorRef, commandPack, type DecideContext, defineActor, FlakeIdSource, ManualClock, type Pack } from '@troupe/runtime';
import { Counter, type CounterState } from './counter.js';

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

export interface LedgerState {
  readonly balance: number;
  readonly postings: number;
}
export interface Posted {
  readonly amount: number;
  readonly currency: string;
  readonly reference: string;
  readonly counterparty: string;
  readonly memo: string;
}

export const Ledger = defineActor({
  type: 'ledger',
  initial: (): LedgerState => ({ balance: 0, postings: 0 }),
  commands: {
    post: (_s: LedgerState, p: Posted) => [{ type: 'posted', data: p }],
  },
  events: {
    posted: (s: LedgerState, d: Posted) => ({ balance: s.balance + d.amount, postings: s.postings + 1 }),
  },
});

/** The same evolve for every side (troupe folds EventRecords, eventstore payloads, raw plain objects). */
export const evolveLedger = Ledger.events.posted as (s: LedgerState, d: Posted) => LedgerState;

const memos = ['rent', 'groceries', 'salary', 'utilities', 'refund', 'transfer to savings'];

/** The k-th posting: five fields; the amount has two decimals (compare sums in whole cents). */
export function posting(k: number): Posted {
  return {
    amount: Math.round(((k * 7919) % 100_000) + 1) / 100,
    currency: 'EUR',
    reference: `INV-2026-${String(k % 1_000_000).padStart(6, '0')}`,
    counterparty: `acct-${10_000 + ((k * 31) % 90_000)}`,
    memo: memos[k % memos.length]!,
  };
}

/** Sum of the amounts of postings `from .. from + n - 1`, in cents (exact). */
export function postingCents(from: number, n: number): number {
  let cents = 0;
  for (let k = from; k < from + n; k++) cents += Math.round(posting(k).amount * 100);
  return cents;
}

const replica = 'eu-west';

/**
 * Packs of single-event commands, built the way the runtime's Entity builds them (hybrid ts, flake
 * ids, `<replica>.<flake id>` command ids, version incremented on the writing replica, first parent
 * = previous pack). Event data `posting(k)` for k = `from`, `from + 1`, ...
 */
export class LedgerPackWriter {
  private readonly clock = new ManualClock(1_790_000_000_000);
  private readonly ids = new FlakeIdSource({ machineId: 23, clock: this.clock });

  chain(actor: ActorRef, length: number, from: number): Pack[] {
    const packs: Pack[] = [];
    let head: Pack | undefined;
    for (let i = 0; i < length; i++) {
      this.clock.advance(3);
      const pack = commandPack({
        actor,
        head,
        replica,
        commandId: `${replica}.${this.ids.next()}`,
        now: this.clock.now(),
        ids: this.ids,
        emitted: [{ type: 'posted', data: posting(from + i) }],
      });
      packs.push(pack);
      head = pack;
    }
    return packs;
  }
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
