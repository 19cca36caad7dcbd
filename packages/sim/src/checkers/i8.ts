import { type ActorRef, type EventStore, type ProjectionDefinition, viewFromScratch } from '@troupe/runtime';
import { canonical } from '../canonical.js';
import type { InstrumentedStore } from '../instrumentedStore.js';
import type { SimView, ViewFactory } from '../views.js';
import { type CheckResult, Verdict } from './types.js';

/**
 * Views catch up after every write while the run has addressed at most this many actors, then at
 * each tick's end: a `MemoryView` catch-up materializes its whole view (sorted) each time, which
 * per write would dominate a run with thousands of actors.
 */
export const viewPerWriteActorsMax = 256;

/**
 * A crashed replica's view is lost with it, and its restart starts a new one from the start of the
 * log, while its log holds at most this many packs, or has at least doubled since its view last
 * started from the start (`ViewWatch.crashed`); otherwise the view survives the crash and keeps
 * following. Rebuilding at every crash read the whole log per crash: quadratic in the run (42 % of
 * a 320-tick run with 1,000 actors, 50 commands a tick; a million-command run could not finish).
 */
export const viewRebuildLogMax = 2_000;

/** What the view checks need of a replica: its index and id, and its (instrumented) store. */
export interface ViewReplica {
  readonly index: number;
  readonly id: string;
  readonly store: InstrumentedStore;
}

/**
 * I8, views (#16): every replica keeps a view of the workload's projection (a `MemoryView` by
 * default) that follows its store: it catches up after every append and merge of the replica
 * (`InstrumentedStore.afterWrite`; at each tick's end once the run has addressed more than
 * `viewPerWriteActorsMax` actors), so it goes through the intermediate states (an actor diverged
 * and left as it was, a merge pack read again, compensations arriving). A view lives in its
 * replica's process: a crash loses it, and the restarted replica starts a new one from the start
 * of the log; except that once the log is longer than `viewRebuildLogMax` packs, a view is rebuilt
 * only when the log has doubled since it started (else it survives the crash: bounded cost, and
 * from-scratch catch-ups still happen at every scale of the log). After the final heal and quiescence, every replica's view (caught up) must equal
 * `viewFromScratch` over its converged store, and the replicas' views must be equal. A view that
 * stopped on an error while following (e.g. a `ProjectionError`) is a violation too.
 */
export class ViewWatch {
  private readonly views = new Map<number, SimView>();
  /** Each replica's view that survived its crash (`crashed`), taken up again by the restart (`open`). */
  private readonly survivors = new Map<number, { view: SimView; catchUp: () => Promise<void>; pending: boolean }>();
  /** The replica's `packsWritten` when its view last started from the start of the log. */
  private readonly startedAt = new Map<number, number>();
  /** The catch-up of each replica's current view (what `afterWrite` and the pending list call). */
  private readonly catchUps_ = new Map<number, () => Promise<void>>();
  /** Views started from the start of the log after a crash (a new one per restart but those that survived). */
  rebuilds = 0;
  /** Views that survived their replica's crash (`viewRebuildLogMax`). */
  survived = 0;
  /** Each replica's pending catch-up (a write since its view last caught up), for runs that catch up per tick. */
  private readonly pending = new Map<number, () => Promise<void>>();
  private readonly failures: string[] = [];
  /** Catch-ups that ran while following the stores. */
  catchUps = 0;

  constructor(
    readonly projection: ProjectionDefinition,
    private readonly make: ViewFactory,
    /** Whether views catch up after every write (else at each tick's end, `endOfTick`): see `viewPerWriteActorsMax`. */
    private readonly perWrite: () => boolean = () => true,
  ) {}

  /**
   * A replica's process starts (at the run's start, or restarted): a new view over its store,
   * caught up after every write; or, after a crash its view survived, that view again.
   */
  open(replica: ViewReplica): void {
    const survivor = this.survivors.get(replica.index);
    this.survivors.delete(replica.index);
    if (survivor) {
      this.views.set(replica.index, survivor.view);
      this.catchUps_.set(replica.index, survivor.catchUp);
      if (survivor.pending) this.pending.set(replica.index, survivor.catchUp);
      this.follow(replica, survivor.catchUp);
      return;
    }
    // Reads go to the replica's store of the moment (a restart in Redis mode connects again), unwrapped.
    const store = replica.store;
    const inner = new Proxy({} as EventStore, {
      get: (_target, property) => {
        const value: unknown = Reflect.get(store.inner, property);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(store.inner) : value;
      },
    });
    const view = this.make(this.projection, inner);
    this.views.set(replica.index, view);
    this.startedAt.set(replica.index, replica.store.packsWritten);
    this.pending.delete(replica.index);
    let stopped = false;
    const catchUp = async () => {
      this.pending.delete(replica.index);
      if (stopped) return;
      try {
        await view.catchUp();
        this.catchUps++;
      } catch (error) {
        stopped = true;
        this.failures.push(`${replica.id}'s view stopped while following its store: ${(error as Error)?.message ?? String(error)}`);
      }
    };
    this.catchUps_.set(replica.index, catchUp);
    this.follow(replica, catchUp);
  }

  private follow(replica: ViewReplica, catchUp: () => Promise<void>): void {
    replica.store.afterWrite = async () => {
      if (this.perWrite()) await catchUp();
      else this.pending.set(replica.index, catchUp);
    };
  }

  /**
   * A replica's process died: its view goes with it (the restart opens a new one), unless its
   * log is longer than `viewRebuildLogMax` packs and has not doubled since the view started:
   * then the view survives, with its pending catch-up, and the restart takes it up again.
   */
  crashed(replica: ViewReplica): void {
    const view = this.views.get(replica.index);
    const catchUp = this.catchUps_.get(replica.index);
    const log = replica.store.packsWritten;
    const started = this.startedAt.get(replica.index) ?? 0;
    if (view && catchUp && log > viewRebuildLogMax && log < 2 * Math.max(started, viewRebuildLogMax)) {
      this.survived++;
      this.survivors.set(replica.index, { view, catchUp, pending: this.pending.has(replica.index) });
    } else if (view) this.rebuilds++;
    this.pending.delete(replica.index);
    this.views.delete(replica.index);
    this.catchUps_.delete(replica.index);
  }

  /** The tick ends: views with writes not caught up yet (runs that catch up per tick) catch up. */
  async endOfTick(): Promise<void> {
    for (const index of [...this.pending.keys()].sort((a, b) => a - b)) await this.pending.get(index)?.();
  }

  /** The final check, after quiescence: each view against the from-scratch view of its store, and against the first replica's view. */
  async check(replicas: readonly ViewReplica[], actors: readonly ActorRef[]): Promise<CheckResult> {
    const verdict = new Verdict();
    for (const failure of this.failures) verdict.fail('*', failure);
    let first: { readonly id: string; readonly rows: ReadonlyMap<string, unknown> } | undefined;
    for (const replica of replicas) {
      const view = this.views.get(replica.index);
      if (!view) continue;
      let rows: ReadonlyMap<string, unknown>;
      let scratch: ReadonlyMap<string, unknown>;
      try {
        rows = await view.read();
      } catch (error) {
        verdict.fail('*', `${replica.id}'s view could not catch up: ${(error as Error)?.message ?? String(error)}`);
        continue;
      }
      try {
        scratch = await viewFromScratch(this.projection, replica.store.inner, actors);
      } catch (error) {
        verdict.fail('*', `the from-scratch view of ${replica.id}'s store could not be computed: ${(error as Error)?.message ?? String(error)}`);
        continue;
      }
      compare(verdict, rows, scratch, (key, held, expected) => `${replica.id}'s view has ${held} at ${key}, the from-scratch view of its store ${expected}`);
      if (!first) first = { id: replica.id, rows };
      else {
        const against = first;
        compare(verdict, rows, against.rows, (key, held, expected) => `${replica.id}'s view has ${held} at ${key}, ${against.id}'s view ${expected}`);
      }
    }
    return verdict.result();
  }
}

/** Every key of either view checked: the same row (by value) on both sides. */
function compare(
  verdict: Verdict,
  rows: ReadonlyMap<string, unknown>,
  expected: ReadonlyMap<string, unknown>,
  detail: (key: string, held: string, expected: string) => string,
): void {
  for (const key of new Set([...rows.keys(), ...expected.keys()])) {
    verdict.checked++;
    const held = rows.has(key) ? canonical(rows.get(key)) : 'no row';
    const want = expected.has(key) ? canonical(expected.get(key)) : 'no row';
    if (held !== want) verdict.fail(key, detail(key, held, want));
  }
}
