import { InvalidOptionError } from '@troupe/runtime';
import type { MergeStrategy } from '@troupe/runtime/resolution';
import { Rng } from './rng.js';
import type { Schedule } from './schedule.js';
import type { StoreFactory } from './stores.js';
import { type SimWorkload, type WorkloadShape, builtInWorkloads, shapeBounds, shapeDefaults, withShape } from './workloads.js';

export const partitionModes = ['halves', 'majority', 'isolate', 'asymmetric', 'mixed'] as const;
export type PartitionMode = (typeof partitionModes)[number];

/** Probabilities, per tick (nemesis, clients) or per ordered link and tick (replication). */
export interface FaultRates {
  /** Start a partition (of the run's partition mode) this tick. */
  readonly partition: number;
  /** Heal every link this tick. */
  readonly heal: number;
  /** A link runs a sync this tick. */
  readonly sync: number;
  /** A scheduled sync is dropped (the message is lost). */
  readonly drop: number;
  /** A scheduled sync runs twice (the message is duplicated). */
  readonly duplicate: number;
  /** A scheduled sync is held back 1-4 ticks (messages reordered). */
  readonly delay: number;
  /** A replica's clock jumps forward by 1-120 s. */
  readonly clockSkew: number;
  /** A replica's clock steps back by 1-120 s. */
  readonly clockBack: number;
  /** A replica crashes (runtime stopped, store kept) and restarts 1-5 ticks later. */
  readonly crash: number;
  /** A command's replica crashes after persisting its pack, before the reply. */
  readonly crashAfterPersist: number;
  /** The client retries an earlier command id (same payload) at a random replica. */
  readonly retry: number;
  /** 2-5 commands to one actor at once, racing a resolution of it. */
  readonly burst: number;
  /**
   * Per tick: a fault inside an operation of one replica's store: its next append, merge, log read
   * (`changesSince`) or snapshot write (`saveSnapshot`, or an append that carries a snapshot)
   * (drawn) fails before or after taking effect (drawn; after:
   * the call took effect, the caller gets an error, like a lost reply). Armed until it fires or
   * the replica crashes. The runtime and the replicators must retry later.
   */
  readonly storeFault: number;
  /** Per tick: the next checkpoint save (a replicator's cursor) into one replica fails, before or after it is written. */
  readonly checkpointFail: number;
  /** Per sync: the connection drops between batches (after 0-2 batches read), the rest of the sync is lost. */
  readonly syncCut: number;
  /**
   * Per tick: one link's replicator restarts (its process, as on a deploy: what it had yet to
   * resolve is forgotten) and loads its checkpoint, which is kept, lost (no cursor: it copies the
   * source's whole log again) or stale (a cursor 1-4 saves older: the batches after it are read
   * again) (drawn). Merging is idempotent, so neither may lose or change anything.
   */
  readonly replicatorRestart: number;
  /**
   * Per tick: the real connection of one replica's store is cut in the middle of its next append,
   * merge, log read, snapshot write, heads read or chain load (drawn): the socket is destroyed right
   * after the call's first command is written (the server may run it; the reply is lost), the
   * client meets its own connection error and reconnects. Only with stores whose connection can be
   * cut (`SimStores.connection`: Redis mode); 0 otherwise, and giving it then is an error.
   */
  readonly connectionDrop: number;
  /**
   * Per tick: one link's replicator process dies in the middle of its next batch: after the
   * batch's merge into the target took effect, before its diverged actors were resolved or its
   * cursor saved, or after they were resolved and before the cursor was saved (drawn). It restarts
   * at once from its checkpoint (the batch is read again, skipped, and its actors resolved then).
   */
  readonly replicatorCrash: number;
}

/** What `simulate` takes. Only `seed` is required; what is not given is drawn from the seed (swarm testing). */
export interface SimOptions {
  readonly seed: number;
  /**
   * What the clients send: an app's `Workload` (its actors and `nextCommand`), run as given (its
   * own `snapshotEvery`, unless `shape.snapshotEvery` is given): fixing it means no workload is
   * drawn. Not given: swarm draws one of the built-in workloads (`counter`, `tape`) and
   * `workloads`, with a drawn `shape`; without swarm, `counterWorkload`. The report names it.
   * It may carry the `projection` every replica keeps a view of (I8; without one, the simulator's own).
   */
  readonly workload?: SimWorkload;
  /**
   * More workloads for swarm to draw from, besides the built-in `counter` and `tape` (e.g. an
   * app's): a drawn one runs with the drawn `snapshotEvery` (its definitions re-made with it).
   * Ignored when `workload` is given.
   */
  readonly workloads?: readonly SimWorkload[];
  /**
   * Fixes parts of the workload's shape (each given field wins over the drawn or default one; see
   * `WorkloadShape`). With a given `workload`, only `snapshotEvery` acts (an app's commands are its own).
   */
  readonly shape?: Partial<WorkloadShape>;
  /** Ticks of workload under faults before the heal (5 ms of virtual time each). Default 200. */
  readonly steps?: number;
  /** Replica count, at least 2. Drawn 2-5 when swarm, else 3. */
  readonly replicas?: number;
  /** Number of actor ids the clients use. Drawn 1-4 when swarm, else 3. */
  readonly actors?: number;
  /**
   * Client steps per tick (each a command, a retry or a burst), between the nemesis and the
   * replication of the tick. Default 1. Many clients per tick model a busy system: replication
   * and faults then act on batches of writes, and the run simulates more commands per tick.
   */
  readonly commandsPerTick?: number;
  /** Kind of partitions the nemesis makes. Drawn when swarm, else 'mixed'. */
  readonly partitionMode?: PartitionMode;
  /** Fault rates (each given one wins over the drawn or default one). Drawn when swarm, else `defaultFaults`. */
  readonly faults?: Partial<FaultRates>;
  /**
   * Ms an actor may stay unused on its replica's (virtual) clock before the replica passivates
   * it: every tick starts with `Runtime.passivateIdle()` on each replica that is up, so the
   * actor's next message reloads it from the store (traced as `passivate`, counted as
   * `passivations`). 0 = never. Drawn when swarm (0 in a quarter of the runs, else 10-1,000 ms),
   * else 250.
   */
  readonly idleTimeoutMs?: number;
  /** Sync rounds (every ordered pair once) allowed after the heal before "did not converge". Default 12. */
  readonly convergeRoundsMax?: number;
  /** Draw the options that are not given from the seed (swarm testing). Default true; false uses `simDefaults`. */
  readonly swarm?: boolean;
  /** Resolution each replica's runtime uses (a factory, so it can close over the replica id). Default computeMerge. */
  readonly mergeStrategy?: (replicaId: string) => MergeStrategy;
  /** Name printed in the report for `mergeStrategy`. */
  readonly mergeStrategyName?: string;
  /** Return every step the run drew as `report.schedule` (recording never changes what the run does). */
  readonly recordSchedule?: boolean;
  /** Replay these steps instead of drawing them (see `ScheduleStep`); options are still drawn from the seed. */
  readonly schedule?: Schedule;
  /**
   * Where the replicas keep their packs: a factory called once per run that opens each replica's
   * store, reopens it after a crash and deletes everything at the end (see `StoreFactory`).
   * Default `memoryStores` (a `MemoryStore` each). Not part of the trace: it draws nothing.
   */
  readonly stores?: StoreFactory;
  /** Called after every tick of the workload phase (for progress bars); draws nothing. */
  readonly onProgress?: (tick: number, steps: number) => void;
}

/** The options a run actually used: printed in the report, enough to replay it. */
export interface RunOptions {
  readonly workload: string;
  /**
   * The shape the workload ran with: present when the workload was drawn (the built-in ones use
   * every field, an extra one only `snapshotEvery`) or a shape was given. For a given workload
   * only `{ snapshotEvery }`, and only when `shape.snapshotEvery` was given (the other fields
   * would have no effect on an app's commands); absent for a given workload run as it is.
   */
  readonly shape?: Pick<WorkloadShape, 'snapshotEvery'> & Partial<WorkloadShape>;
  readonly steps: number;
  readonly replicas: number;
  readonly actors: number;
  readonly commandsPerTick: number;
  readonly partitionMode: PartitionMode;
  readonly faults: FaultRates;
  /** 0 = passivation off. */
  readonly idleTimeoutMs: number;
  readonly convergeRoundsMax: number;
  readonly swarm: boolean;
  readonly mergeStrategy: string;
}

/** The options' values when neither given nor drawn (`swarm: false`, or never drawn). */
export const simDefaults = {
  steps: 200,
  replicas: 3,
  actors: 3,
  commandsPerTick: 1,
  partitionMode: 'mixed',
  idleTimeoutMs: 250,
  convergeRoundsMax: 12,
  swarm: true,
} as const satisfies Partial<Record<keyof RunOptions, unknown>>;

export const defaultFaults: FaultRates = {
  partition: 0.04,
  heal: 0.05,
  sync: 0.3,
  drop: 0.1,
  duplicate: 0.05,
  delay: 0.1,
  clockSkew: 0.01,
  clockBack: 0.01,
  crash: 0.01,
  crashAfterPersist: 0.005,
  retry: 0.05,
  burst: 0.04,
  storeFault: 0.03,
  checkpointFail: 0.01,
  syncCut: 0.05,
  replicatorRestart: 0.01,
  connectionDrop: 0.02,
  replicatorCrash: 0.01,
};

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** The seed's side streams (`Rng.side`): what is drawn from them never shifts the main stream. */
export const sideStreams = { replicatorCrashRate: 1, replicatorCrashSteps: 2 } as const;

/**
 * Draws every option from the seed, always in the same order and always all of them, then lets
 * the given ones win: fixing one option never changes what the others draw.
 */
export function resolveOptions(rng: Rng, given: SimOptions): RunOptions {
  const swarm = given.swarm ?? true;
  const between = (lo: number, hi: number) => round3(lo + rng.float() * (hi - lo));
  // Some fault kinds are switched off entirely in a quarter of the runs (swarm testing).
  const maybe = (lo: number, hi: number) => {
    const off = rng.chance(0.25);
    const rate = between(lo, hi);
    return off ? 0 : rate;
  };
  const drawn = {
    replicas: rng.int(2, 5),
    actors: rng.int(1, 4),
    partitionMode: rng.pick(partitionModes),
    faults: {
      partition: between(0.02, 0.08),
      heal: between(0.02, 0.1),
      sync: between(0.1, 0.5),
      drop: maybe(0, 0.3),
      duplicate: maybe(0, 0.2),
      delay: maybe(0, 0.3),
      clockSkew: maybe(0, 0.03),
      clockBack: maybe(0, 0.03),
      crash: maybe(0, 0.02),
      crashAfterPersist: maybe(0, 0.01),
      retry: maybe(0, 0.1),
      burst: maybe(0, 0.08),
    } satisfies Omit<FaultRates, 'storeFault' | 'checkpointFail' | 'syncCut' | 'replicatorRestart' | 'connectionDrop' | 'replicatorCrash'>,
    idleTimeoutMs: rng.chance(0.25) ? 0 : rng.int(10, 1_000),
    // Drawn last, so the draws above are those of the runs before workloads were drawn.
    ...drawWorkload(rng, given.workloads ?? []),
  };
  // Faults inside operations: drawn after everything above, so the draws above stay what they were.
  const operationFaults = { storeFault: maybe(0, 0.06), checkpointFail: maybe(0, 0.03), syncCut: maybe(0, 0.1) };
  // Replicator restarts (lost and stale checkpoints) and connection drops: drawn after those, likewise.
  const restartsAndDrops = { replicatorRestart: maybe(0, 0.03), connectionDrop: maybe(0, 0.06) };
  // Replicators killed mid-batch: drawn from side stream 1 of the seed (their steps from side
  // stream 2), so every run draws its other options and steps exactly as before they existed.
  const side = Rng.side(rng.seed, sideStreams.replicatorCrashRate);
  const replicatorCrashes = { replicatorCrash: side.chance(0.25) ? 0 : round3(side.float() * 0.03) };
  const integer = (name: string, value: number | undefined, min: number) => {
    if (value !== undefined && !(Number.isInteger(value) && value >= min)) throw new InvalidOptionError(name, `must be an integer >= ${min}, got ${value}`);
  };
  integer('steps', given.steps, 0);
  integer('replicas', given.replicas, 2);
  integer('actors', given.actors, 1);
  integer('commandsPerTick', given.commandsPerTick, 1);
  integer('idleTimeoutMs', given.idleTimeoutMs, 0);
  integer('convergeRoundsMax', given.convergeRoundsMax, 1);
  integer('shape.eventsPerCommand', given.shape?.eventsPerCommand, 1);
  integer('shape.snapshotEvery', given.shape?.snapshotEvery, 1);
  if (given.shape?.mix !== undefined && !(given.shape.mix >= 0 && given.shape.mix <= 1)) throw new InvalidOptionError('shape.mix', `must be between 0 and 1, got ${given.shape.mix}`);
  const drawsWorkload = swarm && given.workload === undefined;
  const workloadName = given.workload?.name ?? (drawsWorkload ? drawn.workload : 'counter');
  return {
    workload: workloadName,
    ...shapeOf(given, drawsWorkload ? drawn.shape : undefined),
    steps: given.steps ?? simDefaults.steps,
    replicas: given.replicas ?? (swarm ? drawn.replicas : simDefaults.replicas),
    actors: given.actors ?? (swarm ? drawn.actors : simDefaults.actors),
    // Never drawn: a busy system is asked for, not found by chance.
    commandsPerTick: given.commandsPerTick ?? simDefaults.commandsPerTick,
    partitionMode: given.partitionMode ?? (swarm ? drawn.partitionMode : simDefaults.partitionMode),
    faults: { ...(swarm ? { ...drawn.faults, ...operationFaults, ...restartsAndDrops, ...replicatorCrashes } : defaultFaults), ...given.faults },
    idleTimeoutMs: given.idleTimeoutMs ?? (swarm ? drawn.idleTimeoutMs : simDefaults.idleTimeoutMs),
    convergeRoundsMax: given.convergeRoundsMax ?? simDefaults.convergeRoundsMax,
    swarm,
    mergeStrategy: given.mergeStrategy ? (given.mergeStrategyName ?? 'custom') : 'computeMerge',
  };
}

/**
 * The shape a run records. A given workload keeps its own `snapshotEvery` unless
 * `shape.snapshotEvery` is given, and never uses the other fields (its commands are its own), so
 * only that one is recorded: filling in `shapeDefaults` would re-make the app's actors with
 * `snapshotEvery` 5 and print fields that did nothing. Otherwise the drawn shape (or, without
 * swarm, `shapeDefaults`) with the given fields winning, absent when neither drawn nor given.
 */
function shapeOf(given: SimOptions, drawn: WorkloadShape | undefined): Pick<RunOptions, 'shape'> {
  if (given.workload) {
    const snapshotEvery = given.shape?.snapshotEvery;
    return snapshotEvery === undefined ? {} : { shape: { snapshotEvery } };
  }
  if (drawn === undefined && given.shape === undefined) return {};
  // A field given as `undefined` is not given (it must not blank out the drawn one).
  const fixed = Object.fromEntries(Object.entries(given.shape ?? {}).filter(([, value]) => value !== undefined)) as Partial<WorkloadShape>;
  return { shape: { ...(drawn ?? shapeDefaults), ...fixed } };
}

/** Where a drawn workload comes from: the built-in ones by name, then the caller's extra ones. */
function workloadCandidates(extra: readonly SimWorkload[]): string[] {
  return [...Object.keys(builtInWorkloads), ...extra.map((w) => w.name)];
}

/** The workload and its shape, drawn (always the same draws, whatever is given). */
function drawWorkload(rng: Rng, extra: readonly SimWorkload[]): { workload: string; shape: WorkloadShape } {
  const workload = rng.pick(workloadCandidates(extra));
  const eventsPerCommand = rng.int(1, shapeBounds.eventsPerCommandMax);
  // Log-uniform over 1..max: a uniform draw would make thresholds under 10 rare, and small ones
  // are where snapshots are written and read most.
  const snapshotEvery = Math.min(shapeBounds.snapshotEveryMax, Math.max(1, Math.round(Math.exp(rng.float() * Math.log(shapeBounds.snapshotEveryMax)))));
  const mix = round3(rng.float());
  return { workload, shape: { eventsPerCommand, snapshotEvery, mix } };
}

/**
 * The workload a run drives, for the options it resolved: the given one (re-made with a given
 * `snapshotEvery`), or the drawn one with its shape.
 */
export function workloadFor(config: RunOptions, given: SimOptions): SimWorkload {
  if (given.workload) return config.shape ? withShape(given.workload, config.shape) : given.workload;
  // Not a given workload: `shapeOf` recorded every field (drawn or over `shapeDefaults`) when present.
  const shape: WorkloadShape = { ...shapeDefaults, ...config.shape };
  const builtIn = builtInWorkloads[config.workload];
  if (builtIn) return builtIn(shape);
  const extra = (given.workloads ?? []).find((w) => w.name === config.workload);
  if (!extra) throw new InvalidOptionError('workloads', `no workload named '${config.workload}'`);
  return withShape(extra, shape);
}
