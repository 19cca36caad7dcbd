import { type ReplicaEndpoint, Replicator, type ReplicatorOptions } from './replicator.js';
import { type SettleReport, settleReplicators, settleRoundsMax } from './settle.js';

/** A two-way link: one Replicator each way, paused and resumed together. */
export class ReplicationLink {
  readonly forward: Replicator;
  readonly backward: Replicator;

  /**
   * `options` apply both ways; `forward` (a to b) and `backward` (b to a) add per-direction ones,
   * e.g. each direction's checkpoint kept in its target store.
   */
  constructor(
    a: ReplicaEndpoint,
    b: ReplicaEndpoint,
    options: Omit<ReplicatorOptions, 'cursor' | 'checkpoint'> & { forward?: ReplicatorOptions; backward?: ReplicatorOptions } = {},
  ) {
    const { forward, backward, ...shared } = options;
    this.forward = new Replicator(a, b, { ...shared, ...forward });
    this.backward = new Replicator(b, a, { ...shared, ...backward });
  }

  /** Cuts the link both ways (a partition). */
  partition(): void {
    this.forward.pause();
    this.backward.pause();
  }

  heal(): void {
    this.forward.resume();
    this.backward.resume();
  }

  /** Syncs both ways until neither side has anything new; reports what it copied and resolved. */
  settle(roundsMax = settleRoundsMax): Promise<SettleReport> {
    return settleReplicators([this.forward, this.backward], roundsMax);
  }
}
