import type { AnyActorDefinition } from '../actor/index.js';
import { createRuntime, type Runtime } from '../hosting/index.js';
import { FlakeIdSource, ManualClock } from '../ids/index.js';
import type { ActorRef, Pack } from '../model/index.js';
import { Replicator } from '../replication/index.js';
import { type EventStore, MemoryStore } from '../store/index.js';

/**
 * N replicas (in-memory stores unless `stores` are given) with manual clocks and one-way
 * replicators between every pair, for tests.
 */
export class TestCluster {
  readonly runtimes: Runtime[] = [];
  readonly stores: EventStore[] = [];
  readonly clocks: ManualClock[] = [];
  /** replicators[from][to] */
  readonly replicators: Replicator[][] = [];
  /** Same, without resolving at the target: lets a test pile up heads and resolve them at once. */
  readonly copiers: Replicator[][] = [];

  constructor(
    size: number,
    actors: readonly AnyActorDefinition[],
    options: { liveActorsMax?: number; skewMs?: readonly number[]; stores?: readonly EventStore[] } = {},
  ) {
    for (let i = 0; i < size; i++) {
      const clock = new ManualClock(1_700_000_000_000 + (options.skewMs?.[i] ?? 0));
      const store = options.stores?.[i] ?? new MemoryStore();
      this.clocks.push(clock);
      this.stores.push(store);
      this.runtimes.push(
        createRuntime({
          actors,
          store,
          replicaId: `r${i}`,
          clock,
          idSource: new FlakeIdSource({ machineId: i, clock }),
          ...(options.liveActorsMax ? { liveActorsMax: options.liveActorsMax } : {}),
        }),
      );
    }
    for (let i = 0; i < size; i++) {
      this.replicators.push(this.runtimes.map((target) => new Replicator(this.runtimes[i]!, target)));
      this.copiers.push(this.runtimes.map((target) => new Replicator(this.runtimes[i]!, target, { resolve: false })));
    }
  }

  get size(): number {
    return this.runtimes.length;
  }

  /** Syncs every ordered pair until a whole pass copies and resolves nothing. Throws if it never settles. */
  async settle(passesMax = 20): Promise<number> {
    for (let pass = 1; pass <= passesMax; pass++) {
      let work = 0;
      for (let from = 0; from < this.size; from++) {
        for (let to = 0; to < this.size; to++) {
          if (from === to) continue;
          const report = await this.replicators[from]![to]!.sync();
          work += report.copied + report.resolved.length;
        }
      }
      if (work === 0) return pass;
    }
    throw new Error(`cluster did not settle within ${passesMax} passes`);
  }

  async allPacks(replica: number, actor: ActorRef): Promise<Pack[]> {
    const { packs } = await this.stores[replica]!.changesSince(undefined, Number.MAX_SAFE_INTEGER);
    return packs.filter((p) => p.actor.type === actor.type && p.actor.id === actor.id);
  }

  async stop(): Promise<void> {
    await Promise.all(this.runtimes.map((r) => r.stop()));
  }
}
