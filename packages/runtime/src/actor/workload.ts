import type { ActorRef } from '../model/index.js';
import type { AnyActorDefinition } from './defineActor.js';

/** The random source a workload draws from (the simulator's seeded Rng, or Math.random for `troupe load`). */
export interface WorkloadRandom {
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number;
}

/** One client command: which actor, and the command as `runtime.send` takes it. */
export interface WorkloadCommand {
  readonly actor: ActorRef;
  readonly type: string;
  readonly payload: unknown;
}

/**
 * What clients of an app do, for the simulator (`troupe sim --app`) and the load generator
 * (`troupe load --app`): the actor definitions to host and how to draw the next command. An app
 * package exports one as `workload`.
 */
export interface Workload {
  readonly name: string;
  readonly actors: readonly AnyActorDefinition[];
  /** `actors` is the number of actor ids the run uses; `step` counts commands from 0. */
  nextCommand(random: WorkloadRandom, step: number, actors: number): WorkloadCommand;
}
