/**
 * Event publication (#16 item 5): `startPublisher` of `@troupe/rabbitmq` (what `troupe publish`
 * runs) publishing a store's log to a topic exchange, every event a persistent message, a batch's
 * confirms awaited before its position is saved; against raw amqplib publishing the same messages
 * (the same bodies, routing keys and properties: taken off the queue after the publisher's
 * warm-up run, before the clock starts) on a confirm channel in batches of the same size, with
 * `waitForConfirms` after each. Both publish to the same durable topic exchange, bound to one
 * durable classic queue (`#`), on the local RabbitMQ; the queue is purged before each side and
 * must then hold exactly the events published (checked).
 *
 * The store is a RedisStore on a throw-away redis-server (the bank's packs, one event each); the
 * raw side reads nothing from it: reading the log, decoding and encoding are troupe's cost alone.
 *
 * Needs RabbitMQ at 127.0.0.1:5672 (guest/guest) and `redis-server` on the PATH; without either
 * the scenario is skipped (loud line, fails under CI=true). Everything it declares is under a
 * prefix unique to the run and deleted at the end, also after a failure.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { connectRedisStore } from '@troupe/redis';
import { startPublisher } from '@troupe/rabbitmq';
import { RedisServer } from '@troupe/redis/testing';
import amqp, { type Channel, type ConfirmChannel, type Options } from 'amqplib';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { busBenchAmqpUrl } from './bus.js';
import { CallTimes, mergeAll } from './regions.js';
import { collectGarbage, settle, type Summary, summarize } from './stats.js';
import { ownedAccountPacks } from './views.js';

export interface PublicationOptions {
  readonly accounts: number;
  readonly eventsPerAccount: number;
  /** Measured rounds, each a troupe and a raw publication of every event (order alternating); one unrecorded warm-up round first. */
  readonly rounds: number;
  /** Packs per publisher batch (its default, 500) and messages per raw confirm wait. */
  readonly batchSize: number;
}

export interface PublicationResults {
  readonly skipped: false;
  readonly rabbitmqVersion: string;
  readonly redisVersion: string;
  readonly events: number;
  readonly accounts: number;
  readonly batchSize: number;
  readonly rounds: number;
  readonly setupSeconds: number;
  /** Message body bytes (msgpack of the event), median. */
  readonly bodyBytes: number;
  /** events/s per round. */
  readonly troupe: Summary;
  readonly raw: Summary;
  /** troupe / raw, per round. */
  readonly ratio: Summary;
  /** Node CPU per publication of every event, ms. */
  readonly cpuMs: { readonly troupe: Summary; readonly raw: Summary };
  /** The publisher's store calls per publication (medians): the log reads (in flight while the broker confirms the previous batch, so they overlap) and the checkpoint saves. */
  readonly storeCalls: Readonly<Record<string, { readonly calls: number; readonly ms: number }>>;
  /** ms the raw side spent waiting for confirms, per publication: most of a batch's time. */
  readonly rawConfirmWaitMs: Summary;
  readonly batches: number;
}

export interface PublicationSkipped {
  readonly skipped: true;
  readonly reason: string;
}

const amqpUrl = `${busBenchAmqpUrl}?heartbeat=10`;

/** A message as the publisher sent it, to publish again. */
interface CapturedMessage {
  readonly routingKey: string;
  readonly content: Buffer;
  readonly options: Options.Publish;
}

/** Takes every message off `queue` (`count` of them), in order. */
async function capture(channel: Channel, queue: string, count: number): Promise<CapturedMessage[]> {
  const out: CapturedMessage[] = [];
  await channel.prefetch(1_000);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`publication: took ${out.length} of ${count} messages off the queue in 30 s`)), 30_000);
    void channel
      .consume(queue, (msg) => {
        if (!msg) return;
        const p = msg.properties;
        out.push({
          routingKey: msg.fields.routingKey,
          content: msg.content,
          options: { persistent: true, messageId: p.messageId, type: p.type, timestamp: p.timestamp, correlationId: p.correlationId, contentType: p.contentType, appId: p.appId, headers: p.headers },
        });
        channel.ack(msg);
        if (out.length === count) {
          clearTimeout(timer);
          void channel.cancel(msg.fields.consumerTag).then(() => resolve(), reject);
        }
      })
      .catch(reject);
  });
  return out;
}

export async function benchPublication(o: PublicationOptions, log: (text: string) => void = () => {}): Promise<PublicationResults | PublicationSkipped> {
  let model: amqp.ChannelModel;
  try {
    model = await amqp.connect(amqpUrl, { noDelay: true, timeout: 2_000 });
  } catch (error) {
    return { skipped: true, reason: `RabbitMQ ${busBenchAmqpUrl.replace(/\/\/[^@]*@/, '//')}: ${(error as Error).message || String(error)}` };
  }
  let server: RedisServer;
  try {
    server = await RedisServer.start();
  } catch (error) {
    await model.close();
    return { skipped: true, reason: `could not start a redis-server: ${(error as Error).message}` };
  }
  const prefix = `bench-pub-${randomBytes(4).toString('hex')}`;
  const exchange = `${prefix}.events`;
  const queue = `${prefix}.all`;
  const admin = await model.createChannel();
  const store = await connectRedisStore({ url: server.url, prefix: 'pub' });
  try {
    const rabbitmqVersion = String(model.connection.serverProperties.version ?? 'unknown');
    const info = new Redis(server.url);
    const redisVersion = /redis_version:(\S+)/.exec(await info.info('server'))?.[1] ?? 'unknown';
    info.disconnect();
    await admin.assertExchange(exchange, 'topic', { durable: true });
    await admin.assertQueue(queue, { durable: true });
    await admin.bindQueue(queue, exchange, '#');
    const started = performance.now();
    const packs = ownedAccountPacks(o.accounts, o.eventsPerAccount, o.accounts);
    await mergeAll(store, packs);
    const events = packs.reduce((n, p) => n + p.events.length, 0);
    /** The raw side's messages: what the publisher sent in the warm-up round, taken off the queue. */
    let messages: CapturedMessage[] = [];
    const setupSeconds = (performance.now() - started) / 1000;
    log(`publication: ${events.toLocaleString('en-US')} events of ${o.accounts.toLocaleString('en-US')} accounts in the store (${setupSeconds.toFixed(1)} s); exchange ${exchange}, queue ${queue}`);

    const rates = { troupe: [] as number[], raw: [] as number[] };
    const cpu = { troupe: [] as number[], raw: [] as number[] };
    const confirmWait: number[] = [];
    const calls: Record<string, { calls: number[]; ms: number[] }> = {};
    let batches = 0;
    const silent = pino({ level: 'silent' });
    for (let round = 0; round <= o.rounds; round++) {
      const warm = round === 0;
      // The warm-up publishes with troupe first: the raw side publishes what it sent.
      const order: ('troupe' | 'raw')[] = round % 2 === 0 ? ['troupe', 'raw'] : ['raw', 'troupe'];
      for (const side of order) {
        await admin.purgeQueue(queue);
        collectGarbage();
        await settle();
        let ms: number;
        let cpuMs: number;
        if (side === 'troupe') {
          const times = new CallTimes();
          const publisher = await startPublisher({
            store: times.wrap(store, ['changesSince', 'backlog']),
            checkpoint: times.wrap(store.checkpoint(`bench.round${round}`), ['save']),
            url: amqpUrl,
            exchange,
            batchSize: o.batchSize,
            defaultMetrics: false,
            logger: silent,
          });
          try {
            const cpuStart = process.cpuUsage();
            const start = performance.now();
            await publisher.caughtUp();
            ms = performance.now() - start;
            const used = process.cpuUsage(cpuStart);
            cpuMs = (used.user + used.system) / 1000;
            const status = publisher.status();
            if (status.events !== events) throw new Error(`publication: the publisher published ${status.events} of ${events} events`);
            batches = status.batches;
          } finally {
            await publisher.stop();
          }
          if (!warm) {
            for (const name of times.calls.keys()) {
              const entry = (calls[name] ??= { calls: [], ms: [] });
              entry.calls.push(times.calls.get(name)!);
              entry.ms.push(times.ms.get(name) ?? 0);
            }
          }
        } else {
          const raw = await amqp.connect(amqpUrl, { noDelay: true });
          try {
            const channel = await raw.createConfirmChannel();
            const cpuStart = process.cpuUsage();
            const start = performance.now();
            const waited = await publishInBatches(channel, exchange, messages, o.batchSize);
            ms = performance.now() - start;
            const used = process.cpuUsage(cpuStart);
            cpuMs = (used.user + used.system) / 1000;
            if (!warm) confirmWait.push(waited);
            await channel.close();
          } finally {
            await raw.close();
          }
        }
        const held = (await admin.checkQueue(queue)).messageCount;
        if (held !== events) throw new Error(`publication: the queue holds ${held} messages after the ${side} side published ${events}`);
        if (warm && side === 'troupe') {
          messages = await capture(admin, queue, events);
          const ids = new Set(packs.flatMap((p) => p.events.map((e) => e.id)));
          if (messages.some((m) => !ids.has(String(m.options.messageId)))) throw new Error('publication: a message off the queue is not one of the store\'s events');
        }
        if (!warm) {
          rates[side].push(events / (ms / 1000));
          cpu[side].push(cpuMs);
        }
        log(`publication${warm ? ' (warm-up)' : ` round ${round}/${o.rounds}`}: ${side} ${Math.round(events / (ms / 1000))} events/s (${Math.round(ms)} ms, Node CPU ${Math.round(cpuMs)} ms)`);
      }
    }
    return {
      skipped: false as const,
      rabbitmqVersion,
      redisVersion,
      events,
      accounts: o.accounts,
      batchSize: o.batchSize,
      rounds: o.rounds,
      setupSeconds,
      bodyBytes: summarize(messages.map((m) => m.content.length)).median,
      troupe: summarize(rates.troupe),
      raw: summarize(rates.raw),
      ratio: summarize(rates.troupe.map((r, i) => r / rates.raw[i]!)),
      cpuMs: { troupe: summarize(cpu.troupe), raw: summarize(cpu.raw) },
      storeCalls: Object.fromEntries(Object.entries(calls).map(([k, v]) => [k, { calls: summarize(v.calls).median, ms: Math.round(summarize(v.ms).median * 10) / 10 }])),
      rawConfirmWaitMs: summarize(confirmWait),
      batches,
    };
  } finally {
    await admin.deleteQueue(queue).catch(() => undefined);
    await admin.deleteExchange(exchange).catch(() => undefined);
    await model.close().catch(() => undefined);
    await store.destroy().catch(() => undefined);
    await server.destroy();
  }
}

/** Publishes `messages` in order, `batchSize` at a time, waiting for the broker's confirms after each batch; returns the ms spent waiting for them. */
async function publishInBatches(channel: ConfirmChannel, exchange: string, messages: readonly CapturedMessage[], batchSize: number): Promise<number> {
  let waited = 0;
  for (let i = 0; i < messages.length; i += batchSize) {
    for (const m of messages.slice(i, i + batchSize)) {
      if (!channel.publish(exchange, m.routingKey, m.content, m.options)) await new Promise((resolve) => channel.once('drain', resolve));
    }
    const t = performance.now();
    await channel.waitForConfirms();
    waited += performance.now() - t;
  }
  return waited;
}

// Alone (after building the packages): cd test && node --import tsx bench/publication.ts 500 20 1
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = process.argv.slice(2).map(Number);
  const result = await benchPublication({ accounts: n[0] || 500, eventsPerAccount: n[1] || 20, rounds: n[2] || 1, batchSize: 500 }, (text) => console.log(text));
  console.log(JSON.stringify({ date: new Date().toISOString(), machine: { cpus: os.cpus().length, loadAvgAtEnd: os.loadavg() }, result }, null, 2));
}
