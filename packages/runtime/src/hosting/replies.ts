import type { EventRecord } from '../model/index.js';
import type { VectorClock } from '../vectorClock/index.js';

export interface Accepted {
  readonly status: 'accepted';
  readonly commandId: string;
  /** Version written by this command (or, for a repeated command id, by its first execution). */
  readonly version: VectorClock;
  readonly events: readonly EventRecord[];
  /** True when the command id had been applied before: nothing was applied this time. */
  readonly duplicate: boolean;
}

export interface Rejected {
  readonly status: 'rejected';
  readonly commandId: string;
  readonly reason: string;
}

export type CommandReply = Accepted | Rejected;

export interface ResolveReply {
  /** False when the actor had at most one head: nothing to do. */
  readonly resolved: boolean;
  readonly version?: VectorClock;
  readonly headsMerged: number;
  readonly compensations: readonly EventRecord[];
}

export interface ActorView<State = unknown> {
  readonly version?: VectorClock;
  readonly state: State;
  /** Number of heads in the store when read (after resolving, 1). */
  readonly heads: number;
}
