/**
 * `@troupe/runtime/store`: what the author of an EventStore (or of a tool that reads stores: a
 * replicator, an inspector) needs beside the root: the pack model, version clocks, the codec,
 * event ids, head bookkeeping and the store errors. App authors need none of it.
 */
export type { EventStore, Chain, Changes, HistoryOptions, MergeReport } from './store/index.js';
export { causalOrder, historyPacksMax, nextHeads, sameKeySet, redactUrl } from './store/index.js';
export {
  type RegionLog,
  type MergeLog,
  type MergeRecord,
  type FrontierTable,
  type FrontierEntry,
  type Checkpoint,
  isRegionLog,
  isMergeLog,
  mergeRecordsMax,
} from './store/regionLog.js';
export { laterEntry, mergeFrontierTables, frontierChanges, cursorAtOrPast, parseRegionCursor, holdersOf, checkpointName, publishProgress, type ParsedCursor } from './replication/index.js';
export { type ActorRef, type EventRecord, type Pack, type PackKind, type Snapshot, type ActorSnapshot, actorKey } from './model/index.js';
export { fnv1a32, packFingerprint } from './model/index.js';
export { VC, type VectorClock, type Ordering } from './vectorClock/index.js';
export { canonical, encodeValue, decodeValue, encodePack, decodePack, packFormatVersion } from './codec/index.js';
export { commandPack, type CommandPackInput } from './hosting/commandPack.js';
export { type EventId, type IdSource, type FlakeIdSourceOptions, FlakeIdSource, parseEventId, machineIdFor } from './ids/index.js';
export {
  TroupeError,
  type RuntimeErrorCode,
  AppendConflictError,
  DuplicateCommandError,
  CorruptDataError,
  InvalidCursorError,
  LimitExceededError,
  MissingAncestorError,
  StoreUnavailableError,
  VersionCollisionError,
  RegionConfigError,
} from './errors/index.js';
