import type { Logger } from 'pino';
import { type Checkpoint, type EventStore, InvalidOptionError } from '@troupe/runtime';
import { isRegionLog } from '@troupe/runtime/store';
import { type AmqpTls, checkTls, defaultAmqpUrl } from '../connection.js';
import { topologyDefaults } from '../topology.js';

/** Options of `startPublisher`; every default is in `publisherDefaults`. */
export interface PublisherOptions {
  /** The store whose log is published (this region's: the Redis store in production). */
  readonly store: EventStore;
  /** Broker. Default amqp://guest:guest@127.0.0.1:5672. */
  readonly url?: string;
  /**
   * TLS material for an `amqps://` URL: CA, client certificate and key (PEM). Default: none. With
   * an `amqp://` URL it is refused (InvalidOptionError naming `tls`), never silently ignored.
   */
  readonly tls?: AmqpTls;
  /** Prefix of the default exchange name, as the bus's (`<prefix>.events`). Default 'troupe'. */
  readonly prefix?: string;
  /** The topic exchange events are published to (declared durable). Default `<prefix>.events`. */
  readonly exchange?: string;
  /**
   * Where the position in the log is kept: `store.checkpoint(checkpointName)` (a store that keeps
   * checkpoints: RedisStore, MemoryStore). Default `publish.<exchange>`; give each publisher of
   * one store its own name.
   */
  readonly checkpointName?: string;
  /** A checkpoint of your own instead (for a store that keeps none). Default: the store's, above. */
  readonly checkpoint?: Checkpoint;
  /** Packs read from the log and published per batch (one confirm wait and one checkpoint save each), 1..100,000. Default 500. */
  readonly batchSize?: number;
  /** Pause between two reads of a log that had nothing new, ms (1..3,600,000). Default 100. */
  readonly idleMs?: number;
  /** First pause after a failure (broker or store), ms; doubles up to `retryDelayMaxMs`, with jitter. Default 100. */
  readonly retryDelayMs?: number;
  /** Longest pause between retries, ms. Default 5,000. */
  readonly retryDelayMaxMs?: number;
  /** Connection attempts retried before `startPublisher` fails. Default 0 (fail fast). */
  readonly connectRetriesMax?: number;
  /**
   * How long `stop()` waits for the batch in flight to be confirmed and saved, ms (0..3,600,000).
   * Past it (a broker that stopped answering without closing the connection) the batch is left
   * unsaved and the next run publishes it again. Default 10,000.
   */
  readonly stopTimeoutMs?: number;
  /** Serve Prometheus metrics on this port (0: any free port). Default: no endpoint. */
  readonly metricsPort?: number;
  /** Default 127.0.0.1. */
  readonly metricsHost?: string;
  /** Include Node's process metrics (prefix `troupe_publisher_`). Default true. */
  readonly defaultMetrics?: boolean;
  /** Default: pino at level TROUPE_LOG_LEVEL or 'info'. */
  readonly logger?: Logger;
}

/** Every default of `PublisherOptions`. */
export const publisherDefaults = {
  url: defaultAmqpUrl,
  prefix: topologyDefaults.prefix,
  batchSize: 500,
  idleMs: 100,
  retryDelayMs: 100,
  retryDelayMaxMs: 5_000,
  connectRetriesMax: 0,
  stopTimeoutMs: 10_000,
  metricsHost: '127.0.0.1',
  defaultMetrics: true,
} as const;

/** The default exchange of a prefix: `<prefix>.events`. */
export function eventsExchange(prefix: string = publisherDefaults.prefix): string {
  return `${prefix}.events`;
}

/** The default checkpoint name of an exchange: `publish.<exchange>`. */
export function publisherCheckpointName(exchange: string): string {
  return `publish.${exchange}`;
}

export interface PublisherSettings {
  readonly url: string;
  readonly tls: AmqpTls | undefined;
  readonly exchange: string;
  readonly checkpointName: string;
  readonly checkpoint: Checkpoint;
  readonly batchSize: number;
  readonly idleMs: number;
  readonly retryDelayMs: number;
  readonly retryDelayMaxMs: number;
  readonly connectRetriesMax: number;
  readonly stopTimeoutMs: number;
  readonly metricsPort: number | undefined;
  readonly metricsHost: string;
  readonly defaultMetrics: boolean;
}

function integerIn(option: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`;
    throw new InvalidOptionError(option, `must be an integer ${range}, got ${String(value)}`);
  }
  return value;
}

const namePattern = /^[A-Za-z0-9_.:-]{1,200}$/;

/** Applies the defaults; throws InvalidOptionError naming the first option out of range. */
export function publisherSettings(options: PublisherOptions): PublisherSettings {
  if (typeof options?.store !== 'object' || options.store === null) throw new InvalidOptionError('store', 'the store whose log to publish is required');
  const url = options.url ?? publisherDefaults.url;
  const prefix = options.prefix ?? publisherDefaults.prefix;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(prefix)) throw new InvalidOptionError('prefix', `must be 1-64 characters of [A-Za-z0-9_.-], got '${prefix}'`);
  const exchange = options.exchange ?? eventsExchange(prefix);
  if (!namePattern.test(exchange) || exchange.startsWith('amq.')) {
    throw new InvalidOptionError('exchange', `must be 1-200 characters of [A-Za-z0-9_.:-], not starting with 'amq.' (reserved by the broker), got '${exchange}'`);
  }
  const checkpointName = options.checkpointName ?? publisherCheckpointName(exchange);
  if (!namePattern.test(checkpointName)) throw new InvalidOptionError('checkpointName', `must be 1-200 characters of [A-Za-z0-9_.:-], got '${checkpointName}'`);
  let checkpoint = options.checkpoint;
  if (checkpoint === undefined) {
    if (!isRegionLog(options.store)) {
      throw new InvalidOptionError('checkpoint', 'this store keeps no checkpoints (it is not a RegionLog): give a `checkpoint` of your own, or use RedisStore or MemoryStore');
    }
    checkpoint = options.store.checkpoint(checkpointName);
  }
  const retryDelayMs = integerIn('retryDelayMs', options.retryDelayMs ?? publisherDefaults.retryDelayMs, 1, 3_600_000);
  const retryDelayMaxMs = integerIn('retryDelayMaxMs', options.retryDelayMaxMs ?? publisherDefaults.retryDelayMaxMs, 1, 3_600_000);
  if (retryDelayMaxMs < retryDelayMs) throw new InvalidOptionError('retryDelayMaxMs', `must be at least retryDelayMs (${retryDelayMs}), got ${retryDelayMaxMs}`);
  return {
    url,
    tls: checkTls(url, options.tls),
    exchange,
    checkpointName,
    checkpoint,
    batchSize: integerIn('batchSize', options.batchSize ?? publisherDefaults.batchSize, 1, 100_000),
    idleMs: integerIn('idleMs', options.idleMs ?? publisherDefaults.idleMs, 1, 3_600_000),
    retryDelayMs,
    retryDelayMaxMs,
    connectRetriesMax: integerIn('connectRetriesMax', options.connectRetriesMax ?? publisherDefaults.connectRetriesMax, 0),
    stopTimeoutMs: integerIn('stopTimeoutMs', options.stopTimeoutMs ?? publisherDefaults.stopTimeoutMs, 0, 3_600_000),
    metricsPort: options.metricsPort === undefined ? undefined : integerIn('metricsPort', options.metricsPort, 0, 65_535),
    metricsHost: options.metricsHost ?? publisherDefaults.metricsHost,
    defaultMetrics: options.defaultMetrics ?? publisherDefaults.defaultMetrics,
  };
}
