import type { AnyActorDefinition, EventRecord } from '@troupe/runtime';

/** An event the definition has no handler for: a history the oracle cannot replay. */
export class OracleReplayError extends Error {
  readonly code = 'ORACLE_REPLAY';
  constructor(event: EventRecord, definitionType: string) {
    super(`oracle: actor type '${definitionType}' has no handler for event ${event.id} of type '${event.type}'`);
    this.name = 'OracleReplayError';
  }
}

/** Applies events in the given order with the definition's own handlers (own properties only). */
export function applyEvents(definition: AnyActorDefinition, state: unknown, events: Iterable<EventRecord>): unknown {
  let current = state;
  for (const event of events) {
    const handler: unknown = Object.hasOwn(definition.events, event.type) ? definition.events[event.type] : undefined;
    if (typeof handler !== 'function') throw new OracleReplayError(event, definition.type);
    current = (handler as (s: unknown, data: unknown, e: EventRecord) => unknown)(current, event.data, event);
  }
  return current;
}
