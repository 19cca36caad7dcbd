import { InvalidDefinitionError } from '../errors/index.js';
import type { ActorRef, EventRecord } from '../model/index.js';

/** A domain rejection: the command was valid but the actor refuses it. Nothing is persisted. */
export interface Rejection {
  readonly rejected: true;
  readonly reason: string;
}

export function reject(reason: string): Rejection {
  return { rejected: true, reason };
}

export function isRejection(value: unknown): value is Rejection {
  return typeof value === 'object' && value !== null && (value as Rejection).rejected === true;
}

/** What a command handler may emit: one of the actor's event types with its data. */
export type EmittedEvent<Events extends Record<string, unknown>> = {
  [K in keyof Events & string]: { readonly type: K; readonly data: Events[K] };
}[keyof Events & string];

/** Context a decider may read: deterministic facts about the command, never I/O. */
export interface DecideContext {
  readonly actor: ActorRef;
  readonly commandId: string;
  /** The replica's clock when the command is decided, ms. */
  readonly now: number;
  readonly replica: string;
}

/** What `onMerge` receives: enough to decide compensations deterministically. */
export interface MergeContext<State> {
  readonly actor: ActorRef;
  /** State at the latest common ancestor of the merged heads. */
  readonly ancestorState: State;
  /** Every event replayed on top of the ancestor, in replay order. */
  readonly replayed: readonly EventRecord[];
  /** The replayed events grouped by the head (branch) they came from, heads in canonical order. */
  readonly branches: readonly (readonly EventRecord[])[];
}

type CommandHandlers<State, Commands extends Record<string, unknown>, Events extends Record<string, unknown>> = {
  [K in keyof Commands]: (
    state: State,
    payload: Commands[K],
    ctx: DecideContext,
  ) => readonly EmittedEvent<Events>[] | Rejection;
};

type EventHandlers<State, Events extends Record<string, unknown>> = {
  [K in keyof Events]: (state: State, data: Events[K], event: EventRecord) => State;
};

/** Checks a payload at run time; returns a message saying what is wrong, or undefined when valid. */
export type PayloadValidator = (payload: unknown) => string | undefined;

export interface ActorSpec<State, Commands extends Record<string, unknown>, Events extends Record<string, unknown>> {
  /** Actor type name, unique in a runtime. */
  readonly type: string;
  /** Fresh state of an actor that has no events. Must return a new value each call. */
  readonly initial: () => State;
  /** Pure deciders: (state, payload, ctx) => events | reject(reason). */
  readonly commands: CommandHandlers<State, Commands, Events>;
  /** Pure folds: (state, data, event) => next state. Must not mutate `state`. */
  readonly events: EventHandlers<State, Events>;
  /** Optional run-time payload checks, by command name. Invalid payloads are never decided. */
  readonly validate?: { readonly [K in keyof NoInfer<Commands>]?: PayloadValidator };
  /** Deterministic compensations after a divergence is resolved (pure; must not read clocks). */
  readonly onMerge?: (merged: State, ctx: MergeContext<State>) => readonly EmittedEvent<Events>[];
  /**
   * Write a snapshot after this many events since the last one (a command that emitted no event
   * counts as one: its pack is still written). Loads read at most this many packs. Default 100.
   */
  readonly snapshotEvery?: number;
}

export interface ActorDefinition<
  State = unknown,
  Commands extends Record<string, unknown> = Record<string, unknown>,
  Events extends Record<string, unknown> = Record<string, unknown>,
> extends ActorSpec<State, Commands, Events> {
  readonly snapshotEvery: number;
  readonly commandNames: readonly string[];
  /** A typed reference to one actor of this type. */
  ref(id: string): TypedRef<ActorDefinition<State, Commands, Events>>;
}

declare const definitionBrand: unique symbol;

/**
 * An ActorRef that remembers its definition's types, so `send` checks commands at compile time.
 * The brand exists only in the type system; at run time a TypedRef is a plain `{ type, id }`.
 */
export interface TypedRef<Def> extends ActorRef {
  readonly [definitionBrand]: Def;
}

/**
 * An ActorRef without a definition's types: commands are checked at run time only. A TypedRef is
 * deliberately not one (else `send` would accept any command on it); `untyped(ref)` converts.
 */
export type UntypedRef = ActorRef & { readonly [definitionBrand]?: undefined };

/**
 * The same actor as an UntypedRef: for commands only known at run time (parsed from JSON, read
 * from a queue) sent to an actor you hold a typed ref of. The runtime still validates them.
 */
export function untyped(ref: ActorRef): UntypedRef {
  return { type: ref.type, id: ref.id };
}

export type AnyActorDefinition = ActorDefinition<any, any, any>;

export type StateOf<Def> = Def extends ActorDefinition<infer S, any, any> ? S : never;
export type CommandsOf<Def> = Def extends ActorDefinition<any, infer C, any> ? C : never;
export type EventsOf<Def> = Def extends ActorDefinition<any, any, infer E> ? E : never;

/** A command for a definition: `{ type, payload }` with the payload type of that command. */
export type CommandOf<Def> = {
  [K in keyof CommandsOf<Def> & string]: { readonly type: K; readonly payload: CommandsOf<Def>[K] } & CommandOptions;
}[keyof CommandsOf<Def> & string];

export interface CommandOptions {
  /** Idempotency key: a command id seen before returns the first result and applies nothing. Default: a new id. */
  readonly commandId?: string;
  /**
   * Look `commandId` up before applying (default: true whenever a commandId is given). Only a
   * transport that knows this is the first delivery of an id it generated itself (the RabbitMQ
   * worker, for a message that was never delivered before) passes false, to save a store round trip.
   */
  readonly checkDuplicate?: boolean;
  readonly correlationId?: string;
  readonly initiatedBy?: string;
}

export const defaultSnapshotEvery = 100;

/**
 * Defines an actor type. Payload and event data types are inferred from the handlers'
 * parameter annotations, so `send` rejects unknown commands and wrong payloads at compile time.
 */
export function defineActor<State, Commands extends Record<string, unknown>, Events extends Record<string, unknown>>(
  spec: ActorSpec<State, Commands, Events>,
): ActorDefinition<State, Commands, Events> {
  if (typeof spec.type !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(spec.type)) {
    throw new InvalidDefinitionError(`actor type must be 1-64 characters of [A-Za-z0-9_.-], got '${spec.type}'`);
  }
  const commandNames = Object.keys(spec.commands);
  if (commandNames.length === 0) throw new InvalidDefinitionError(`actor '${spec.type}' defines no commands`);
  const snapshotEvery = spec.snapshotEvery ?? defaultSnapshotEvery;
  if (!Number.isInteger(snapshotEvery) || snapshotEvery < 1) {
    throw new InvalidDefinitionError(`snapshotEvery of '${spec.type}' must be a positive integer, got ${snapshotEvery}`);
  }
  const definition: ActorDefinition<State, Commands, Events> = {
    ...spec,
    snapshotEvery,
    commandNames,
    ref: (id: string) => ({ type: spec.type, id }) as TypedRef<ActorDefinition<State, Commands, Events>>,
  };
  return Object.freeze(definition);
}
