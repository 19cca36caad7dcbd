import { AssertionError } from 'node:assert';
import { isDeepStrictEqual, inspect } from 'node:util';
import {
  type AnyActorDefinition,
  type CommandOf,
  type DecideContext,
  type EmittedEvent,
  type EventsOf,
  type StateOf,
  fold,
  isRejection,
} from '../actor/index.js';
import { canonical, canonicalInput } from '../codec/index.js';
import { InvalidDecisionError, InvalidPayloadError, UnknownCommandError } from '../errors/index.js';
import type { EventRecord } from '../model/index.js';

/**
 * A decider test kit in the style of Emmett's `DeciderSpecification`:
 *
 * ```ts
 * given(Account, [{ type: 'opened', data: { owner: 'Alice' } }])
 *   .when({ type: 'withdraw', payload: { amount: 5 } })
 *   .thenRejects('insufficient funds');
 * ```
 *
 * It runs a command the way the runtime decides one, without a runtime or a store: folds the
 * `given` events through the definition's event handlers, checks the command exists, validates a
 * copy of the payload with the definition's validator, calls the decider with a fixed context,
 * checks the decision (events of declared types, or `reject(reason)`) and folds the emitted events
 * onto the state. State and payload are deep-frozen first, so a decider that mutates them throws.
 * Failures throw node's `AssertionError` with a diff: no test framework is needed.
 */

/** An event as deciders emit it and `given` takes it: `{ type, data }` of one of the definition's event types. */
export type DeciderEvent<Def extends AnyActorDefinition> = EmittedEvent<EventsOf<Def>>;

/** The context every decider of a case sees, unless `given`'s `context` overrides a field. */
export const deciderContextDefaults = {
  commandId: 'test-command',
  now: 1_700_000_000_000,
  replica: 'test',
  actorId: 'test',
} as const;

export interface GivenOptions {
  /** Fields of the DecideContext to override; the actor defaults to `{ type: definition.type, id: 'test' }`. */
  readonly context?: Partial<DecideContext>;
}

export interface DeciderCase<Def extends AnyActorDefinition> {
  /** The state after the `given` events, folded from `initial()`. */
  readonly state: StateOf<Def>;
  /** Decides `command` on that state. Nothing runs until one of the `then...` methods is called. */
  when(command: CommandOf<Def>): DeciderWhen<Def>;
}

export interface DeciderWhen<Def extends AnyActorDefinition> {
  /** Passes when the decider emitted exactly `expected` (deep equality, in order); returns the state after them. */
  then(expected: readonly DeciderEvent<Def>[]): StateOf<Def>;
  /** Passes when the decider returned `reject(reason)`; with `reason`, when it is that string or matches that pattern. */
  thenRejects(reason?: string | RegExp): string;
  /**
   * Passes when deciding threw: an unknown command, a payload the validator refused
   * (InvalidPayloadError), an invalid decision (InvalidDecisionError) or a decider or event handler
   * that threw. With `errorClass`, only an instance of it. Returns the error.
   */
  thenThrows<E extends Error = Error>(errorClass?: abstract new (...args: never[]) => E): E;
}

type Outcome =
  | { readonly kind: 'events'; readonly events: readonly { readonly type: string; readonly data: unknown }[]; readonly state: unknown }
  | { readonly kind: 'rejected'; readonly reason: string }
  | { readonly kind: 'threw'; readonly error: unknown };

/** Starts a case: `definition` after `events` (default none). */
export function given<Def extends AnyActorDefinition>(
  definition: Def,
  events: readonly DeciderEvent<Def>[] = [],
  options: GivenOptions = {},
): DeciderCase<Def> {
  const context: DecideContext = {
    actor: { type: definition.type, id: deciderContextDefaults.actorId },
    commandId: deciderContextDefaults.commandId,
    now: deciderContextDefaults.now,
    replica: deciderContextDefaults.replica,
    ...options.context,
  };
  const state = fold(definition, definition.initial(), givenRecords(events, context)) as StateOf<Def>;
  return {
    state,
    when(command) {
      const label = `${definition.type}.${String(command.type)}`;
      const commandContext = command.commandId === undefined ? context : { ...context, commandId: command.commandId };
      let outcome: Outcome | undefined;
      const decided = (): Outcome => (outcome ??= decide(definition, state, command, commandContext, events.length));
      return {
        then(expected) {
          const result = decided();
          if (result.kind !== 'events') throw unexpected(label, 'to emit events', result);
          const actual = result.events.map((e) => ({ type: e.type, data: e.data }));
          if (!isDeepStrictEqual(actual, expected)) {
            throw withHeader(`${label} emitted other events than expected`, new AssertionError({ actual, expected, operator: 'deepStrictEqual' }));
          }
          return result.state as StateOf<Def>;
        },
        thenRejects(reason) {
          const result = decided();
          if (result.kind !== 'rejected') throw unexpected(label, 'to be rejected', result);
          const matches = reason === undefined || (typeof reason === 'string' ? result.reason === reason : reason.test(result.reason));
          if (!matches) {
            const header = `${label} was rejected for another reason than expected`;
            throw typeof reason === 'string'
              ? withHeader(header, new AssertionError({ actual: result.reason, expected: reason, operator: 'strictEqual' }))
              : new AssertionError({ message: `${header}: '${result.reason}' does not match ${String(reason)}`, actual: result.reason, expected: reason, operator: 'match' });
          }
          return result.reason;
        },
        thenThrows<E extends Error>(errorClass?: abstract new (...args: never[]) => E): E {
          const result = decided();
          if (result.kind !== 'threw') throw unexpected(label, `to throw${errorClass ? ` ${errorClass.name}` : ''}`, result);
          if (errorClass && !(result.error instanceof errorClass)) {
            throw new AssertionError({
              message: `expected ${label} to throw ${errorClass.name}, but it threw ${describeError(result.error)}`,
              actual: result.error,
              expected: errorClass,
              operator: 'instanceOf',
            });
          }
          return result.error as E;
        },
      };
    },
  };
}

/** The `given` events as records the event handlers accept: ids 1..n, one ms apart before `now`. */
function givenRecords(events: readonly { readonly type: string; readonly data: unknown }[], context: DecideContext): EventRecord[] {
  return events.map((event, i) => ({
    id: eventId(i + 1),
    actor: context.actor,
    type: event.type,
    data: event.data,
    ts: context.now - events.length + i,
    correlationId: `given-${i + 1}`,
    causationId: `given-${i + 1}`,
    replica: context.replica,
  }));
}

/** The emitted events as the runtime writes them: ids after the given ones, one ts (`now`), caused by the command. */
function emittedRecords(events: readonly { readonly type: string; readonly data: unknown }[], context: DecideContext, givenCount: number): EventRecord[] {
  return events.map((event, i) => ({
    id: eventId(givenCount + i + 1),
    actor: context.actor,
    type: event.type,
    data: event.data,
    ts: context.now,
    correlationId: context.commandId,
    causationId: context.commandId,
    replica: context.replica,
  }));
}

/** A fixed-width decimal id, like the runtime's flake ids, so string order is numeric order. */
function eventId(n: number): string {
  return String(n).padStart(20, '0');
}

/** What the runtime does with a command between validation and persisting, without a store. */
function decide(
  definition: AnyActorDefinition,
  state: unknown,
  command: { readonly type: string; readonly payload?: unknown },
  context: DecideContext,
  givenCount: number,
): Outcome {
  try {
    if (!Object.hasOwn(definition.commands, command.type)) {
      throw new UnknownCommandError(definition.type, String(command.type), definition.commandNames);
    }
    // The runtime decides on the codec's copy of the payload: what every replica reads back.
    let payload: unknown;
    try {
      // canonicalInput, as the runtime: a key named __proto__ is refused here too.
      payload = canonicalInput(command.payload).value;
    } catch (error) {
      throw new InvalidPayloadError(definition.type, command.type, `payload must be plain data (${(error as Error).message})`);
    }
    const problem = definition.validate?.[command.type]?.(payload);
    if (problem !== undefined) throw new InvalidPayloadError(definition.type, command.type, problem);
    const handler = definition.commands[command.type] as (s: unknown, p: unknown, c: DecideContext) => unknown;
    const decision = handler(deepFreeze(state), deepFreeze(payload), context);
    if (isRejection(decision)) return { kind: 'rejected', reason: decision.reason };
    if (!Array.isArray(decision)) {
      throw new InvalidDecisionError(definition.type, command.type, `returned ${describeValue(decision)}, neither an array of events nor reject(reason)`);
    }
    for (const event of decision as { type?: unknown }[]) {
      if (!event || typeof event.type !== 'string' || !Object.hasOwn(definition.events, event.type)) {
        throw new InvalidDecisionError(definition.type, command.type, `emitted an event of unknown type '${String(event?.type)}'`);
      }
    }
    const emitted = decision as { type: string; data: unknown }[];
    const persisted = emitted.map((e) => ({ type: e.type, data: canonical(e.data) }));
    return { kind: 'events', events: emitted, state: fold(definition, state, emittedRecords(persisted, context, givenCount)) };
  } catch (error) {
    return { kind: 'threw', error };
  }
}

function unexpected(label: string, wanted: string, outcome: Outcome): AssertionError {
  const got =
    outcome.kind === 'events'
      ? `it emitted ${inspect(outcome.events.map((e) => ({ type: e.type, data: e.data })), { depth: 6 })}`
      : outcome.kind === 'rejected'
        ? `it was rejected: '${outcome.reason}'`
        : `it threw ${describeError(outcome.error)}`;
  const error = new AssertionError({ message: `expected ${label} ${wanted}, but ${got}` });
  if (outcome.kind === 'threw') (error as Error).cause = outcome.error;
  return error;
}

/** Keeps node's generated diff and puts a line naming the command above it. */
function withHeader(header: string, error: AssertionError): AssertionError {
  error.message = `${header}\n${error.message}`;
  return error;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : inspect(error);
}

function describeValue(value: unknown): string {
  return inspect(value, { depth: 2, breakLength: Infinity });
}

/**
 * Freezes `value` and everything reachable from it, so a mutation throws (modules are strict).
 * Typed arrays cannot be frozen and are left as they are.
 */
function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value) || ArrayBuffer.isView(value)) return value;
  Object.freeze(value);
  for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  return value;
}
