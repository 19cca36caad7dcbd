export {
  Replicator,
  ReplicationLink,
  type ReplicaEndpoint,
  type Checkpoint,
  type ReplicatorOptions,
  type SyncReport,
} from './replicator.js';
