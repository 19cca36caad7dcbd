import type { EventStore } from '../store/index.js';

/**
 * `store`, calling `then` after every `append` and `merge` has completed (and before it returns):
 * e.g. a view's catch-up, so the view sees every step of a run — diverged heads and merges
 * included — instead of only where the run happened to stop.
 */
export function afterEveryWrite<S extends EventStore>(store: S, then: () => Promise<unknown>): S {
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function') return value;
      const method = (value as (...args: unknown[]) => Promise<unknown>).bind(target);
      if (property !== 'append' && property !== 'merge') return method;
      return async (...args: unknown[]) => {
        const result = await method(...args);
        await then();
        return result;
      };
    },
  });
}
