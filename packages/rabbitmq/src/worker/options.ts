import type { Logger } from 'pino';
import { type ActorRef, type AnyActorDefinition, type EventStore, InvalidOptionError, type RuntimeOptions } from '@troupe/runtime';
import { type AmqpTls, checkTls, defaultAmqpUrl } from '../connection.js';
import type { TopologyOptions } from '../topology.js';

/** Called around each execution; the failover test uses them to prove one worker per actor at a time. */
export interface WorkerHooks {
  beforeExecute?(ref: ActorRef, commandId: string): void | Promise<void>;
  afterExecute?(ref: ActorRef, commandId: string): void | Promise<void>;
}

/** Options of `startWorker`; every default is in `workerDefaults` (topology: `topologyDefaults`). */
export interface WorkerOptions extends TopologyOptions {
  /** Actor definitions this worker hosts (an app package's exports). */
  readonly actors: readonly AnyActorDefinition[];
  /** Where packs live. Default: a MemoryStore (only sensible for a single worker). */
  readonly store?: EventStore;
  /** Default amqp://guest:guest@127.0.0.1:5672. */
  readonly url?: string;
  /**
   * TLS material for an `amqps://` URL: CA, client certificate and key (PEM). Default: none. With
   * an `amqp://` URL it is refused (InvalidOptionError naming `tls`), never silently ignored.
   */
  readonly tls?: AmqpTls;
  /** Replica this worker writes as. Default 'local' (the runtime's default). */
  readonly replicaId?: string;
  /**
   * Further runtime options (passivation, limits, clock, `observer`). The worker counts append
   * conflicts, resolutions and passivations through its own observer and calls yours too.
   */
  readonly runtime?: Omit<RuntimeOptions, 'actors' | 'store' | 'replicaId'>;
  /** Unacknowledged messages per shard queue, 1..65535. Default 64 (see the package README for the measurement). */
  readonly prefetch?: number;
  /** Larger messages are dead-lettered without decoding, bytes. Default 1 MiB. */
  readonly commandBytesMax?: number;
  /**
   * Largest reply sent, bytes; at most the broker's `max_message_size`, whose refusal would close
   * the reply channel and drop other commands' replies in flight on it. A larger reply (a command
   * whose events are that large) is not sent: the command is applied and acknowledged, and the
   * client times out. Default 2 MiB, the `max_message_size` the README asks for.
   */
  readonly replyBytesMax?: number;
  /** Default: pino at level TROUPE_LOG_LEVEL or 'info', to stdout. */
  readonly logger?: Logger;
  /** Serve Prometheus metrics on this port (0: any free port). Default: no endpoint. */
  readonly metricsPort?: number;
  /** Default 127.0.0.1. */
  readonly metricsHost?: string;
  /** Include Node's process metrics (CPU, memory, event loop lag). Default true. */
  readonly defaultMetrics?: boolean;
  /** Longest pause between retries of a command that met a transient failure, ms. Default 2,000. */
  readonly retryDelayMaxMs?: number;
  /** Connection attempts retried before `startWorker` gives up. Default 0 (fail fast). */
  readonly connectRetriesMax?: number;
  /**
   * Spread shards over the live workers (default true): workers announce themselves on a fanout
   * exchange, and a worker hands over (drain, then re-subscribe behind the others) every shard
   * that rendezvous hashing gives to another live worker. False: the first worker to subscribe
   * holds every shard and the others stand by.
   */
  readonly balance?: boolean;
  /** Heartbeat interval of the membership used for balancing, ms. Default 1,000. */
  readonly heartbeatMs?: number;
  /** Instrumentation around each execution. Default: none. */
  readonly hooks?: WorkerHooks;
  /**
   * Replies that may wait at once for replication (commands sent with `replicas`), per shard
   * queue: 0..prefetch-1. Each keeps its message unacknowledged, so it holds one of the shard's
   * `prefetch` slots; the bound keeps the rest flowing for the shard's other commands while a
   * region is cut off. Past it a reply is not waited for: the worker checks once which regions
   * hold the pack and answers (confirmed, or unconfirmed with code `WAIT_LIMIT`). 0: never wait.
   * Default 32, and at most half of `prefetch` when that is lower.
   */
  readonly replicationWaitsMax?: number;
  /**
   * How often a waiting reply reads the frontier table again, ms (1..60,000): each waiting reply
   * costs the store 1,000 / replicationPollMs reads a second. Default 100.
   */
  readonly replicationPollMs?: number;
}

/** Every default of `WorkerOptions` (the topology's are in `topologyDefaults`). */
export const workerDefaults = {
  url: defaultAmqpUrl,
  prefetch: 64,
  commandBytesMax: 1 << 20,
  replyBytesMax: 2 << 20,
  metricsHost: '127.0.0.1',
  defaultMetrics: true,
  retryDelayMaxMs: 2_000,
  connectRetriesMax: 0,
  balance: true,
  heartbeatMs: 1_000,
  /** Per shard queue; at most half of `prefetch` when that is lower (see `WorkerOptions`). */
  replicationWaitsMax: 32,
  replicationPollMs: 100,
} as const;

/** The options the worker's parts read, defaults applied and checked. */
export interface WorkerSettings {
  readonly url: string;
  readonly prefetch: number;
  readonly commandBytesMax: number;
  readonly replyBytesMax: number;
  readonly metricsHost: string;
  readonly defaultMetrics: boolean;
  readonly retryDelayMaxMs: number;
  readonly connectRetriesMax: number;
  readonly tls: AmqpTls | undefined;
  /** Undefined: no endpoint. */
  readonly metricsPort: number | undefined;
  /** Undefined when not balancing (active/standby). */
  readonly heartbeatMs: number | undefined;
  readonly replicationWaitsMax: number;
  readonly replicationPollMs: number;
}

function integerIn(option: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`;
    throw new InvalidOptionError(option, `must be an integer ${range}, got ${value}`);
  }
  return value;
}

/** Applies the defaults; throws InvalidOptionError naming the first option out of range. */
export function workerSettings(options: WorkerOptions): WorkerSettings {
  const balance = options.balance ?? workerDefaults.balance;
  const url = options.url ?? workerDefaults.url;
  const prefetch = integerIn('prefetch', options.prefetch ?? workerDefaults.prefetch, 1, 65_535);
  return {
    url,
    prefetch,
    commandBytesMax: integerIn('commandBytesMax', options.commandBytesMax ?? workerDefaults.commandBytesMax, 1),
    replyBytesMax: integerIn('replyBytesMax', options.replyBytesMax ?? workerDefaults.replyBytesMax, 1),
    metricsPort: options.metricsPort === undefined ? undefined : integerIn('metricsPort', options.metricsPort, 0, 65_535),
    metricsHost: options.metricsHost ?? workerDefaults.metricsHost,
    defaultMetrics: options.defaultMetrics ?? workerDefaults.defaultMetrics,
    retryDelayMaxMs: integerIn('retryDelayMaxMs', options.retryDelayMaxMs ?? workerDefaults.retryDelayMaxMs, 0),
    connectRetriesMax: integerIn('connectRetriesMax', options.connectRetriesMax ?? workerDefaults.connectRetriesMax, 0),
    tls: checkTls(url, options.tls),
    heartbeatMs: balance ? integerIn('heartbeatMs', options.heartbeatMs ?? workerDefaults.heartbeatMs, 1) : undefined,
    replicationWaitsMax: replicationWaitsMax(options.replicationWaitsMax, prefetch),
    replicationPollMs: integerIn('replicationPollMs', options.replicationPollMs ?? workerDefaults.replicationPollMs, 1, 60_000),
  };
}

/**
 * Waiting replies per shard: below `prefetch`, so a shard whose replies all wait still takes
 * new commands (a waiting reply keeps its message unacknowledged).
 */
function replicationWaitsMax(value: number | undefined, prefetch: number): number {
  if (value === undefined) return Math.min(workerDefaults.replicationWaitsMax, Math.floor(prefetch / 2));
  if (!Number.isInteger(value) || value < 0 || value >= prefetch) {
    throw new InvalidOptionError(
      'replicationWaitsMax',
      `must be an integer in 0..${prefetch - 1}, below prefetch (${prefetch}): each waiting reply holds one of the shard's prefetch slots, and the others must keep flowing; got ${value}`,
    );
  }
  return value;
}
