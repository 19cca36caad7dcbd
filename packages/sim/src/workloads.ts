import { type AnyActorDefinition, type ProjectionDefinition, type Workload, defineActor, defineProjection } from '@troupe/runtime';

export type { Workload, WorkloadCommand } from '@troupe/runtime';

/**
 * A workload the simulator drives, optionally with the view across its actors that every
 * replica keeps (I8: a `MemoryView` of it follows each replica's store). Without `projection` the
 * simulator uses its own view of every actor's state (`views.ts`). The built-in workloads carry one.
 */
export interface SimWorkload extends Workload {
  // Any row type: a projection's rows are only compared with themselves.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly projection?: ProjectionDefinition<any>;
}

/**
 * How a run drives its workload, drawn by swarm for the built-in workloads and the extra ones
 * given as `SimOptions.workloads` (see `shapeDefaults`). Part of the report's options and trace.
 */
export interface WorkloadShape {
  /**
   * Most events one command emits (each command draws 1..this): `add` of the counter emits that
   * many `added`, `append` of the tape one `appended` per item. Built-in workloads only.
   */
  readonly eventsPerCommand: number;
  /** `snapshotEvery` of every actor type of the workload (its definitions are re-made with it). */
  readonly snapshotEvery: number;
  /** Share of `append` among the tape's commands (the rest are `setThenDouble`); unused by the counter. */
  readonly mix: number;
}

/** The shape of the built-in workloads when nothing is drawn or given: what `counterWorkload` and `tapeWorkload` are. */
export const shapeDefaults: WorkloadShape = { eventsPerCommand: 1, snapshotEvery: 5, mix: 0.5 };

/** Bounds of the shape swarm draws (`snapshotEvery` log-uniformly, so small thresholds are common). */
export const shapeBounds = { eventsPerCommandMax: 5, snapshotEveryMax: 200 } as const;

export interface CounterState {
  readonly value: number;
}

/**
 * A commutative counter: every interleaving of increments gives the same value, so merges never
 * need compensation. Small `snapshotEvery`, so loads and resolutions go through snapshots (I6).
 * `add` emits `times` (default 1) equal events, so a command can weigh several toward snapshots.
 */
export const Counter = defineActor({
  type: 'counter',
  initial: (): CounterState => ({ value: 0 }),
  commands: {
    add: (_s, p: { n: number; times?: number }) => Array.from({ length: p.times ?? 1 }, () => ({ type: 'added' as const, data: { n: p.n } })),
  },
  events: {
    added: (s, d: { n: number }) => ({ value: s.value + d.n }),
  },
  snapshotEvery: shapeDefaults.snapshotEvery,
});

/** Modulus of the tape's `value`, so doubling never leaves the safe integers. */
const valueModulus = 1_000_003;

export interface TapeState {
  /** Set, then doubled: `set 3, doubled` gives 6, `doubled, set 3` gives 3. */
  readonly value: number;
  /** An order-sensitive digest of every appended item (a list's content, in constant size). */
  readonly digest: number;
  readonly length: number;
  /** The last few items, for reading a report. */
  readonly tail: readonly number[];
  /** `length` at the last merge that marked the tape (what `onMerge` records). */
  readonly markedAt: number;
}

/**
 * An order-sensitive actor: each command emits several events whose order changes the state
 * (`append` of items, `setThenDouble`), so a merge that replays one command's events, or two
 * branches' events, in another order gives another state. `onMerge` marks a merged tape with two
 * compensations (record-style: a tape already marked at its length is left alone), so merge
 * packs carry several events too.
 */
export const Tape = defineActor({
  type: 'tape',
  initial: (): TapeState => ({ value: 0, digest: 0, length: 0, tail: [], markedAt: 0 }),
  commands: {
    append: (_s, p: { items: number[] }) => p.items.map((item) => ({ type: 'appended' as const, data: { item } })),
    setThenDouble: (_s, p: { v: number; doublings: number }) => [
      { type: 'set' as const, data: { v: p.v } },
      ...Array.from({ length: p.doublings }, () => ({ type: 'doubled' as const, data: { factor: 2 } })),
    ],
  },
  events: {
    appended: (s, d: { item: number }) => ({
      ...s,
      digest: (Math.imul(s.digest, 31) + d.item + 1) >>> 0,
      length: s.length + 1,
      tail: [...s.tail.slice(-4), d.item],
    }),
    set: (s, d: { v: number }) => ({ ...s, value: d.v }),
    doubled: (s, d: { factor: number }) => ({ ...s, value: (s.value * d.factor) % valueModulus }),
    marked: (s, d: { length: number }) => ({ ...s, markedAt: d.length }),
  },
  onMerge: (merged) =>
    merged.markedAt === merged.length || merged.length === 0
      ? []
      : [
          { type: 'marked' as const, data: { length: merged.length } },
          { type: 'doubled' as const, data: { factor: 2 } },
        ],
  snapshotEvery: shapeDefaults.snapshotEvery,
});

/**
 * The bucket of an actor id for a view's combined rows: ids ending in 0-31 share bucket 0, 32-63
 * bucket 1, and so on (0 without trailing digits). A view recombines a key from all its
 * contributors at every change of one of them, so a key every actor contributes to would cost a
 * run with thousands of actors that much per write; 32 per key keep it bounded, and every run of
 * up to 32 actors still combines them all under one key.
 */
export function bucketOf(id: string): number {
  const digits = /\d+$/.exec(id);
  return digits ? Math.floor(Number(digits[0]) / 32) : 0;
}

/** The counters' view: each counter's value, and their sum per bucket of 32 (a row several actors contribute to). */
export const counterTotals = defineProjection({
  name: 'counter-totals',
  version: 1,
  from: [Counter],
  rows: (actor, state: CounterState) => [
    [`value:${actor.id}`, state.value],
    [`total:${bucketOf(actor.id)}`, state.value],
  ],
  combine: (a: number, b: number) => a + b,
});

/** The tapes' view: each tape's order-sensitive digest and value, and the sum of their lengths per bucket of 32. */
export const tapeDigests = defineProjection({
  name: 'tape-digests',
  version: 1,
  from: [Tape],
  rows: (actor, state: TapeState) => [
    [`digest:${actor.id}`, state.digest],
    [`value:${actor.id}`, state.value],
    [`length:${bucketOf(actor.id)}`, state.length],
  ],
  combine: (a: number, b: number) => a + b,
});

/** The counter workload of a shape: `add` of -5..10 (never 0), 1..eventsPerCommand times, to one of `actors` counters. */
export function counterWorkloadOf(shape: WorkloadShape): SimWorkload {
  const counter = withSnapshotEvery(Counter, shape.snapshotEvery);
  return {
    name: 'counter',
    projection: counterTotals,
    actors: [counter],
    nextCommand(rng, _step, actors) {
      const actor = Counter.ref(`n${rng.int(0, actors - 1)}`);
      const n = rng.int(-5, 10) || 1;
      // Drawn only when it can differ, so the default shape draws what the counter always drew.
      const times = shape.eventsPerCommand > 1 ? rng.int(1, shape.eventsPerCommand) : 1;
      return { actor, type: 'add', payload: times > 1 ? { n, times } : { n } };
    },
  };
}

/** The tape workload of a shape: `append` of 1..eventsPerCommand items (share `mix`) or `setThenDouble`, to one of `actors` tapes. */
export function tapeWorkloadOf(shape: WorkloadShape): SimWorkload {
  const tape = withSnapshotEvery(Tape, shape.snapshotEvery);
  const mixPerMille = Math.round(shape.mix * 1000);
  return {
    name: 'tape',
    projection: tapeDigests,
    actors: [tape],
    nextCommand(rng, _step, actors) {
      const actor = Tape.ref(`t${rng.int(0, actors - 1)}`);
      if (rng.int(1, 1000) <= mixPerMille) {
        const items = Array.from({ length: rng.int(1, shape.eventsPerCommand) }, () => rng.int(0, 999));
        return { actor, type: 'append', payload: { items } };
      }
      return { actor, type: 'setThenDouble', payload: { v: rng.int(1, 999), doublings: rng.int(1, Math.max(1, shape.eventsPerCommand - 1)) } };
    },
  };
}

/** The simulator's built-in workload (the default of `SimOptions.workload` without swarm): the counter of `shapeDefaults`. */
export const counterWorkload: SimWorkload = counterWorkloadOf(shapeDefaults);

/** The order-sensitive built-in workload (`Tape`) of `shapeDefaults`. */
export const tapeWorkload: SimWorkload = tapeWorkloadOf(shapeDefaults);

/** The built-in workloads swarm draws from, by name, as functions of a shape. */
export const builtInWorkloads: Readonly<Record<string, (shape: WorkloadShape) => SimWorkload>> = {
  counter: counterWorkloadOf,
  tape: tapeWorkloadOf,
};

/**
 * A workload given by the caller (an app's), run with another `snapshotEvery`: its definitions
 * re-made with `defineActor`, the rest unchanged (refs carry only the type name, so `nextCommand`
 * still addresses them).
 */
export function withShape(workload: SimWorkload, shape: Pick<WorkloadShape, 'snapshotEvery'>): SimWorkload {
  return {
    name: workload.name,
    ...(workload.projection ? { projection: workload.projection } : {}),
    actors: workload.actors.map((d) => withSnapshotEvery(d, shape.snapshotEvery)),
    nextCommand: (rng, step, actors) => workload.nextCommand(rng, step, actors),
  };
}

function withSnapshotEvery<D extends AnyActorDefinition>(definition: D, snapshotEvery: number): D {
  if (definition.snapshotEvery === snapshotEvery) return definition;
  return defineActor({ ...definition, snapshotEvery }) as D;
}
