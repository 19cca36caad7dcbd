export {
  Replicator,
  type ReplicaEndpoint,
  type Checkpoint,
  type ReplicatorOptions,
  type SyncReport,
} from './replicator.js';
export { ReplicationLink } from './link.js';
export { ReplicationMesh } from './mesh.js';
export { type SettleReport, settleRoundsMax } from './settle.js';
export { type BatchReport } from './replicator.js';
export {
  RegionReplication,
  type RegionReplicationOptions,
  type RegionReplicationObserver,
  type RegionSource,
  type RegionBackoff,
  type LinkStatus,
  checkpointName,
  publishProgress,
} from './regionReplication.js';
export { awaitReplicated, replicationState, holdersOf, type ReplicationState, type AwaitReplicatedOptions } from './stability.js';
export { laterEntry, mergeFrontierTables, frontierChanges, cursorAtOrPast, parseRegionCursor, type ParsedCursor } from './frontier.js';
