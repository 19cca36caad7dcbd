import type { AnyActorDefinition } from '../actor/index.js';
import { ProjectionError } from '../errors/index.js';
import { type ActorRef, actorKey } from '../model/index.js';
import { stateAt } from '../resolution/index.js';
import type { EventStore } from '../store/index.js';
import { VC } from '../vectorClock/index.js';
import type { ProjectionDefinition } from './defineProjection.js';
import { ViewState } from './viewState.js';

/**
 * The view computed from scratch over the given actors' histories in a store: each actor's state
 * at its single head (an actor that still has several heads has not converged: an error), its
 * rows, combined per key. What a view kept up to date must equal at quiescence (the simulator's
 * and the property test's oracle for views).
 */
export async function viewFromScratch<Row>(projection: ProjectionDefinition<Row>, store: EventStore, actors: readonly ActorRef[]): Promise<ReadonlyMap<string, Row>> {
  const definitions = new Map<string, AnyActorDefinition>(projection.from.map((d) => [d.type, d]));
  const state = new ViewState<Row>(projection);
  for (const actor of actors) {
    const definition = definitions.get(actor.type);
    if (!definition) continue;
    const heads = await store.heads(actor);
    if (heads.length === 0) continue;
    if (heads.length > 1) throw new Error(`${actorKey(actor)} has ${heads.length} heads: a from-scratch view needs converged histories`);
    const head = heads[0]!;
    const { state: actorState } = await stateAt(store, definition, actor, head.version);
    let rows;
    try {
      rows = [...projection.rows(actor, actorState)];
    } catch (error) {
      throw new ProjectionError(projection.id, actorKey(actor), VC.encode(head.version), error);
    }
    state.replace(actorKey(actor), rows);
  }
  return state.current();
}
