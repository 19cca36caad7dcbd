export { type ActorRef, type EventRecord, type Pack, type PackKind, type Snapshot, actorKey } from './types.js';
