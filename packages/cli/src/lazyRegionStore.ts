import type { EventStore, RegionLog } from '@troupe/runtime';
import { cursorAtOrPast } from '@troupe/runtime/store';

/** A region's store reached over the network, connected on first use and again after a failed connect. */
export type LazyRegionStore = EventStore & RegionLog & { readonly connected: boolean };

/**
 * Wraps `connect` so a replicator can start while a source region is unreachable: every call
 * connects first if need be; a failed connect fails that call (the link backs off and retries)
 * and is tried again on the next one. Once connected, the store's client reconnects by itself.
 */
export function lazyRegionStore<S extends EventStore & RegionLog>(connect: () => Promise<S>): LazyRegionStore {
  let store: S | undefined;
  let pending: Promise<S> | undefined;
  let closed = false;
  const get = (): Promise<S> => {
    if (store) return Promise.resolve(store);
    if (closed) return Promise.reject(new Error('the store was closed'));
    pending ??= connect().then(
      (connectedStore) => {
        pending = undefined;
        if (closed) {
          void connectedStore.close();
          throw new Error('the store was closed');
        }
        store = connectedStore;
        return connectedStore;
      },
      (error: unknown) => {
        pending = undefined;
        throw error;
      },
    );
    return pending;
  };
  const target = {
    get connected() {
      return store !== undefined;
    },
    markReached: (cursor: string, mark: string) => cursorAtOrPast(cursor, mark),
    checkpoint: (name: string) => ({
      load: async () => (await get()).checkpoint(name).load(),
      save: async (cursor: string) => (await get()).checkpoint(name).save(cursor),
    }),
    close: async () => {
      closed = true;
      await store?.close();
      store = undefined;
    },
  };
  return new Proxy(target, {
    get(object, property) {
      if (property in object) return object[property as keyof typeof object];
      if (property === 'then') return undefined; // not a thenable
      return async (...args: unknown[]) => {
        const connectedStore = await get();
        const method = (connectedStore as unknown as Record<PropertyKey, unknown>)[property];
        if (typeof method !== 'function') throw new TypeError(`the store has no method ${String(property)}`);
        return (method as (...a: unknown[]) => unknown).apply(connectedStore, args);
      };
    },
  }) as unknown as LazyRegionStore;
}
