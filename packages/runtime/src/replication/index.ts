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
