import { CorruptDataError } from '../errors/index.js';
import type { EventRecord } from '../model/index.js';
import type { AnyActorDefinition } from './defineActor.js';

/** Applies events to a state with the definition's pure event handlers. */
export function fold<State>(definition: AnyActorDefinition, state: State, events: Iterable<EventRecord>): State {
  let current = state;
  for (const event of events) {
    // Own properties only: an event type named 'constructor' or 'toString' is not a handler.
    const handler = Object.hasOwn(definition.events, event.type)
      ? (definition.events[event.type] as (s: State, data: unknown, e: EventRecord) => State)
      : undefined;
    if (typeof handler !== 'function') {
      throw new CorruptDataError(
        `event ${event.id} of ${event.actor.type}:${event.actor.id}`,
        `actor type '${definition.type}' has no handler for event type '${event.type}'`,
      );
    }
    current = handler(current, event.data, event);
  }
  return current;
}

/**
 * Total order of replay: by ts, then by the k-ordered id, then by replica (ids of two replicas
 * that were given the same machine id can collide; the order must stay total and deterministic).
 */
export function compareEvents(a: EventRecord, b: EventRecord): number {
  if (a.ts !== b.ts) return a.ts - b.ts;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return a.replica < b.replica ? -1 : a.replica > b.replica ? 1 : 0;
}
