export {
  Replicator,
  ReplicationLink,
  type ReplicaEndpoint,
  type ReplicatorOptions,
  type SyncReport,
} from './replicator.js';
