import { InvalidOptionError } from '@troupe/runtime';
import { redactUrl } from '@troupe/runtime/store';
import amqp, { type ChannelModel, type RecoveringChannelModel } from 'amqplib';
import { BusUnavailableError } from './errors/index.js';
import { fastFrames } from './frames.js';
import { fastIncoming } from './incoming.js';

export const defaultAmqpUrl = 'amqp://guest:guest@127.0.0.1:5672';

export interface RecoveringConnectionOptions {
  readonly url: string;
  /** Runs after every (re)connection: open channels, declare, consume. A throw drops the connection and retries. */
  readonly setup: (model: ChannelModel) => Promise<void>;
  /** Called when an established connection is lost (channels are gone; the broker requeued unacked messages). */
  readonly onDisconnect?: (error: Error) => void;
  /** Called when a reconnect attempt is scheduled. */
  readonly onReconnectScheduled?: (info: { attempt: number; delay: number; error: Error }) => void;
  /** Attempts before the first connection counts as failed. Default 0: fail fast at startup. */
  readonly initialRetries?: number;
  /** Longest pause between reconnect attempts, ms. Default 5,000. */
  readonly reconnectDelayMaxMs?: number;
  /** Batch each event-loop turn's frames into one socket write (`batchFrameWrites`). Default true. */
  readonly batchWrites?: boolean;
  /** Write small publishes and acks into one pooled buffer each (`fastFrames`, same bytes). Default true. */
  readonly fastFrames?: boolean;
  /** Take whole small deliveries and broker acks from the read bytes in one pass (`fastIncoming`, same messages). Default true. */
  readonly fastIncoming?: boolean;
  /** AMQP heartbeat, s. Default 10. */
  readonly heartbeatSeconds?: number;
  /** TLS material for an `amqps://` URL (see `AmqpTls`). */
  readonly tls?: AmqpTls;
}

/**
 * TLS to the broker: with an `amqps://` URL, `ca` verifies the broker's certificate against a
 * private CA (default: the system's CAs), and `cert` + `key` present a client certificate to a
 * broker that requires one. PEM contents, not paths.
 */
export interface AmqpTls {
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

/**
 * Returns `tls`, refusing TLS material (`ca`, `cert` or `key`) with a URL that is not `amqps://`:
 * amqplib would connect in plaintext and ignore it, so a deployment that meant to verify the
 * broker and present a client certificate would silently do neither. InvalidOptionError naming `tls`.
 */
export function checkTls(url: string, tls: AmqpTls | undefined): AmqpTls | undefined {
  if (tls === undefined || (tls.ca === undefined && tls.cert === undefined && tls.key === undefined)) return tls;
  if (!/^amqps:\/\//i.test(url)) {
    throw new InvalidOptionError('tls', `TLS material (ca, cert, key) is given with the plaintext URL ${redactUrl(url)}, which would connect without TLS and ignore it: use an amqps:// URL`);
  }
  return tls;
}

interface MuxInternals {
  out?: { cork(): void; uncork(): void };
  _readIncoming?: () => void;
}

/**
 * amqplib writes every frame to the socket with its own write call (a publish is three frames,
 * so a command costs the worker and the client about ten syscalls). Corking the socket while
 * amqplib's multiplexer drains its channels makes each drain one writev. amqplib already batches
 * frames into one drain per event-loop turn, so this adds no latency. Uses amqplib internals
 * (`connection.muxer`); when they are not there it does nothing.
 */
export function batchFrameWrites(model: ChannelModel): boolean {
  const mux = (model as unknown as { connection?: { muxer?: MuxInternals } }).connection?.muxer;
  const out = mux?.out;
  const drain = mux?._readIncoming;
  if (!mux || !out || typeof out.cork !== 'function' || typeof drain !== 'function') return false;
  mux._readIncoming = function corked(this: MuxInternals) {
    out.cork();
    try {
      drain.call(this);
    } finally {
      out.uncork();
    }
  };
  return true;
}

/**
 * amqplib takes the heartbeat from the URL's query only (`?heartbeat=10`); a `heartbeat` socket
 * option is ignored, and without one the server's value applies (RabbitMQ: 60 s, so a broker that
 * hangs or a cut that sends no RST goes unnoticed for up to two minutes). Adds ours unless the
 * URL names one.
 */
export function withHeartbeat(url: string, seconds: number): string {
  const query = url.indexOf('?');
  if (query >= 0 && new URLSearchParams(url.slice(query + 1)).has('heartbeat')) return url;
  return `${url}${query >= 0 ? '&' : '?'}heartbeat=${seconds}`;
}

/** Hides credentials in URLs shown in errors, logs and metrics (every form: `user:pw@`, `:pw@`, `?password=`). */
export { redactUrl };

/**
 * Opens a connection that amqplib re-establishes with exponential backoff and jitter whenever
 * it drops (a broker restart, a network cut); `setup` rebuilds channels and consumers each time.
 * The first connection fails with BusUnavailableError after `initialRetries` retries.
 */
export async function connectRecovering(options: RecoveringConnectionOptions): Promise<RecoveringChannelModel> {
  checkTls(options.url, options.tls);
  const url = redactUrl(options.url);
  let model: RecoveringChannelModel;
  try {
    model = await amqp.connect(withHeartbeat(options.url, options.heartbeatSeconds ?? 10), {
      timeout: 5_000,
      // Small request/reply messages: without TCP_NODELAY, Nagle's algorithm and delayed ACKs add
      // ~40 ms to every round trip (measured: serial p50 44 ms -> below 1 ms).
      noDelay: true,
      // For amqps:// amqplib hands these socket options to tls.connect.
      ...(options.tls?.ca === undefined ? {} : { ca: [options.tls.ca] }),
      ...(options.tls?.cert === undefined ? {} : { cert: options.tls.cert }),
      ...(options.tls?.key === undefined ? {} : { key: options.tls.key }),
      recovery: {
        initialDelay: 100,
        maxDelay: options.reconnectDelayMaxMs ?? 5_000,
        factor: 2,
        jitter: 0.2,
        initialMaxRetries: options.initialRetries ?? 0,
        setup: async (model: ChannelModel) => {
          // amqplib's recovery listens for this connection's 'error' only once setup has finished;
          // a connection the broker closes during setup (a cluster node dying while a worker
          // declares or subscribes its quorum queues: 541 INTERNAL_ERROR) would otherwise emit an
          // unhandled 'error' and crash the process. The close fails the setup, which is retried.
          model.on('error', () => undefined);
          if (options.batchWrites ?? true) batchFrameWrites(model);
          if (options.fastFrames ?? true) fastFrames(model);
          if (options.fastIncoming ?? true) fastIncoming(model);
          await options.setup(model);
        },
      },
    } as never);
  } catch (error) {
    throw new BusUnavailableError(url, redactUrl((error as Error).message), error);
  }
  model.on('error', () => {
    // Reported through 'disconnect'; amqplib reconnects by itself.
  });
  if (options.onDisconnect) model.on('disconnect', options.onDisconnect);
  if (options.onReconnectScheduled) model.on('reconnect-scheduled', options.onReconnectScheduled);
  return model;
}
