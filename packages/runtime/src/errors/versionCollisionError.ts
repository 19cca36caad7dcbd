import { type RuntimeErrorCode, TroupeError } from './troupeError.js';

/**
 * Two different packs claim one version of an actor. Versions are unique only if every replica
 * writing an actor has its own replicaId: this is almost always two replicas configured with the
 * same one (e.g. both left at the default 'local').
 */
export class VersionCollisionError extends TroupeError<RuntimeErrorCode> {
  readonly actorKey: string;
  readonly version: string;
  constructor(actorKey: string, version: string) {
    super(
      'VERSION_COLLISION',
      `two different packs claim version ${version} of ${actorKey}: do two replicas share a replicaId? (option 'replicaId' must be unique per replica)`,
    );
    this.actorKey = actorKey;
    this.version = version;
  }
}
