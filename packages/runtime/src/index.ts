/**
 * @troupe/runtime: event-sourced actors that stay available through partitions and reconcile
 * afterwards. Embeddable alone: MemoryStore and the in-process runtime are the default.
 *
 * This root is what an app author and an embedder need. Adapter authors find the pack model,
 * codec and version clocks in `@troupe/runtime/store`; tools that explain or check merges the
 * resolution steps in `@troupe/runtime/resolution`; tests the kit in `@troupe/runtime/testkit`
 * (and vitest suites in `@troupe/runtime/testkit/conformance`). `src/exports.unit.spec.ts` fails
 * when a value appears here that the README's API section does not list.
 */

// Defining actors.
export {
  defineActor,
  reject,
  isRejection,
  untyped,
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
  type Workload,
  type WorkloadCommand,
  type WorkloadRandom,
} from './actor/index.js';
export type { ActorRef, EventRecord, Pack } from './model/index.js';
export type { VectorClock } from './vectorClock/index.js';
export type { Clock, IdSource } from './ids/index.js';

// Hosting them.
export {
  Runtime,
  createRuntime,
  runtimeDefaults,
  combineObservers,
  type RuntimeOptions,
  type Accepted,
  type Rejected,
  type CommandReply,
  type ResolveReply,
  type ActorView,
  type RuntimeObserver,
  type AppendConflictObservation,
  type ResolvingObservation,
  type ResolvedObservation,
  type ResolutionFailedObservation,
  type LoadedObservation,
  type PassivatedObservation,
} from './hosting/index.js';
export type { MergeOutcome } from './resolution/index.js';

// Storing and replicating them.
export { MemoryStore, type EventStore, type HistoryOptions } from './store/index.js';
export {
  Replicator,
  ReplicationLink,
  ReplicationMesh,
  type ReplicaEndpoint,
  type Checkpoint,
  type ReplicatorOptions,
  type SyncReport,
  type SettleReport,
  type BatchReport,
  RegionReplication,
  type RegionReplicationOptions,
  type RegionReplicationObserver,
  type RegionSource,
  type RegionBackoff,
  type LinkStatus,
  awaitReplicated,
  replicationState,
  type ReplicationState,
  type AwaitReplicatedOptions,
} from './replication/index.js';
export type { RegionLog, MergeLog, MergeRecord, FrontierTable, FrontierEntry } from './store/regionLog.js';

// Views across actors (#16).
export {
  defineProjection,
  statesProjection,
  type ProjectionSpec,
  type ProjectionDefinition,
  type ViewRows,
  MemoryView,
  type MemoryViewOptions,
  type ViewChange,
  viewFromScratch,
} from './projection/index.js';

// Every error troupe's runtime throws.
export {
  TroupeError,
  type RuntimeErrorCode,
  UnknownActorTypeError,
  UnknownCommandError,
  InvalidActorIdError,
  InvalidPayloadError,
  InvalidDecisionError,
  InvalidDefinitionError,
  InvalidOptionError,
  InvalidCursorError,
  OnMergeNotIdempotentError,
  AppendConflictError,
  DuplicateCommandError,
  CorruptDataError,
  MissingAncestorError,
  LimitExceededError,
  RuntimeStoppedError,
  StoreUnavailableError,
  VersionCollisionError,
  NotReplicatedError,
  RegionConfigError,
  ProjectionError,
  ViewTimeoutError,
} from './errors/index.js';
