export {
  defineActor,
  reject,
  untyped,
  isRejection,
  defaultSnapshotEvery,
  type Rejection,
  type EmittedEvent,
  type DecideContext,
  type MergeContext,
  type PayloadValidator,
  type ActorSpec,
  type ActorDefinition,
  type AnyActorDefinition,
  type TypedRef,
  type UntypedRef,
  type StateOf,
  type CommandsOf,
  type EventsOf,
  type CommandOf,
  type CommandOptions,
} from './defineActor.js';
export { fold, compareEvents } from './fold.js';
export type { Workload, WorkloadCommand, WorkloadRandom } from './workload.js';
