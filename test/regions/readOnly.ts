import type { EventStore } from '@troupe/runtime';

/**
 * The store for the test's own reads: `stateAt` (used by `computeMerge`) saves a snapshot when it
 * folded many packs, and a test that only looks must not write into a region it is checking.
 */
export function readOnly<S extends EventStore>(store: S): S {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'saveSnapshot') return async () => undefined;
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
