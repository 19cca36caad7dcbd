import type { EventId } from '../ids/index.js';
import type { VectorClock } from '../vectorClock/index.js';

/** Identifies one actor: its type (a registered definition) and its id within that type. */
export interface ActorRef {
  readonly type: string;
  readonly id: string;
}

/** An immutable fact. `ts` is the writer's clock in ms, raised if needed so it is later than every event in its causal past. */
export interface EventRecord<Data = unknown> {
  readonly id: EventId;
  readonly actor: ActorRef;
  readonly type: string;
  readonly data: Data;
  readonly ts: number;
  readonly correlationId: string;
  /** The command id (or, for merge compensations, the merge version) that caused this event. */
  readonly causationId: string;
  readonly initiatedBy?: string;
  /** The replica that wrote the event. */
  readonly replica: string;
}

export type PackKind = 'command' | 'merge';

/**
 * The unit of persistence: the events of one command (kind 'command'), or the compensation
 * events and resulting state of a divergence resolution (kind 'merge'). Addressed by
 * `(actor, version)` and immutable, so storing a pack twice is a no-op.
 */
export interface Pack {
  readonly actor: ActorRef;
  readonly kind: PackKind;
  readonly version: VectorClock;
  /** One parent for a command pack (none for the first), every resolved head for a merge pack. */
  readonly parents: readonly VectorClock[];
  readonly events: readonly EventRecord[];
  /** Command ids applied by this pack (command packs only). */
  readonly commandIds: readonly string[];
  /** Replica that wrote the pack. */
  readonly replica: string;
  /** Max event ts in the pack's causal past and itself (hybrid logical time, ms). */
  readonly ts: number;
  /** Merge packs only: the state after resolution, so loading never has to re-resolve. */
  readonly state?: unknown;
}

/** Folded state at a version. */
export interface Snapshot<State = unknown> {
  readonly version: VectorClock;
  readonly state: State;
}

/** A snapshot travelling between stores with the packs it was written with. */
export interface ActorSnapshot<State = unknown> extends Snapshot<State> {
  readonly actor: ActorRef;
}

export function actorKey(ref: ActorRef): string {
  return `${ref.type}:${ref.id}`;
}
