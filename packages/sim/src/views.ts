import { type AnyActorDefinition, type EventStore, MemoryView, type ProjectionDefinition, defineProjection } from '@troupe/runtime';
import { canonical } from './canonical.js';
import type { TracedState } from './traced.js';
import { type SimWorkload, bucketOf } from './workloads.js';

/** What the simulator needs of a replica's view: catch up with its store's log, and read it (caught up). */
export interface SimView {
  catchUp(): Promise<void>;
  read(): Promise<ReadonlyMap<string, unknown>>;
}

/**
 * Makes a replica's view of the run's projection over its store (default: the runtime's
 * `MemoryView`). A hook for tests that plant a view bug and show I8 catches it.
 */
export type ViewFactory = (projection: ProjectionDefinition, store: EventStore) => SimView;

export const memoryViews: ViewFactory = (projection, store) => new MemoryView(projection, store);

/**
 * The projection every replica keeps a view of (I8), over the definitions the runtimes host
 * (traced: their state is `{ inner, applied, count }`, which is also what snapshots hold, so the
 * view must fold with them): the workload's own projection, given the actors' own state; or,
 * for a workload without one (an app's), `stateView`.
 */
export function viewProjection(workload: SimWorkload, hosted: ReadonlyMap<string, AnyActorDefinition>): ProjectionDefinition {
  const own = workload.projection;
  if (!own) return stateView(hosted);
  const from = [...own.types].map((type) => hosted.get(type)).filter((d): d is AnyActorDefinition => d !== undefined);
  return defineProjection({
    name: own.name,
    version: own.version,
    from,
    rows: (actor, state) => own.rows(actor, (state as TracedState).inner),
    ...(own.combine ? { combine: own.combine as (a: unknown, b: unknown) => unknown } : {}),
  }) as ProjectionDefinition;
}

/**
 * The simulator's view of any workload: per actor its whole state (canonical JSON) and the digest
 * of the events folded into it, in order (so a view that kept another order, or missed a merge's
 * compensations, differs); and per type and bucket of 32 actors (`bucketOf`) the number of events
 * folded into them (a row several actors contribute to, recombined when one of them changes).
 */
export function stateView(hosted: ReadonlyMap<string, AnyActorDefinition>): ProjectionDefinition {
  return defineProjection({
    name: 'sim-state',
    version: 1,
    from: [...hosted.values()],
    rows: (actor, state) => {
      const s = state as TracedState;
      const key = `${actor.type}:${actor.id}`;
      return [
        [`state:${key}`, canonical(s.inner)],
        [`applied:${key}`, s.applied],
        [`events:${actor.type}:${bucketOf(actor.id)}`, s.count],
      ];
    },
    combine: (a: unknown, b: unknown) => (a as number) + (b as number),
  }) as ProjectionDefinition;
}
