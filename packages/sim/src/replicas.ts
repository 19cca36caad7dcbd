import { type AnyActorDefinition, type Runtime, type RuntimeObserver, createRuntime } from '@troupe/runtime';
import { FlakeIdSource } from '@troupe/runtime/store';
import { type MergeStrategy, computeMerge } from '@troupe/runtime/resolution';
import { ManualClock, withMergeStrategy } from '@troupe/runtime/testkit';
import type { ViewWatch } from './checkers/i8.js';
import { InstrumentedStore } from './instrumentedStore.js';
import type { SimStores } from './stores.js';

/** Virtual time 0 of every replica's clock. */
export const epochMs = 1_700_000_000_000;

/** One simulated replica: a process with its own clock, runtime and (instrumented) store. */
export interface Replica {
  readonly index: number;
  readonly id: string;
  readonly clock: ManualClock;
  /** Survives restarts (as a persisted last timestamp would), so ids stay unique per replica. */
  readonly ids: FlakeIdSource;
  readonly store: InstrumentedStore;
  /** The resolution its runtime uses (`computeMerge`, or a broken one the checkers must catch). */
  readonly strategy: MergeStrategy;
  runtime: Runtime;
  up: boolean;
  /** The tick a crashed replica restarts at. */
  restartAt: number;
  crashes: number;
}

export interface ReplicaSettings {
  readonly count: number;
  /** Hosted traced, so the checkers can read the fold order back. */
  readonly definitions: ReadonlyMap<string, AnyActorDefinition>;
  readonly stores: SimStores;
  /** A replica's resolution (default `computeMerge`). */
  readonly strategy?: (replicaId: string) => MergeStrategy;
  /** Ms on the replica's clock after which an unused actor may be passivated (`Runtime.passivateIdle`). */
  readonly idleTimeoutMs: number;
  /** What each replica's runtime reports (resolutions, passivations...). */
  readonly observer: (replica: Replica) => RuntimeObserver;
  /** I8: each replica process keeps a view following its store (a new one after a restart). */
  readonly views?: ViewWatch;
}

/**
 * The run's replicas and their lifecycle: open (a store from the factory, a runtime on it),
 * crash (the runtime stops, the factory drops what the process held) and restart (the store again
 * from the factory, a new runtime: every cache is lost, the data is not).
 */
export class Replicas {
  readonly all: Replica[] = [];

  constructor(private readonly settings: ReplicaSettings) {}

  /** Opens every replica's store and runtime. Draws nothing from the PRNG. */
  async open(): Promise<void> {
    const loadBound = (type: string): number => this.settings.definitions.get(type)?.snapshotEvery ?? Infinity;
    for (let index = 0; index < this.settings.count; index++) {
      const id = `r${index}`;
      const clock = new ManualClock(epochMs);
      const replica: Replica = {
        index,
        id,
        clock,
        ids: new FlakeIdSource({ machineId: index + 1, clock }),
        // I6's bound on a load outside resolutions: the traced definition's snapshotEvery.
        store: new InstrumentedStore(await this.settings.stores.open(index), id, loadBound),
        strategy: this.settings.strategy?.(id) ?? computeMerge,
        runtime: undefined as unknown as Runtime,
        up: true,
        restartAt: -1,
        crashes: 0,
      };
      replica.store.connection = this.settings.stores.connection?.(index);
      // Every region's store declares the deployment's regions at start (as `troupe replicate` does):
      // the runtime's stability answers (`replicationState`) read them. The data outlives crashes.
      if (replica.store.regionLog) await replica.store.declareRegions(Array.from({ length: this.settings.count }, (_, i) => `r${i}`));
      replica.runtime = this.start(replica);
      this.all.push(replica);
    }
  }

  get(index: number): Replica {
    return this.all[index]!;
  }

  /** The process dies: its runtime stops and the factory drops what it held; the data stays. */
  async crash(replica: Replica, restartAt: number): Promise<void> {
    await replica.runtime.stop();
    replica.up = false;
    this.settings.views?.crashed(replica);
    await this.settings.stores.crashed?.(replica.index);
    replica.crashes++;
    replica.restartAt = restartAt;
  }

  /** A new process: the store again from the factory (same data), a new runtime on it. */
  async restart(replica: Replica): Promise<void> {
    const store = await this.settings.stores.open(replica.index);
    replica.store.reopen(store, this.settings.stores.connection?.(replica.index));
    replica.runtime = this.start(replica);
    replica.up = true;
  }

  /** Stops the runtimes still up, then lets the factory close and delete the stores. Throws the first failure. */
  async stop(): Promise<void> {
    const stopping = await Promise.allSettled(this.all.filter((r) => r.up).map((r) => r.runtime.stop()));
    for (const r of this.all) r.up = false;
    await this.settings.stores.dispose();
    for (const s of stopping) if (s.status === 'rejected') throw s.reason;
  }

  private start(replica: Replica): Runtime {
    this.settings.views?.open(replica);
    const options = {
      actors: [...this.settings.definitions.values()],
      store: replica.store,
      replicaId: replica.id,
      machineId: replica.index + 1,
      clock: replica.clock,
      idSource: replica.ids,
      idleTimeoutMs: this.settings.idleTimeoutMs,
      // No timer: the simulation calls passivateIdle() at a fixed point of each tick.
      idleSweepEveryMs: 0,
      observer: this.settings.observer(replica),
      // An onMerge that emits again on its own result books compensations twice when a later merge
      // covers an earlier one (#14): the resolution fails, so the run cannot converge and I2 names it.
      onMergeCheck: 'throw' as const,
    };
    return createRuntime(replica.strategy === computeMerge ? options : withMergeStrategy(options, replica.strategy));
  }
}
