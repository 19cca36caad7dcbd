import { AppendConflictError, type EventStore } from '@troupe/runtime';

/** The same store, with every append refused by a conflict reported to `onConflict` (for metrics). */
export function countingConflicts(store: EventStore, onConflict: () => void): EventStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property === 'append' && typeof value === 'function') {
        return async (...args: unknown[]) => {
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } catch (error) {
            if (error instanceof AppendConflictError) onConflict();
            throw error;
          }
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
