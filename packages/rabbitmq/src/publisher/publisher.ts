import { performance } from 'node:perf_hooks';
import type { ChannelModel, ConfirmChannel, RecoveringChannelModel } from 'amqplib';
import { pino, type Logger } from 'pino';
import { type EventStore, InvalidDefinitionError, InvalidOptionError, type Pack, TroupeError } from '@troupe/runtime';
import { type Changes, isRegionLog } from '@troupe/runtime/store';
import { connectRecovering, redactUrl } from '../connection.js';
import { BusUnavailableError, TopologyMismatchError } from '../errors/index.js';
import { type MergeMarker, type OutgoingMessage, eventMessage, mergeMarkerMessage } from './messages.js';
import { mergeMarker } from './mergeOrder.js';
import { PublisherMetrics } from './metrics.js';
import { type PublisherOptions, type PublisherSettings, publisherSettings } from './options.js';

/**
 * Errors no retry can get past: the store lost its data or refuses the credentials, the saved
 * position is not one of this store's (another store's checkpoint, or a backup restored behind it),
 * a pack that cannot be read, a merge whose ancestry is missing or too long to walk, an exchange
 * of another type, an event type too long for a routing key. The publisher stops and says why
 * (`Publisher.fatal`); everything else is retried with a backoff.
 */
export const publisherFatalCodes: ReadonlySet<string> = new Set([
  'STORE_DATA_LOST',
  'STORE_AUTHENTICATION_FAILED',
  'INVALID_CURSOR',
  'CORRUPT_DATA',
  'MISSING_ANCESTOR',
  'LIMIT_EXCEEDED',
  'INVALID_DEFINITION',
  'TOPOLOGY_MISMATCH',
]);

/** Longest `stop()` waits for the connection to close, ms. */
const closeWaitMs = 2_000;

/** AMQP's limit on a routing key, bytes. */
const routingKeyBytesMax = 255;

/** One batch of the log with its messages, in log order. */
interface PreparedBatch {
  readonly changes: Changes;
  readonly messages: readonly { readonly message: OutgoingMessage; readonly actorType: string; readonly marker: boolean }[];
}

/** What `Publisher.status()` reports. */
export interface PublisherStatus {
  /** The log position published and saved so far (undefined: nothing yet, from the start). */
  readonly cursor: string | undefined;
  /** Events published and confirmed since this publisher started. */
  readonly events: number;
  /** Merge markers published and confirmed since this publisher started. */
  readonly markers: number;
  /** Packs published (checkpointed) since this publisher started. */
  readonly packs: number;
  /** Batches published since this publisher started. */
  readonly batches: number;
  /** Packs in the log after `cursor`, as last measured (-1: the store cannot tell). */
  readonly lagPacks: number;
  /** True while it holds a channel to the broker. */
  readonly connected: boolean;
}

/**
 * Publishes a store's log to a RabbitMQ topic exchange: every event of every pack as one
 * persistent message, in log order on one confirm channel, the batch's confirms awaited before
 * its position is saved (at least once: a crash in between publishes the batch again, with the
 * same message ids), and for a merge pack a marker with the merged order before its compensations.
 * Start it with `startPublisher`.
 */
export class Publisher {
  readonly exchange: string;
  readonly metrics: PublisherMetrics;
  readonly log: Logger;
  /** URL of the /metrics endpoint when one is served. */
  metricsUrl: string | undefined;
  /**
   * Resolves (never rejects) with the error when the publisher stopped itself on an error no
   * retry can get past (`publisherFatalCodes`). `troupe publish` waits on it and exits 1.
   */
  readonly fatal: Promise<Error>;
  private reportFatal: ((error: Error) => void) | undefined;
  private readonly settings: PublisherSettings;
  private readonly store: EventStore;
  private position: string | undefined;
  private recovering: RecoveringChannelModel | undefined;
  /** The connection now up; undefined while reconnecting. */
  private model: ChannelModel | undefined;
  private channel: ConfirmChannel | undefined;
  /** Why the broker closed the channel, if it did (its 'error' comes before its 'close'). */
  private channelError: Error | undefined;
  private started = false;
  private setupError: unknown;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private closeMetrics: (() => Promise<void>) | undefined;
  private lag = { packs: -1, ms: 0 };
  private counts = { events: 0, markers: 0, packs: 0, batches: 0 };
  private idleWaiters: (() => void)[] = [];
  /** The next batch, read while the broker confirmed the last one. */
  private ahead: { readonly from: string; readonly batch: Promise<PreparedBatch> } | undefined;

  private constructor(options: PublisherOptions) {
    this.settings = publisherSettings(options);
    this.store = options.store;
    this.exchange = this.settings.exchange;
    this.log = (options.logger ?? pino({ name: 'troupe-publish', level: process.env.TROUPE_LOG_LEVEL ?? 'info' })).child({ exchange: this.exchange });
    this.metrics = new PublisherMetrics(() => this.lag, this.settings.defaultMetrics);
    this.fatal = new Promise((resolve) => (this.reportFatal = resolve));
  }

  /** Connects, declares the exchange, loads the saved position and starts publishing. */
  static async start(options: PublisherOptions): Promise<Publisher> {
    const publisher = new Publisher(options);
    const { settings } = publisher;
    try {
      if (settings.metricsPort !== undefined) {
        const served = await publisher.metrics.serve(settings.metricsPort, settings.metricsHost).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'EADDRINUSE') throw error;
          throw new InvalidOptionError('metricsPort', `port ${settings.metricsPort} on ${settings.metricsHost} is already in use (another publisher on this host?): choose another port, or 0 for any free one`);
        });
        publisher.metricsUrl = served.url;
        publisher.closeMetrics = served.close;
      }
      publisher.recovering = await connectRecovering({
        url: settings.url,
        ...(settings.tls ? { tls: settings.tls } : {}),
        initialRetries: settings.connectRetriesMax,
        setup: (model) => publisher.setup(model),
        onDisconnect: (error) => publisher.disconnected(error),
        onReconnectScheduled: ({ attempt, delay, error }) => publisher.log.warn({ attempt, delayMs: delay, err: redactUrl(error.message) }, 'reconnecting to RabbitMQ'),
      });
      publisher.position = await settings.checkpoint.load();
      publisher.started = true;
    } catch (error) {
      await publisher.recovering?.close().catch(() => undefined);
      await publisher.closeMetrics?.();
      throw publisher.setupError ?? error;
    }
    publisher.log.info({ url: redactUrl(settings.url), checkpoint: settings.checkpointName, cursor: publisher.position ?? null }, 'publishing the log');
    publisher.running = publisher.run();
    return publisher;
  }

  /** Counts and position so far. */
  status(): PublisherStatus {
    return { cursor: this.position, ...this.counts, lagPacks: this.lag.packs, connected: this.channel !== undefined };
  }

  /**
   * Resolves the next time the publisher finds nothing new in the log (everything appended before
   * the call is then published, confirmed and checkpointed).
   */
  caughtUp(): Promise<void> {
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops: starts no new batch, lets the batch in flight finish (published, confirmed, its
   * position saved; a batch that cannot finish because the broker or the store is down, or is not
   * confirmed within `stopTimeoutMs`, is given up, and published again by the next run), then
   * closes the connection and the metrics server.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      this.wake?.();
      if (!(await within(this.settings.stopTimeoutMs, this.running))) {
        this.log.warn({ stopTimeoutMs: this.settings.stopTimeoutMs, cursor: this.position ?? null }, 'the batch in flight was not confirmed in time: stopping without saving it (the next run publishes it again)');
      }
      this.channel = undefined;
      // Bounded: amqplib's close waits for the broker's CloseOk, which never comes when the
      // socket was cut just before (seen in the proxy test: stop hung until the heartbeat).
      await within(closeWaitMs, this.recovering?.close().catch(() => undefined));
      // Closing failed the batch still waiting for confirms, if any: the loop ends without saving it.
      await within(closeWaitMs, this.running);
      this.metrics.connected.set(0);
      await this.closeMetrics?.();
      for (const waiter of this.idleWaiters.splice(0)) waiter();
      this.log.info({ cursor: this.position ?? null, ...this.counts }, 'publisher stopped');
    })();
    return this.stopped;
  }

  /** Runs on every (re)connection: a confirm channel and the exchange. */
  private async setup(model: ChannelModel): Promise<void> {
    try {
      await this.openChannel(model);
      this.model = model;
      this.metrics.connected.set(1);
      if (this.started) this.log.info('reconnected to RabbitMQ');
    } catch (error) {
      const failure = this.explain(error);
      if (!this.started) {
        this.setupError = failure;
        throw failure;
      }
      if (failure instanceof TopologyMismatchError) {
        // Not thrown: the recovery would retry it for ever. The connection stays up, unused.
        this.model = model;
        this.fail(failure);
        return;
      }
      throw failure;
    }
  }

  /** A confirm channel on `model` with the exchange asserted (topic, durable). */
  private async openChannel(model: ChannelModel): Promise<ConfirmChannel> {
    const channel = await model.createConfirmChannel();
    let closeReason: Error | undefined;
    channel.on('error', (error: Error) => {
      closeReason = error;
    });
    channel.on('close', () => {
      if (this.channel === channel) {
        this.channel = undefined;
        this.channelError = closeReason;
        if (closeReason) this.log.warn({ err: closeReason.message }, 'the broker closed the publishing channel; a new one is opened for the next try');
      }
    });
    try {
      await channel.assertExchange(this.exchange, 'topic', { durable: true });
    } catch (error) {
      throw closeReason ?? error;
    }
    this.channel = channel;
    this.channelError = undefined;
    return channel;
  }

  /** A broker error of the setup as this package's error: an exchange of another type is a TopologyMismatchError. */
  private explain(error: unknown): unknown {
    if (error instanceof TroupeError) return error;
    const message = (error as Error)?.message ?? String(error);
    if (/PRECONDITION_FAILED|inequivalent arg/.test(message)) {
      return new TopologyMismatchError(
        `exchange '${this.exchange}' exists on the broker with other arguments than a durable topic exchange (${message}): events need a durable topic exchange; ` +
          'delete that exchange or publish to another one (`exchange` option, `troupe publish --exchange`)',
      );
    }
    return new BusUnavailableError(redactUrl(this.settings.url), redactUrl(message), error);
  }

  private disconnected(error: Error): void {
    this.model = undefined;
    this.channel = undefined;
    this.metrics.connected.set(0);
    if (!this.stopping) this.log.warn({ err: redactUrl(error.message) }, 'lost the connection to RabbitMQ; the batch in flight is published again once it is back');
  }

  /** Stops on an error no retry gets past (logged once). */
  private fail(error: Error): void {
    const report = this.reportFatal;
    if (!report) return;
    this.reportFatal = undefined;
    const code = error instanceof TroupeError ? error.code : 'UNKNOWN';
    this.log.fatal({ code, err: error.message, cursor: this.position ?? null }, 'publishing cannot go on: stopping (nothing after the saved position was checkpointed)');
    this.stopping = true;
    this.wake?.();
    void this.stop().finally(() => report(error));
  }

  /** The loop: batch after batch; sleeps when the log has nothing new, backs off after a failure. */
  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        const packs = await this.publishBatch();
        failures = 0;
        if (packs === 0) {
          for (const waiter of this.idleWaiters.splice(0)) waiter();
          await this.sleep(this.settings.idleMs);
        }
      } catch (error) {
        this.ahead = undefined;
        if (this.stopping) break;
        const code = error instanceof TroupeError ? error.code : 'BUS_UNAVAILABLE';
        if (publisherFatalCodes.has(code)) {
          this.fail(error as Error);
          break;
        }
        failures++;
        this.metrics.failures.inc({ code });
        const delayMs = backoffMs(failures, this.settings.retryDelayMs, this.settings.retryDelayMaxMs);
        this.log.warn({ code, err: (error as Error)?.message ?? String(error), failures, retryInMs: delayMs }, 'publishing a batch failed; retrying it from the saved position');
        await this.sleep(delayMs);
      }
    }
  }

  /**
   * Reads one batch after the saved position, publishes it, waits for its confirms, saves the
   * position. Returns its packs. While the broker confirms a full batch, the next one is read
   * and encoded (`ahead`): the confirm wait is most of a batch's time (measured: 7.6 of 9.7 s for
   * 60,000 events in batches of 500, reading and encoding 0.7 s), and reading has no effect, so
   * a batch that fails only drops what was read ahead.
   */
  private async publishBatch(): Promise<number> {
    const ahead = this.ahead;
    this.ahead = undefined;
    const started = performance.now();
    let batch = ahead !== undefined && ahead.from === this.position ? await ahead.batch : undefined;
    // An empty read ahead may be stale by now (caughtUp() promises everything appended before it).
    if (batch === undefined || batch.changes.packs.length === 0) batch = await this.prepare(this.position);
    const { changes, messages } = batch;
    if (changes.packs.length === 0) {
      this.lag = { packs: 0, ms: 0 };
      return 0;
    }
    const channel = await this.channelNow();
    await publishAll(channel, this.exchange, messages.map((m) => m.message));
    if (changes.packs.length === this.settings.batchSize) this.readAhead(changes.cursor);
    await channel.waitForConfirms();
    // Only now: a crash before this line publishes the batch again (same message ids); after it,
    // every message of the batch is held by the broker (routed to the queues bound then).
    await this.settings.checkpoint.save(changes.cursor);
    this.position = changes.cursor;
    this.countBatch(changes.packs, messages);
    this.metrics.batchDuration.observe((performance.now() - started) / 1000);
    const newest = changes.packs.reduce((ts, p) => Math.max(ts, p.ts), 0);
    const backlog = isRegionLog(this.store) ? await this.store.backlog(changes.cursor).catch(() => -1) : -1;
    this.lag = { packs: backlog, ms: backlog === 0 ? 0 : Math.max(0, Date.now() - newest) };
    return changes.packs.length;
  }

  /** A batch read from the log after `from`, with its messages. */
  private async prepare(from: string | undefined): Promise<PreparedBatch> {
    const changes = await this.store.changesSince(from, this.settings.batchSize);
    return { changes, messages: await this.messagesOf(changes.packs) };
  }

  /** Starts reading the batch after `from`, for the next `publishBatch`. */
  private readAhead(from: string): void {
    const batch = this.prepare(from);
    batch.catch(() => undefined); // a failed read ahead fails that publishBatch, which is retried
    this.ahead = { from, batch };
  }

  /** The batch's messages in log order: each pack's events; a merge pack's marker before its compensations. */
  private async messagesOf(packs: readonly Pack[]): Promise<{ message: OutgoingMessage; actorType: string; marker: boolean }[]> {
    const out: { message: OutgoingMessage; actorType: string; marker: boolean }[] = [];
    for (const pack of packs) {
      if (pack.kind === 'merge') {
        const marker: MergeMarker = await mergeMarker(this.store, pack);
        out.push({ message: checked(mergeMarkerMessage(pack, marker)), actorType: pack.actor.type, marker: true });
      }
      for (const event of pack.events) out.push({ message: checked(eventMessage(pack, event)), actorType: pack.actor.type, marker: false });
    }
    return out;
  }

  /** The channel to publish on: the current one, or a new one on the same connection after the broker closed it. */
  private async channelNow(): Promise<ConfirmChannel> {
    if (this.channel) return this.channel;
    if (this.model) {
      try {
        return await this.openChannel(this.model);
      } catch (error) {
        throw this.explain(error);
      }
    }
    const why = this.channelError ? `the broker closed the channel (${this.channelError.message})` : 'not connected (reconnecting)';
    throw new BusUnavailableError(redactUrl(this.settings.url), why);
  }

  private countBatch(packs: readonly Pack[], messages: readonly { actorType: string; marker: boolean }[]): void {
    for (const m of messages) {
      if (m.marker) {
        this.counts.markers++;
        this.metrics.markers.inc({ actor_type: m.actorType });
      } else {
        this.counts.events++;
        this.metrics.events.inc({ actor_type: m.actorType });
      }
    }
    this.counts.packs += packs.length;
    this.counts.batches++;
    this.metrics.packs.inc(packs.length);
    this.metrics.batches.inc();
  }

  /** Waits `ms`, or less when `stop()` is called. */
  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

/**
 * Publishes in order on one channel, waiting for the channel's buffer to drain when amqplib says
 * it is full (a batch of large events would otherwise be held in memory twice). Rejects when the
 * channel closes meanwhile.
 */
async function publishAll(channel: ConfirmChannel, exchange: string, messages: readonly OutgoingMessage[]): Promise<void> {
  for (const m of messages) {
    if (!channel.publish(exchange, m.routingKey, m.content, m.properties)) {
      await new Promise<void>((resolve, reject) => {
        const drained = () => {
          channel.off('close', closed);
          resolve();
        };
        const closed = () => {
          channel.off('drain', drained);
          reject(new Error('channel closed while its buffer drained'));
        };
        channel.once('drain', drained);
        channel.once('close', closed);
      });
    }
  }
}

/** Refuses a routing key the broker would refuse by closing the channel (again on every retry). */
function checked(message: OutgoingMessage): OutgoingMessage {
  if (Buffer.byteLength(message.routingKey) > routingKeyBytesMax) {
    throw new InvalidDefinitionError(
      `routing key '${message.routingKey.slice(0, 80)}…' of event ${message.properties.messageId} is over AMQP's ${routingKeyBytesMax} bytes ` +
        '(actor type + event type), which the broker refuses: no event after it can be published until the event type is shorter',
    );
  }
  return message;
}

/** Waits for `promise`, at most `ms`; true when it settled in time. */
async function within(ms: number, promise: Promise<unknown> | undefined): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = Promise.resolve(promise).then(
    () => true,
    () => true,
  );
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Exponential backoff with ±20% jitter: `initialMs` × 2^(failures-1), at most `maxMs`. */
export function backoffMs(failures: number, initialMs: number, maxMs: number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 30));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** Starts a publisher (see `Publisher`); rejects with BusUnavailableError, TopologyMismatchError or InvalidOptionError. */
export function startPublisher(options: PublisherOptions): Promise<Publisher> {
  return Publisher.start(options);
}
