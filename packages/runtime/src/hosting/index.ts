export { Runtime, createRuntime, runtimeDefaults, type RuntimeOptions } from './runtime.js';
export type { Accepted, Rejected, CommandReply, ResolveReply, ActorView } from './replies.js';
export { Entity, type CommandEnvelope, type EntityEnvironment } from './entity.js';
export { type MergeStrategy, withMergeStrategy } from './mergeStrategyOption.js';
export {
  type RuntimeObserver,
  type AppendConflictObservation,
  type ResolvingObservation,
  type ResolvedObservation,
  type ResolutionFailedObservation,
  type LoadedObservation,
  type PassivatedObservation,
  combineObservers,
} from './observer.js';
export { commandPack, type CommandPackInput } from './commandPack.js';
