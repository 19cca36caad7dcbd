import { type Accepted, InvalidOptionError, type Rejected } from '@troupe/runtime';

/**
 * How many regions must hold a command's pack before its reply is sent: a number of regions
 * (this one included), or 'all' the regions declared in the worker's store.
 */
export type Replicas = 'all' | number;

/**
 * Largest number a command may ask for in `replicas`. Far above any real deployment: a number of
 * regions larger than the store declares is answered unconfirmed, but a value like 1e9 is a bug
 * the sender should hear about as a bad message.
 */
export const replicasMax = 255;

/**
 * Longest replication wait a command may ask for, ms (10 minutes). A waiting reply keeps its
 * message unacknowledged, and RabbitMQ closes a channel holding a delivery longer than its
 * `consumer_timeout` (30 minutes by default), which would cost every message of the shard.
 */
export const replicasTimeoutMsMax = 600_000;

/**
 * Why a reply's replication was not confirmed (`ReplicationReport.code`): the runtime's error
 * codes pass through (`NOT_REPLICATED`: the wait timed out; `REGION_CONFIG`: no regions declared,
 * or this region is not among them; `INVALID_OPTION`: more regions asked for than are declared, or
 * a store that does not take part in region replication; a store error such as
 * `STORE_UNAVAILABLE`), and three are the bus's own.
 */
export type ReplicationShortfall =
  /** `replicationWaitsMax` replies already waited on the command's shard: it was checked once, not waited for. */
  | 'WAIT_LIMIT'
  /** The wait was cut short: the worker stopped, handed the shard over, or lost its broker connection. */
  | 'INTERRUPTED'
  /** Client side: the worker sent no replication report (a worker older than the `replicas` option). */
  | 'REPLICATION_UNSUPPORTED'
  | (string & {});

/**
 * What an accepted reply says about where its version is, when the command asked for `replicas`.
 * The command is applied and durable in this region either way: `confirmed: false` never means
 * rejected. Resending the command with its `commandId` and `replicas` waits again (for the version
 * recorded the first time) and applies nothing twice.
 */
export interface ReplicationReport {
  /** True when at least `wanted` regions are known to hold the version. */
  readonly confirmed: boolean;
  /**
   * Regions that had to hold it: the number asked for, or for 'all' the number of regions
   * declared; 'all' only when the worker could not read them (then `code` says why).
   */
  readonly wanted: Replicas;
  /** Regions known to hold the version, this one included. */
  readonly holding: readonly string[];
  /** Declared regions not known to hold it (yet): they may hold it already through a third region. */
  readonly missing: readonly string[];
  /** When not confirmed: why (see `ReplicationShortfall`). */
  readonly code?: ReplicationShortfall;
  /** When not confirmed: the explanation, naming what to change where something can be. */
  readonly reason?: string;
}

/** A reply as `bus.send` resolves it: the runtime's reply, with `replication` when the command asked for `replicas`. */
export type BusReply = (Accepted & { readonly replication?: ReplicationReport }) | Rejected;

/** Whether `value` is a valid `replicas` field: 'all', or an integer 1..replicasMax. */
export function isReplicas(value: unknown): value is Replicas {
  return value === 'all' || (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= replicasMax);
}

/** Whether `value` is a valid `replicasTimeoutMs` field: an integer 1..replicasTimeoutMsMax. */
export function isReplicasTimeout(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= replicasTimeoutMsMax;
}

const texts = (value: unknown): boolean => Array.isArray(value) && value.every((item) => typeof item === 'string');

/** Whether a reply's `replication` field has the shape of a ReplicationReport (a client ignores one that has not). */
export function isReplicationReport(value: unknown): value is ReplicationReport {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.confirmed === 'boolean' &&
    (r.wanted === 'all' || typeof r.wanted === 'number') &&
    texts(r.holding) &&
    texts(r.missing) &&
    (r.code === undefined || typeof r.code === 'string') &&
    (r.reason === undefined || typeof r.reason === 'string')
  );
}

/**
 * Checks one send's replication options against its reply timeout, and applies the default
 * `replicasTimeoutMs`: half the reply timeout (at most `replicasTimeoutMsMax`), leaving the other
 * half for queueing, execution and the reply. Undefined when the send asks for no replication.
 * Throws InvalidOptionError naming the option.
 */
export function replicationRequest(
  replicas: Replicas | undefined,
  replicasTimeoutMs: number | undefined,
  timeoutMs: number,
): { readonly replicas: Replicas; readonly replicasTimeoutMs: number } | undefined {
  if (replicas === undefined) {
    if (replicasTimeoutMs !== undefined) throw new InvalidOptionError('replicasTimeoutMs', 'is only meaningful with replicas: set replicas too, or leave it out');
    return undefined;
  }
  if (!isReplicas(replicas)) throw new InvalidOptionError('replicas', `must be 'all' or an integer in 1..${replicasMax} (regions, this one included), got ${String(replicas)}`);
  if (replicasTimeoutMs === undefined) return { replicas, replicasTimeoutMs: Math.max(1, Math.min(replicasTimeoutMsMax, Math.floor(timeoutMs / 2))) };
  if (!isReplicasTimeout(replicasTimeoutMs)) throw new InvalidOptionError('replicasTimeoutMs', `must be an integer in 1..${replicasTimeoutMsMax}, got ${String(replicasTimeoutMs)}`);
  if (replicasTimeoutMs >= timeoutMs) {
    throw new InvalidOptionError(
      'replicasTimeoutMs',
      `must be less than the reply's timeoutMs (${timeoutMs}), or the reply would time out before the worker stops waiting for replication; got ${replicasTimeoutMs}`,
    );
  }
  return { replicas, replicasTimeoutMs };
}
