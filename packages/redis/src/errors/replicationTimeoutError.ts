import { StoreUnavailableError } from '@troupe/runtime/store';

/**
 * A write ran on the master, but fewer replicas than `replicasToAcknowledge` confirmed it within
 * `replicationTimeoutMs` (Redis `WAIT`). Its outcome is unknown: the write may survive or be lost
 * in a failover. A `StoreUnavailableError` (code STORE_UNAVAILABLE), so callers retry it like any
 * unknown outcome: with the same command id, which the store applies at most once.
 */
export class ReplicationTimeoutError extends StoreUnavailableError {
  /** Replicas that confirmed the write in time. */
  readonly replicasAcknowledged: number;
  /** Replicas asked for (`replicasToAcknowledge`). */
  readonly replicasToAcknowledge: number;
  constructor(endpoint: string, replicasAcknowledged: number, replicasToAcknowledge: number, timeoutMs: number) {
    super(
      endpoint,
      `the write reached ${replicasAcknowledged} of the ${replicasToAcknowledge} replicas asked for ` +
        `(replicasToAcknowledge) within ${timeoutMs} ms (replicationTimeoutMs); it may or may not survive a failover: ` +
        `retry with the same command id`,
    );
    this.replicasAcknowledged = replicasAcknowledged;
    this.replicasToAcknowledge = replicasToAcknowledge;
  }
}
