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
  /**
   * Replica `index`'s live connection to its store's server, for the nemesis to cut (Redis mode:
   * `connectionDrop` faults). Optional: without it (a memory store has no connection) the swarm
   * draws no connection drop. Asked again after each restart (a new process, a new connection).
   */
  connection?(index: number): CuttableConnection | undefined;
}

/**
 * A real connection the nemesis can cut in the middle of a store call (`ioredisConnection` makes
 * one of an ioredis client). The cut is real: the socket is destroyed, the client meets its own
 * connection error and reconnects by itself.
 */
export interface CuttableConnection {
  /**
   * Destroys the socket right after the next command is written to it: that command reaches the
   * server (which may run it), its reply is lost, the call fails with the client's own error.
   */
  cutAfterNextWrite(): void;
  /** Disarms a cut that has not fired (the call wrote nothing). True when one was armed. */
  cancelCut(): boolean;
  /** Resolves once the client is connected again (at once when it is); rejects after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
  /** What happened on this connection: cuts that fired, errors the client reported, reconnections after a cut. */
  readonly stats: ConnectionStats;
}

export interface ConnectionStats {
  cuts: number;
  errors: number;
  reconnects: number;
}

/** What `prefixedStores`' `connect` may return: the store, with the connection the nemesis may cut. */
export interface ConnectedStore {
  readonly store: DestroyableStore;
  readonly connection?: CuttableConnection;
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
 * When `connect` also gives the store's connection (`ConnectedStore`), the nemesis may cut it
 * (`SimStores.connection`, `connectionDrop` faults).
 */
export function prefixedStores(connect: (prefix: string) => Promise<DestroyableStore | ConnectedStore>, used: StoreUsed): StoreFactory {
  return ({ seed, replicas }) => {
    const base = `sim-${seed}-${randomBytes(4).toString('hex')}`;
    const prefixes = Array.from({ length: replicas }, (_, i) => `${base}-r${i}`);
    const open = new Map<number, ConnectedStore>();
    const connected = async (prefix: string): Promise<ConnectedStore> => {
      const opened = await connect(prefix);
      return isConnected(opened) ? opened : { store: opened };
    };
    return {
      used: { ...used, prefixes },
      open: async (index) => {
        const opened = await connected(prefixes[index]!);
        open.set(index, opened);
        return opened.store;
      },
      crashed: async (index) => {
        await open.get(index)?.store.close();
        open.delete(index);
      },
      connection: (index) => open.get(index)?.connection,
      dispose: async () => {
        const results = await Promise.allSettled(prefixes.map(async (prefix, index) => (open.get(index) ?? (await connected(prefix))).store.destroy()));
        open.clear();
        for (const r of results) if (r.status === 'rejected') throw r.reason;
      },
    };
  };
}

function isConnected(opened: DestroyableStore | ConnectedStore): opened is ConnectedStore {
  return typeof (opened as Partial<DestroyableStore>).destroy !== 'function';
}
