import { CorruptDataError } from '../errors/index.js';
import type { EventRecord } from '../model/index.js';
import type { AnyActorDefinition } from './defineActor.js';

/** Applies events to a state with the definition's pure event handlers. */
export function fold<State>(definition: AnyActorDefinition, state: State, events: Iterable<EventRecord>): State {
  let current = state;
  for (const event of events) {
    const handler = definition.events[event.type] as
      | ((s: State, data: unknown, e: EventRecord) => State)
      | undefined;
    if (!handler) {
      throw new CorruptDataError(
        `event ${event.id} of ${event.actor.type}:${event.actor.id}`,
        `actor type '${definition.type}' has no handler for event type '${event.type}'`,
      );
    }
    current = handler(current, event.data, event);
  }
  return current;
}

/** Total order of replay: by ts, then by the k-ordered id. */
export function compareEvents(a: EventRecord, b: EventRecord): number {
  if (a.ts !== b.ts) return a.ts - b.ts;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
