import amqp, { type ChannelModel, type RecoveringChannelModel } from 'amqplib';
import { BusUnavailableError } from './errors.js';

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
  /** AMQP heartbeat, s. Default 10. */
  readonly heartbeatSeconds?: number;
}

/** Hides credentials in URLs shown in errors and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):([^@/]*)@/, '//$1:***@');
}

/**
 * Opens a connection that amqplib re-establishes with exponential backoff and jitter whenever
 * it drops (a broker restart, a network cut); `setup` rebuilds channels and consumers each time.
 * The first connection fails with BusUnavailableError after `initialRetries` retries.
 */
export async function connectRecovering(options: RecoveringConnectionOptions): Promise<RecoveringChannelModel> {
  const url = redactUrl(options.url);
  let model: RecoveringChannelModel;
  try {
    model = await amqp.connect(options.url, {
      heartbeat: options.heartbeatSeconds ?? 10,
      timeout: 5_000,
      // Small request/reply messages: without TCP_NODELAY, Nagle's algorithm and delayed ACKs add
      // ~40 ms to every round trip (measured: serial p50 44 ms -> below 1 ms).
      noDelay: true,
      recovery: {
        initialDelay: 100,
        maxDelay: options.reconnectDelayMaxMs ?? 5_000,
        factor: 2,
        jitter: 0.2,
        initialMaxRetries: options.initialRetries ?? 0,
        setup: options.setup,
      },
    } as never);
  } catch (error) {
    throw new BusUnavailableError(url, (error as Error).message, error);
  }
  model.on('error', () => {
    // Reported through 'disconnect'; amqplib reconnects by itself.
  });
  if (options.onDisconnect) model.on('disconnect', options.onDisconnect);
  if (options.onReconnectScheduled) model.on('reconnect-scheduled', options.onReconnectScheduled);
  return model;
}
