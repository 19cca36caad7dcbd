import { AppendConflictError, type EventStore } from '@troupe/runtime';

/** The same store, with every append refused by a conflict reported to `onConflict` (for metrics). */
export function countingConflicts(store: EventStore, onConflict: () => void): EventStore {
  // Methods are bound once, not on every access: the worker calls the store several times per command.
  const bound = new Map<PropertyKey, unknown>();
  const append: EventStore['append'] = async (...args) => {
    try {
      return await store.append(...args);
    } catch (error) {
      if (error instanceof AppendConflictError) onConflict();
      throw error;
    }
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'append') return append;
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      let fn = bound.get(property);
      if (fn === undefined) bound.set(property, (fn = (value as (...a: unknown[]) => unknown).bind(target)));
      return fn;
    },
  });
}
