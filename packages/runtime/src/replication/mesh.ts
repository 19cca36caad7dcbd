import { InvalidOptionError } from '../errors/index.js';
import { type ReplicaEndpoint, Replicator, type ReplicatorOptions } from './replicator.js';
import { type SettleReport, settleReplicators, settleRoundsMax } from './settle.js';

/**
 * Every replica replicating from every other: one Replicator per ordered pair, so three or more
 * replicas need no hand-written links or settle loop. Partitions are given as groups of the
 * endpoints themselves; links inside a group stay up, links across groups are cut both ways.
 *
 * ```ts
 * const mesh = new ReplicationMesh([eu, us, ap]);
 * mesh.partition([eu], [us, ap]);   // eu alone; us and ap still replicate between them
 * mesh.heal();
 * const report = await mesh.settle(); // { rounds, copied, skipped, resolved }
 * ```
 */
export class ReplicationMesh<E extends ReplicaEndpoint = ReplicaEndpoint> {
  readonly endpoints: readonly E[];
  /** [from][to]; undefined on the diagonal. */
  private readonly replicators: (Replicator | undefined)[][];

  /** `options` apply to every replicator (a checkpoint, being per pair, is not among them). */
  constructor(endpoints: readonly E[], options: Omit<ReplicatorOptions, 'cursor' | 'checkpoint'> = {}) {
    if (new Set(endpoints).size !== endpoints.length) throw new InvalidOptionError('endpoints', 'an endpoint is listed twice');
    if (endpoints.length < 2) throw new InvalidOptionError('endpoints', `a mesh needs at least 2 endpoints, got ${endpoints.length}`);
    this.endpoints = [...endpoints];
    this.replicators = this.endpoints.map((from) => this.endpoints.map((to) => (from === to ? undefined : new Replicator(from, to, options))));
  }

  /** The replicator copying from `from` to `to`. */
  replicator(from: E, to: E): Replicator {
    const replicator = this.replicators[this.indexOf(from)]![this.indexOf(to)];
    if (!replicator) throw new InvalidOptionError('to', 'an endpoint does not replicate to itself');
    return replicator;
  }

  /**
   * Splits the replicas into groups: links inside a group are up, links between groups are cut
   * both ways. Endpoints not named form one more group together. Replaces any earlier partition.
   */
  partition(...groups: readonly (readonly E[])[]): void {
    const groupOf = new Map<E, number>();
    groups.forEach((group, g) => {
      for (const endpoint of group) {
        this.indexOf(endpoint);
        if (groupOf.has(endpoint)) throw new InvalidOptionError('groups', 'an endpoint is in two groups');
        groupOf.set(endpoint, g);
      }
    });
    for (const from of this.endpoints) {
      for (const to of this.endpoints) {
        if (from === to) continue;
        const same = (groupOf.get(from) ?? -1) === (groupOf.get(to) ?? -1);
        const replicator = this.replicator(from, to);
        if (same) replicator.resume();
        else replicator.pause();
      }
    }
  }

  /** Cuts copying from `from` to `to` only (a one-way partition). */
  cutOneWay(from: E, to: E): void {
    this.replicator(from, to).pause();
  }

  /** Every link up again. */
  heal(): void {
    for (const row of this.replicators) for (const replicator of row) replicator?.resume();
  }

  /** Syncs every ordered pair whose link is up until nothing moves; reports what it copied and resolved. */
  settle(roundsMax = settleRoundsMax): Promise<SettleReport> {
    return settleReplicators(this.replicators.flat().filter((r): r is Replicator => r !== undefined), roundsMax);
  }

  private indexOf(endpoint: E): number {
    const index = this.endpoints.indexOf(endpoint);
    if (index < 0) throw new InvalidOptionError('endpoint', 'not an endpoint of this mesh');
    return index;
  }
}
