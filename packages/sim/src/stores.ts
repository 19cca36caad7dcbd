import { randomBytes } from 'node:crypto';
import { type EventStore, MemoryStore } from '@troupe/runtime';

/**
 * Where a run's replicas kept their packs, as the report shows it (not part of the trace): a
 * `kind` ('memory', 'redis', ...) and whatever else identifies the data (a URL, key prefixes...).
 */
export interface StoreUsed {
  readonly kind: string;
  readonly [detail: string]: unknown;
}

/** What a store factory is told about the run it opens stores for. */
export interface StoreRun {
  readonly seed: number;
  readonly replicas: number;
}

/** One run's stores: one per replica, reopened after a crash, disposed of at the end. */
export interface SimStores {
  /** For the report. */
  readonly used: StoreUsed;
  /**
   * Replica `index`'s store. Called when the run starts and again each time the replica restarts
   * after a crash: then it must give the same data (the same object, or a new connection to it).
   */
  open(index: number): Promise<EventStore>;
  /**
   * The replica's process died (its runtime is already stopped): drop what the process held,
   * e.g. close its connection, and keep the data. Optional: a memory store is its data.
   */
  crashed?(index: number): Promise<void>;
  /**
   * After the run, also when it threw (then some replicas may never have opened): close every
   * store still open and delete everything the run wrote. Called once.
   */
  dispose(): Promise<void>;
}

/** Opens a run's stores. `simulate` calls it once per run (every shrink candidate is a run). */
export type StoreFactory = (run: StoreRun) => SimStores | Promise<SimStores>;

/** The default: a `MemoryStore` per replica, kept across crashes (a crash loses the runtime, not the store). */
export const memoryStores: StoreFactory = () => {
  const stores = new Map<number, MemoryStore>();
  return {
    used: { kind: 'memory' },
    open: async (index) => {
      let store = stores.get(index);
      if (!store) stores.set(index, (store = new MemoryStore()));
      return store;
    },
    dispose: async () => {
      await Promise.allSettled([...stores.values()].map((s) => s.close()));
      stores.clear();
    },
  };
};

/** A store that can delete everything it holds (as `RedisStore.destroy()` does) and closes. */
export interface DestroyableStore extends EventStore {
  destroy(): Promise<unknown>;
}

/**
 * Stores under a fresh key prefix per replica, `sim-<seed>-<8 random hex>-r<i>` (the random part
 * from crypto, never from the seeded PRNG, so it stays out of the trace), for stores in a shared
 * server such as Redis: `connect(prefix)` opens one. A crash closes the replica's store (the process
 * died with its connection; the data stays under its prefix); the restart connects again on the same
 * prefix. At the end, also when the run threw, every prefix is destroyed, those of replicas that were
 * down or never connected included. `used` is what the report shows, with the prefixes added.
 */
export function prefixedStores(connect: (prefix: string) => Promise<DestroyableStore>, used: StoreUsed): StoreFactory {
  return ({ seed, replicas }) => {
    const base = `sim-${seed}-${randomBytes(4).toString('hex')}`;
    const prefixes = Array.from({ length: replicas }, (_, i) => `${base}-r${i}`);
    const open = new Map<number, DestroyableStore>();
    return {
      used: { ...used, prefixes },
      open: async (index) => {
        const store = await connect(prefixes[index]!);
        open.set(index, store);
        return store;
      },
      crashed: async (index) => {
        await open.get(index)?.close();
        open.delete(index);
      },
      dispose: async () => {
        const results = await Promise.allSettled(prefixes.map(async (prefix, index) => (open.get(index) ?? (await connect(prefix))).destroy()));
        open.clear();
        for (const r of results) if (r.status === 'rejected') throw r.reason;
      },
    };
  };
}
