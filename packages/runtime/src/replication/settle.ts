import type { ActorRef } from '../model/index.js';
import type { Replicator } from './replicator.js';

/** What settling a link or a mesh did, summed over its rounds. */
export interface SettleReport {
  /** Rounds run, the last being the one in which nothing moved. */
  readonly rounds: number;
  /** Packs newly added at a target. */
  readonly copied: number;
  /** Packs a target already held (copies are idempotent). */
  readonly skipped: number;
  /** Actors resolved at a target after a copy (one entry per resolution). */
  readonly resolved: readonly ActorRef[];
}

/** Default of `settle`'s `roundsMax`. */
export const settleRoundsMax = 10;

/**
 * Syncs every replicator once per round, in the given order, until a round copies and resolves
 * nothing: merges written on one side travel back in the next round. Paused replicators (cut
 * links) do nothing. Throws when resolutions still fail in the last round, or when it never
 * goes quiet within `roundsMax` rounds.
 */
export async function settleReplicators(replicators: readonly Replicator[], roundsMax = settleRoundsMax): Promise<SettleReport> {
  let copied = 0;
  let skipped = 0;
  const resolved: ActorRef[] = [];
  for (let round = 1; round <= roundsMax; round++) {
    let moved = 0;
    const failed: { actor: ActorRef; error: unknown }[] = [];
    for (const replicator of replicators) {
      const report = await replicator.sync();
      copied += report.copied;
      skipped += report.skipped;
      resolved.push(...report.resolved);
      failed.push(...report.failed);
      moved += report.copied + report.resolved.length;
    }
    if (failed.length > 0 && round === roundsMax) {
      const first = failed[0]!.error as Error | undefined;
      throw new AggregateError(failed.map((f) => f.error), `resolving ${failed.length} actor(s) failed: ${String(first?.message ?? first)}`);
    }
    if (moved === 0 && failed.length === 0) return { rounds: round, copied, skipped, resolved };
  }
  throw new Error(`replication did not settle within ${roundsMax} rounds (raise settle's roundsMax if replicas keep writing while it runs)`);
}
