export { type ActorRef, type EventRecord, type Pack, type PackKind, type Snapshot, type ActorSnapshot, actorKey } from './types.js';
export { fnv1a32, fnv1a32Bytes, packFingerprint } from './hash.js';
