import type { AnyActorDefinition, StateOf } from '../actor/index.js';
import { InvalidDefinitionError } from '../errors/index.js';
import type { ActorRef } from '../model/index.js';

/** The rows one actor contributes to a view: key → row. */
export type ViewRows<Row> = Iterable<readonly [key: string, row: Row]>;

export interface ProjectionSpec<Defs extends readonly AnyActorDefinition[], Row> {
  /** The view's name: 1-64 characters of [A-Za-z0-9_-]. */
  readonly name: string;
  /** Bump it when `rows` or `combine` change: a view of another version is rebuilt, never reused. */
  readonly version: number;
  /** The actor definitions it reads. */
  readonly from: Defs;
  /**
   * The rows an actor contributes, from its state at its head: pure and deterministic. The view
   * is, for every key, the rows all actors contribute under it, combined.
   */
  readonly rows: (actor: ActorRef, state: StateOf<Defs[number]>) => ViewRows<Row>;
  /**
   * Combines the rows several actors contribute under one key: must be commutative and
   * associative (a sum, a max, a merge of sets). Without it, a key contributed by several actors
   * takes the row of the actor whose `type:id` sorts first.
   */
  readonly combine?: (a: Row, b: Row) => Row;
}

export interface ProjectionDefinition<Row = unknown> {
  readonly name: string;
  readonly version: number;
  /** `name-version`: what a view's checkpoint and keys are named by. */
  readonly id: string;
  readonly types: ReadonlySet<string>;
  readonly from: readonly AnyActorDefinition[];
  readonly rows: (actor: ActorRef, state: unknown) => ViewRows<Row>;
  readonly combine?: (a: Row, b: Row) => Row;
}

/**
 * A view across actors, defined as a function of the actors' states (#16). Why states and not a
 * fold of events: after a partition, a merge rewrites the order (and, with compensations, the set)
 * of an actor's events after the common ancestor; a view folded from events in arrival order would
 * then differ from one computed from scratch. An actor's state at its head is already the merged,
 * converged one (I2, I3), so a view that keeps, per actor, the rows derived from its current
 * state and replaces them whenever the actor's head changes (retract, then apply) ends equal to
 * the from-scratch view by construction, whatever merges happened: every accepted event is
 * counted once (it is in the state once), compensations included, a losing retry copy never.
 */
export function defineProjection<const Defs extends readonly AnyActorDefinition[], Row>(spec: ProjectionSpec<Defs, Row>): ProjectionDefinition<Row> {
  if (typeof spec.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(spec.name)) {
    throw new InvalidDefinitionError(`projection name '${String(spec.name)}' must be 1-64 characters of [A-Za-z0-9_-]`);
  }
  if (!Number.isSafeInteger(spec.version) || spec.version < 1) {
    throw new InvalidDefinitionError(`projection '${spec.name}': version must be a positive integer, got ${String(spec.version)}`);
  }
  if (!Array.isArray(spec.from) || spec.from.length === 0) throw new InvalidDefinitionError(`projection '${spec.name}': 'from' must list at least one actor definition`);
  const types = new Set<string>();
  for (const definition of spec.from) {
    if (types.has(definition.type)) throw new InvalidDefinitionError(`projection '${spec.name}': actor type '${definition.type}' is listed twice in 'from'`);
    types.add(definition.type);
  }
  if (typeof spec.rows !== 'function') throw new InvalidDefinitionError(`projection '${spec.name}': 'rows' must be a function (actor, state) => [key, row] pairs`);
  if (spec.combine !== undefined && typeof spec.combine !== 'function') throw new InvalidDefinitionError(`projection '${spec.name}': 'combine' must be a function`);
  return {
    name: spec.name,
    version: spec.version,
    id: `${spec.name}-${spec.version}`,
    types,
    from: [...spec.from],
    rows: spec.rows as (actor: ActorRef, state: unknown) => ViewRows<Row>,
    ...(spec.combine ? { combine: spec.combine } : {}),
  };
}

/**
 * A view of the actors' states themselves: key = actor id, row = its state at its head. Subscribe
 * to it to follow actors live (merge corrections included): `change.changed` names the actors whose
 * state changed.
 */
export function statesProjection<const Def extends AnyActorDefinition>(definition: Def, options: { readonly name?: string; readonly version?: number } = {}): ProjectionDefinition<StateOf<Def>> {
  return defineProjection({
    name: options.name ?? `${definition.type.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 57)}-states`,
    version: options.version ?? 1,
    from: [definition],
    rows: (actor, state) => [[actor.id, state as StateOf<Def>]],
  });
}
