import type { Logger } from 'pino';
import { type Accepted, type ActorRef, NotReplicatedError, type ReplicationState, type Runtime, TroupeError } from '@troupe/runtime';
import { actorKey } from '@troupe/runtime/store';
import type { Replicas, ReplicationReport } from '../protocol/replication.js';
import type { Delivery } from './delivery.js';
import type { InFlight } from './inFlight.js';
import type { WorkerMetrics } from './metrics.js';

/** What a command asked for: `replicas` regions within `timeoutMs`. */
export interface ReplicationRequest {
  readonly replicas: Replicas;
  readonly timeoutMs: number;
}

export interface ReplicationWaitsOptions {
  readonly runtime: Runtime;
  readonly metrics: WorkerMetrics;
  readonly log: Logger;
  /** Waiting replies per shard (`replicationWaitsMax`). */
  readonly waitsMax: number;
  /** How often a wait reads the frontier table again (`replicationPollMs`). */
  readonly pollMs: number;
  /** The shard's work in progress: a hand-over waits for it before closing the shard's channel. */
  readonly running: (shard: number) => InFlight;
  /** Whether the delivery's shard is still consumed by this worker, on the same connection. */
  readonly isCurrent: (delivery: Delivery) => boolean;
  /** Tracks work until it settles, so a stop waits for it. */
  readonly track: (work: Promise<void>) => void;
  /** Replies, then acknowledges (never rejects). */
  readonly answer: (delivery: Delivery, result: Accepted & { readonly replication: ReplicationReport }) => Promise<void>;
}

/** One reply waiting for replication; `cut` ends its wait early. */
interface Wait {
  readonly shard: number;
  readonly cut: (why: string) => void;
}

/**
 * Replies that wait until a command's pack is known to be held by the regions it asked for
 * (`replicas`), apart from the actor's chain: the actor's next command executes meanwhile. Each
 * keeps its message unacknowledged until it is answered (durable, then reply, then ack), and
 * counts as running work of its shard. At most `waitsMax` wait per shard (they hold prefetch
 * slots); past that a reply is checked once and answered. A stop, a shard hand-over or a lost
 * broker connection cuts the waits short: each is answered with what is known then, so its client
 * hears within its timeout instead of after a second wait on a redelivery.
 */
export class ReplicationWaits {
  private readonly waits = new Set<Wait>();

  constructor(private readonly options: ReplicationWaitsOptions) {}

  /** Replies waiting now. */
  get size(): number {
    return this.waits.size;
  }

  /**
   * Answers `result` once its version reached the regions asked for, its timeout ran out, or the
   * wait was cut; returns at once. Decides synchronously whether to wait, so a hand-over that
   * starts later finds the wait in place to cut.
   */
  start(delivery: Delivery, ref: ActorRef, result: Accepted, request: ReplicationRequest): void {
    const { running, isCurrent, track, waitsMax } = this.options;
    const shard = running(delivery.shard);
    shard.enter();
    const startedAt = performance.now();
    let report: Promise<ReplicationReport>;
    if (!isCurrent(delivery)) {
      report = this.check(ref, result, request, 'INTERRUPTED', 'the worker stopped, handed the shard over or lost its broker connection before the wait began');
    } else if (this.waitingOn(delivery.shard) >= waitsMax) {
      report = this.check(ref, result, request, 'WAIT_LIMIT', `${waitsMax} replies already wait for replication on this shard (replicationWaitsMax): checked once, not waited for`);
    } else {
      report = this.wait(delivery.shard, ref, result, request);
    }
    track(
      report
        .then(async (replication) => {
          this.options.metrics.replicationWait.observe((performance.now() - startedAt) / 1_000);
          if (!replication.confirmed) this.options.metrics.replicationUnconfirmed.inc({ code: replication.code ?? 'UNKNOWN' });
          await this.options.answer(delivery, { ...result, replication });
        })
        .catch((error: Error) => this.options.log.error({ err: error.message, actor: actorKey(ref), commandId: result.commandId }, 'unexpected error while waiting for replication'))
        .finally(() => shard.leave()),
    );
  }

  /** Cuts the waits of `shard` short (it is being handed over): each is answered with what is known now. */
  cutShard(shard: number, why: string): void {
    for (const wait of [...this.waits]) if (wait.shard === shard) wait.cut(why);
  }

  /** Cuts every wait short (stopping, or the broker connection was lost). */
  cutAll(why: string): void {
    for (const wait of [...this.waits]) wait.cut(why);
  }

  private waitingOn(shard: number): number {
    let n = 0;
    for (const wait of this.waits) if (wait.shard === shard) n++;
    return n;
  }

  /**
   * Waits on the runtime's `awaitReplicated`, or until cut. A cut wait is answered after one more
   * check; its `awaitReplicated` cannot be cancelled and polls on until its own timeout (or the
   * store's first error, e.g. once it is closed), its result ignored.
   */
  private async wait(shard: number, ref: ActorRef, result: Accepted, request: ReplicationRequest): Promise<ReplicationReport> {
    let cut!: (why: string) => void;
    const interrupted = new Promise<string>((resolve) => (cut = resolve));
    const wait: Wait = { shard, cut };
    this.waits.add(wait);
    this.options.metrics.replicationWaiting.inc();
    try {
      const waited = this.options.runtime
        .awaitReplicated(ref, result.version, { regions: request.replicas, timeoutMs: request.timeoutMs, pollMs: this.options.pollMs })
        .then(
          (state) => confirmed(state, request.replicas),
          (error: unknown) => unconfirmed(error, request.replicas, this.options.runtime.replicaId),
        );
      const first = await Promise.race([waited.then((report) => ({ report })), interrupted.then((why) => ({ why }))]);
      if ('report' in first) return first.report;
      return await this.check(ref, result, request, 'INTERRUPTED', `${first.why}: checked once more, not waited for further`);
    } finally {
      this.waits.delete(wait);
      this.options.metrics.replicationWaiting.dec();
    }
  }

  /**
   * Checks once which regions hold the version. Unconfirmed for want of regions (not for a
   * configuration or store error, whose code says more), the report carries `code` and `reason`.
   */
  private async check(ref: ActorRef, result: Accepted, request: ReplicationRequest, code: string, reason: string): Promise<ReplicationReport> {
    const { runtime } = this.options;
    try {
      return confirmed(await runtime.awaitReplicated(ref, result.version, { regions: request.replicas, timeoutMs: 0 }), request.replicas);
    } catch (error) {
      const report = unconfirmed(error, request.replicas, runtime.replicaId);
      return report.code === 'NOT_REPLICATED' ? { ...report, code, reason } : report;
    }
  }
}

/** The report of a confirmed wait. */
function confirmed(state: ReplicationState, replicas: Replicas): ReplicationReport {
  return { confirmed: true, wanted: replicas === 'all' ? state.regions.length : replicas, holding: state.holding, missing: state.missing };
}

/**
 * The report of a wait that ended without confirmation: timed out (NotReplicatedError, with who
 * holds the version), or could not wait at all (no regions declared, a store outside region
 * replication, more regions asked for than declared, a store error): then only this region is
 * known to hold it (the pack is durable here).
 */
function unconfirmed(error: unknown, replicas: Replicas, here: string): ReplicationReport {
  if (error instanceof NotReplicatedError) {
    return { confirmed: false, wanted: error.wanted, holding: error.holding, missing: error.missing, code: error.code, reason: error.message };
  }
  const code = error instanceof TroupeError ? error.code : 'UNEXPECTED';
  const reason = error instanceof Error ? error.message : String(error);
  return { confirmed: false, wanted: replicas, holding: [here], missing: [], code, reason };
}
