/**
 * The RabbitMQ command bus (`@troupe/rabbitmq`) against raw amqplib on the same broker, in the same
 * run and the same process:
 *
 * 1. end-to-end throughput: `window` concurrent `bus.send` over `actors` counter actors
 *    (publish -> worker -> Runtime -> Redis store -> ack -> direct reply-to), commands/s, vs raw
 *    amqplib: a confirm channel publishing persistent messages of the same shape to as many durable
 *    queues, consumers with manual ack and the same prefetch, messages consumed + acked per second
 *    with the same window;
 * 2. serial round trip of one command with one client (p50, p99) vs a raw amqplib request/reply
 *    (replyTo amq.rabbitmq.reply-to) whose consumer runs one Redis EVALSHA (the raw append script of
 *    redis.ts) before it acks and replies;
 * 3. prefetch sweep: figure 1 with the worker's prefetch in `sweep.prefetches` (raw at the same
 *    prefetch next to each round).
 *
 * Every run uses its own prefix (`bench-<random>`) for queues, exchanges and Redis keys, and deletes
 * them at the end, also after a failure. RabbitMQ (127.0.0.1:5672, guest) or Redis (127.0.0.1:6379)
 * not reachable: the scenario is skipped (the caller prints a loud line and fails under CI=true).
 */
import { randomUUID } from 'node:crypto';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { Redis } from 'ioredis';
import { Packr, Unpackr } from 'msgpackr';
import { pino } from 'pino';
import { connectRedisStore, deleteKeysMatching, type RedisStore } from '@troupe/redis';
import {
  busProtocolVersion,
  type CommandBus,
  connectBus,
  encodeCommand,
  shardOf,
  startWorker,
  type Topology,
  topology,
  workerDefaults,
  type Worker,
} from '@troupe/rabbitmq';
import { Counter, type CounterState } from './counter.js';
import { rawAppendLua, redisBenchUrl } from './redis.js';
import { collectGarbage, settle, type Summary, summarize } from './stats.js';

/** The only broker this bench talks to. */
export const busBenchAmqpUrl = 'amqp://guest:guest@127.0.0.1:5672';

export interface BusBenchOptions {
  /** Shard queues (the topology default is 16); the raw baseline uses as many queues. */
  readonly shards: number;
  /** Distinct counter actors the throughput rounds spread their commands over (round-robin). */
  readonly actors: number;
  /** Commands (raw: messages) in flight at once in the throughput rounds. */
  readonly window: number;
  /** Figure 1 at the worker's default prefetch: measured rounds (+1 warm-up round of a quarter of the commands). */
  readonly throughput: { readonly rounds: number; readonly commands: number };
  /** Figure 2: rounds, each `warmup` unrecorded then `commands` recorded round trips per side. */
  readonly serial: { readonly rounds: number; readonly commands: number; readonly warmup: number };
  /** Figure 3: the prefetch values, rounds of each (interleaved), commands per round. */
  readonly sweep: { readonly prefetches: readonly number[]; readonly rounds: number; readonly commands: number };
}

export interface BusThroughputFigure {
  readonly prefetch: number;
  /** commands/s (troupe) and messages/s (raw), per round. */
  readonly troupe: Summary;
  readonly raw: Summary;
  /** troupe / raw, per round. */
  readonly ratio: Summary;
  readonly commandsPerRound: number;
  /** CPU time of this Node process (user + system) per command / message, µs, per round. */
  readonly cpuTroupe: Summary;
  readonly cpuRaw: Summary;
}

export interface BusSerialFigure {
  /** Round-trip latency, ms: each round's p50 and p99, summarized over rounds. */
  readonly troupeP50: Summary;
  readonly troupeP99: Summary;
  readonly rawP50: Summary;
  readonly rawP99: Summary;
  /** troupe p50 / raw p50 and troupe p99 / raw p99, per round. */
  readonly ratioP50: Summary;
  readonly ratioP99: Summary;
  /** All recorded round trips of all rounds pooled, ms. */
  readonly pooled: { readonly troupe: { readonly p50: number; readonly p99: number; readonly n: number }; readonly raw: { readonly p50: number; readonly p99: number; readonly n: number } };
  readonly commandsPerRound: number;
  readonly cpuTroupe: Summary;
  readonly cpuRaw: Summary;
}

export interface BusResults {
  readonly skipped: false;
  readonly amqpUrl: string;
  readonly redisUrl: string;
  readonly rabbitmqVersion: string;
  readonly redisVersion: string;
  readonly prefix: string;
  readonly shards: number;
  readonly actors: number;
  readonly window: number;
  readonly defaultPrefetch: number;
  /** Bytes of one command message as published: troupe's encodeCommand, the raw msgpackr body. */
  readonly messageBytes: { readonly troupe: number; readonly raw: number };
  readonly throughput: BusThroughputFigure;
  readonly serial: BusSerialFigure;
  readonly sweep: { readonly rounds: number; readonly points: readonly BusThroughputFigure[]; readonly bestPrefetch: number };
  /** Messages found in the dead-letter queue at the end (expected 0), and what the cleanup deleted. */
  readonly deadLettered: number;
  readonly cleanup: { readonly queues: number; readonly exchanges: number; readonly redisKeys: number };
}

export interface BusSkipped {
  readonly skipped: true;
  readonly amqpUrl: string;
  readonly redisUrl: string;
  readonly reason: string;
}

// ---------------------------------------------------------------------------------------------
// Helpers

const quiet = pino({ level: 'silent' });
const cpuMicros = (u: NodeJS.CpuUsage): number => u.user + u.system;

/** Runs `one(0..total-1)` with at most `window` in flight (a new one starts when one ends); ms. */
async function windowed(total: number, window: number, one: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const lane = async () => {
    while (next < total) await one(next++);
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(window, total) }, lane));
  return performance.now() - start;
}

/** Quantile of an ascending array (nearest rank, so p99 is a latency that was measured). */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

async function reachable(): Promise<string | undefined> {
  try {
    const model = await amqp.connect(busBenchAmqpUrl, { timeout: 2_000 });
    await model.close();
  } catch (error) {
    return `RabbitMQ ${busBenchAmqpUrl.replace(/\/\/[^@]*@/, '//')}: ${(error as Error).message || String(error)}`;
  }
  const client = new Redis(redisBenchUrl, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  let connectionError: string | undefined;
  client.on('error', (error: Error) => (connectionError = error.message));
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return `Redis ${redisBenchUrl}: ${connectionError ?? (error as Error).message}`;
  } finally {
    client.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// The raw baseline: plain amqplib, the same broker, as many durable queues as shards behind a
// direct exchange, a confirm channel publishing, one consumer channel per queue with the prefetch
// under test and manual acks. For figure 2 the consumer also runs one EVALSHA and replies through
// direct reply-to, and the publishing channel consumes amq.rabbitmq.reply-to, as the bus does.

const rawPackr = new Packr({ useRecords: false });
const rawUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const replyTo = 'amq.rabbitmq.reply-to';
const empty = Buffer.alloc(0);

interface RawMessage {
  readonly v: number;
  readonly type: string;
  readonly id: string;
  readonly command: string;
  readonly payload: { readonly by: number };
  readonly commandId: string;
  readonly checkDuplicate: boolean;
}

type RawHandler = (channel: Channel, message: ConsumeMessage) => void;

class RawSide {
  readonly exchange: string;
  readonly queues: readonly string[];
  private readonly pending = new Map<string, { readonly resolve: (reply: Buffer) => void; readonly reject: (error: Error) => void }>();
  private sequence = 0;
  private drain: Promise<void> | undefined;
  private readonly clientId = randomUUID().slice(0, 8);

  private constructor(
    private readonly publisher: ChannelModel,
    private readonly consumer: ChannelModel,
    private readonly channel: ConfirmChannel,
    prefix: string,
    shards: number,
  ) {
    this.exchange = `${prefix}.raw.commands`;
    this.queues = Array.from({ length: shards }, (_, i) => `${prefix}.raw.${i}-of-${shards}`);
  }

  static async open(prefix: string, shards: number): Promise<RawSide> {
    // Two connections, like the bus client and the worker.
    const publisher = await amqp.connect(busBenchAmqpUrl);
    const consumer = await amqp.connect(busBenchAmqpUrl);
    const channel = await publisher.createConfirmChannel();
    const raw = new RawSide(publisher, consumer, channel, prefix, shards);
    const setup = await consumer.createChannel();
    await setup.assertExchange(raw.exchange, 'direct', { durable: true });
    for (const queue of raw.queues) {
      await setup.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'classic', 'x-single-active-consumer': true } });
      await setup.bindQueue(queue, raw.exchange, queue);
    }
    await setup.close();
    channel.on('return', (message: ConsumeMessage) => raw.fail(String(message.properties.correlationId), new Error('raw bench: a message was returned unroutable')));
    await channel.consume(replyTo, (message) => message && raw.settle(String(message.properties.correlationId), message.content), { noAck: true });
    return raw;
  }

  /** One consumer channel per queue with this prefetch, for the duration of `body`. */
  async consuming<T>(prefetch: number, handler: RawHandler, body: () => Promise<T>): Promise<T> {
    const channels: Channel[] = [];
    try {
      for (const queue of this.queues) {
        const channel = await this.consumer.createChannel();
        channels.push(channel);
        await channel.prefetch(prefetch);
        await channel.consume(queue, (message) => message && handler(channel, message), { noAck: false });
      }
      return await body();
    } finally {
      for (const channel of channels) await channel.close().catch(() => undefined);
    }
  }

  /**
   * Publishes one message to the queue of `actor` (same shard function, same properties as the
   * bus) and resolves when `settle(correlationId)` is called: by the throughput consumer after its
   * ack, or by the reply consumer for figure 2.
   */
  async publish(actor: string, by: number): Promise<Buffer> {
    const commandId = `${this.clientId}.${(this.sequence++).toString(36)}`;
    const correlationId = `${this.clientId}.r${(this.sequence++).toString(36)}`;
    const message: RawMessage = { v: 1, type: Counter.type, id: actor, command: 'add', payload: { by }, commandId, checkDuplicate: false };
    const body = rawPackr.pack(message);
    const queue = this.queues[shardOf({ type: Counter.type, id: actor }, this.queues.length)]!;
    if (this.drain) await this.drain;
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.set(correlationId, { resolve, reject });
      const ok = this.channel.publish(
        this.exchange,
        queue,
        body,
        { persistent: true, mandatory: true, replyTo, correlationId, messageId: commandId, contentType: 'application/x-msgpack' },
        (error) => {
          if (error) this.fail(correlationId, new Error(`raw bench: the broker did not confirm ${commandId}: ${String(error)}`));
        },
      );
      if (!ok && !this.drain) this.drain = new Promise<void>((done) => this.channel.once('drain', () => ((this.drain = undefined), done())));
    });
  }

  /** Completes a publish: with the reply (figure 2), or from the consumer after its ack (figure 1, empty). */
  settle(correlationId: string, reply: Buffer = empty): void {
    const entry = this.pending.get(correlationId);
    if (!entry) return;
    this.pending.delete(correlationId);
    entry.resolve(reply);
  }

  fail(correlationId: string, error: Error): void {
    const entry = this.pending.get(correlationId);
    if (!entry) return;
    this.pending.delete(correlationId);
    entry.reject(error);
  }

  sampleBytes(): number {
    return rawPackr.pack({ v: 1, type: Counter.type, id: 'a999', command: 'add', payload: { by: 1 }, commandId: `${this.clientId}.${(this.sequence + 1e4).toString(36)}`, checkDuplicate: false } satisfies RawMessage).length;
  }

  async close(): Promise<void> {
    await this.publisher.close().catch(() => undefined);
    await this.consumer.close().catch(() => undefined);
  }
}

/** Figure 1's raw consumer: decode, ack, done. */
function rawThroughputHandler(raw: RawSide): RawHandler {
  return (channel, message) => {
    const m = rawUnpackr.unpack(message.content) as RawMessage;
    if (m.command !== 'add') throw new Error('raw bench: unexpected message');
    channel.ack(message);
    raw.settle(String(message.properties.correlationId));
  };
}

/**
 * Figure 2's raw consumer: decode, one EVALSHA of the raw append script of redis.ts (check the
 * head, HSET the encoded event, SET the head, RPUSH a log entry), ack, reply to replyTo.
 */
function rawRpcHandler(raw: RawSide, redis: Redis, sha: string, prefix: string): RawHandler {
  const heads = new Map<string, number>();
  return (channel, message) => {
    const m = rawUnpackr.unpack(message.content) as RawMessage;
    const head = heads.get(m.id) ?? 0;
    const version = head + 1;
    heads.set(m.id, version);
    const event = { id: m.commandId, actor: { type: m.type, id: m.id }, type: 'added', data: { by: m.payload.by }, ts: Date.now(), correlationId: m.commandId, causationId: m.commandId, replica: 'raw' };
    const base = `${prefix}:raw:{${m.id}}:${m.id}`;
    const work = async () => {
      const reply = (await redis.evalsha(sha, 3, `${base}:p`, `${base}:h`, `${prefix}:raw:{${m.id}}:log`, head === 0 ? '' : `raw:${head}`, `raw:${version}`, rawPackr.pack(event), `${m.id}:${version}`)) as string[];
      if (reply[0] !== 'ok') throw new Error(`append conflict ${reply.join(' ')}`);
      channel.ack(message);
      const body = rawPackr.pack({ v: 1, status: 'accepted', commandId: m.commandId, version: { raw: version } });
      channel.sendToQueue(String(message.properties.replyTo), body, { correlationId: message.properties.correlationId });
    };
    work().catch((error: unknown) => raw.fail(String(message.properties.correlationId), new Error(`raw bench: ${String(error)}`)));
  };
}

// ---------------------------------------------------------------------------------------------

interface Context {
  readonly t: Topology;
  readonly store: RedisStore;
  readonly raw: RawSide;
  bus?: CommandBus;
  readonly o: BusBenchOptions;
}

async function withWorker<T>(ctx: Context, prefetch: number, body: (worker: Worker) => Promise<T>): Promise<T> {
  const worker = await startWorker({
    url: busBenchAmqpUrl,
    prefix: ctx.t.prefix,
    shards: ctx.t.shards,
    actors: [Counter],
    store: ctx.store,
    prefetch,
    logger: quiet,
    defaultMetrics: false,
  });
  try {
    ctx.bus ??= await connectBus({ url: busBenchAmqpUrl, prefix: ctx.t.prefix, shards: ctx.t.shards, timeoutMs: 60_000 });
    return await body(worker);
  } finally {
    await worker.stop();
  }
}

interface ThroughputSample {
  readonly troupe: number;
  readonly raw: number;
  readonly cpuTroupe: number;
  readonly cpuRaw: number;
}

/** One round of figure 1 at `prefetch`: both sides, in `order`; fresh actors (`tag`) for troupe. */
async function throughputRound(ctx: Context, prefetch: number, tag: string, commands: number, order: readonly ('troupe' | 'raw')[]): Promise<ThroughputSample> {
  const { window, actors } = ctx.o;
  const ids = Array.from({ length: actors }, (_, i) => `${tag}-a${i}`);
  const result: Partial<Record<'troupe' | 'raw' | 'cpuTroupe' | 'cpuRaw', number>> = {};
  for (const side of order) {
    await settle();
    if (side === 'troupe') {
      await withWorker(ctx, prefetch, async (worker) => {
        const bus = ctx.bus!;
        let accepted = 0;
        const cpu = process.cpuUsage();
        const ms = await windowed(commands, window, async (i) => {
          const reply = await bus.send(Counter.ref(ids[i % actors]!), { type: 'add', payload: { by: 1 } });
          if (reply.status !== 'accepted') throw new Error(`bus bench: command ${i} was ${reply.status}`);
          accepted++;
        });
        result.cpuTroupe = cpuMicros(process.cpuUsage(cpu)) / commands;
        result.troupe = commands / (ms / 1000);
        // Every reply was 'accepted'; the first actor's state must count every command it got.
        const view = await worker.runtime.inspect<CounterState>(Counter.ref(ids[0]!));
        const expected = Math.ceil(commands / actors);
        if (accepted !== commands || view.state.value !== expected) throw new Error(`bus bench: ${accepted}/${commands} accepted, ${ids[0]} at ${view.state.value}, expected ${expected}`);
      });
    } else {
      const raw = ctx.raw;
      await raw.consuming(prefetch, rawThroughputHandler(raw), async () => {
        const cpu = process.cpuUsage();
        const ms = await windowed(commands, window, async (i) => {
          await raw.publish(ids[i % actors]!, 1);
        });
        result.cpuRaw = cpuMicros(process.cpuUsage(cpu)) / commands;
        result.raw = commands / (ms / 1000);
      });
    }
  }
  return result as ThroughputSample;
}

function throughputFigure(prefetch: number, samples: readonly ThroughputSample[], commandsPerRound: number): BusThroughputFigure {
  return {
    prefetch,
    troupe: summarize(samples.map((s) => s.troupe)),
    raw: summarize(samples.map((s) => s.raw)),
    ratio: summarize(samples.map((s) => s.troupe / s.raw)),
    commandsPerRound,
    cpuTroupe: summarize(samples.map((s) => s.cpuTroupe)),
    cpuRaw: summarize(samples.map((s) => s.cpuRaw)),
  };
}

async function benchSerial(ctx: Context, redis: Redis, sha: string, prefix: string, log: (text: string) => void): Promise<BusSerialFigure> {
  const o = ctx.o.serial;
  const prefetch = workerDefaults.prefetch;
  const perRound = { troupeP50: [] as number[], troupeP99: [] as number[], rawP50: [] as number[], rawP99: [] as number[], cpuTroupe: [] as number[], cpuRaw: [] as number[] };
  const pooled = { troupe: [] as number[], raw: [] as number[] };
  for (let round = 0; round < o.rounds; round++) {
    const order: ('troupe' | 'raw')[] = round % 2 === 0 ? ['raw', 'troupe'] : ['troupe', 'raw'];
    for (const side of order) {
      await settle();
      const actor = `serial-${round}`;
      const latencies: number[] = [];
      let cpuUs = 0;
      const run = async (one: () => Promise<void>) => {
        for (let i = 0; i < o.warmup; i++) await one();
        const cpu = process.cpuUsage();
        for (let i = 0; i < o.commands; i++) {
          const start = performance.now();
          await one();
          latencies.push(performance.now() - start);
        }
        cpuUs = cpuMicros(process.cpuUsage(cpu)) / o.commands;
      };
      if (side === 'troupe') {
        await withWorker(ctx, prefetch, async (worker) => {
          const ref = Counter.ref(actor);
          await run(async () => {
            const reply = await ctx.bus!.send(ref, { type: 'add', payload: { by: 1 } });
            if (reply.status !== 'accepted') throw new Error(`bus bench: serial command was ${reply.status}`);
          });
          const view = await worker.runtime.inspect<CounterState>(ref);
          if (view.state.value !== o.warmup + o.commands) throw new Error(`bus bench: serial actor at ${view.state.value}`);
        });
      } else {
        await ctx.raw.consuming(prefetch, rawRpcHandler(ctx.raw, redis, sha, prefix), async () => {
          await run(async () => {
            const reply = rawUnpackr.unpack(await ctx.raw.publish(actor, 1)) as { status: string };
            if (reply.status !== 'accepted') throw new Error('raw bench: bad reply');
          });
        });
      }
      const sorted = [...latencies].sort((a, b) => a - b);
      perRound[side === 'troupe' ? 'troupeP50' : 'rawP50'].push(quantile(sorted, 0.5));
      perRound[side === 'troupe' ? 'troupeP99' : 'rawP99'].push(quantile(sorted, 0.99));
      perRound[side === 'troupe' ? 'cpuTroupe' : 'cpuRaw'].push(cpuUs);
      pooled[side].push(...latencies);
    }
    log(`bus: serial round ${round + 1}/${o.rounds}: p50 troupe ${perRound.troupeP50[round]!.toFixed(2)} ms, raw ${perRound.rawP50[round]!.toFixed(2)} ms`);
  }
  const pool = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), n: sorted.length };
  };
  return {
    troupeP50: summarize(perRound.troupeP50),
    troupeP99: summarize(perRound.troupeP99),
    rawP50: summarize(perRound.rawP50),
    rawP99: summarize(perRound.rawP99),
    ratioP50: summarize(perRound.troupeP50.map((t, i) => t / perRound.rawP50[i]!)),
    ratioP99: summarize(perRound.troupeP99.map((t, i) => t / perRound.rawP99[i]!)),
    pooled: { troupe: pool(pooled.troupe), raw: pool(pooled.raw) },
    commandsPerRound: o.commands,
    cpuTroupe: summarize(perRound.cpuTroupe),
    cpuRaw: summarize(perRound.cpuRaw),
  };
}

/** Deletes the run's queues and exchanges (troupe's topology and the raw ones); counts what was dead-lettered first. */
async function deleteBrokerObjects(t: Topology, rawQueues: readonly string[], rawExchange: string): Promise<{ queues: number; exchanges: number; deadLettered: number }> {
  const model = await amqp.connect(busBenchAmqpUrl);
  try {
    let deadLettered = 0;
    const check = await model.createChannel();
    check.on('error', () => undefined);
    try {
      deadLettered = (await check.checkQueue(t.deadLetterQueue)).messageCount;
      await check.close();
    } catch {
      // no dead-letter queue (the run failed before a worker declared it): the broker closed the channel
    }
    const channel = await model.createChannel();
    // queue.delete and exchange.delete of something that does not exist are no-ops on RabbitMQ.
    const queues = [...t.shardQueues, t.deadLetterQueue, ...rawQueues];
    for (const queue of queues) await channel.deleteQueue(queue);
    const exchanges = [t.commandsExchange, t.deadLetterExchange, rawExchange];
    for (const exchange of exchanges) await channel.deleteExchange(exchange);
    return { queues: queues.length, exchanges: exchanges.length, deadLettered };
  } finally {
    await model.close().catch(() => undefined);
  }
}

export async function benchBus(o: BusBenchOptions, log: (text: string) => void = () => {}): Promise<BusResults | BusSkipped> {
  const unreachable = await reachable();
  if (unreachable) return { skipped: true, amqpUrl: busBenchAmqpUrl, redisUrl: redisBenchUrl, reason: unreachable };

  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const t = topology({ prefix, shards: o.shards });
  const redis = new Redis(redisBenchUrl);
  let store: RedisStore | undefined;
  let raw: RawSide | undefined;
  let ctx: Context | undefined;
  let cleaned: { queues: number; exchanges: number; deadLettered: number; redisKeys: number } | undefined;
  const cleanup = async () => {
    await ctx?.bus?.close().catch(() => undefined);
    await raw?.close();
    await store?.close().catch(() => undefined);
    const rawQueues = raw?.queues ?? Array.from({ length: o.shards }, (_, i) => `${prefix}.raw.${i}-of-${o.shards}`);
    const broker = await deleteBrokerObjects(t, rawQueues, raw?.exchange ?? `${prefix}.raw.commands`);
    const redisKeys = await deleteKeysMatching(redis, `${prefix}:*`);
    return { ...broker, redisKeys };
  };
  try {
    const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
    const sha = (await redis.script('LOAD', rawAppendLua)) as string;
    store = await connectRedisStore({ url: redisBenchUrl, prefix });
    raw = await RawSide.open(prefix, o.shards);
    ctx = { t, store, raw, o };
    const rabbitmqVersion = await (async () => {
      const model = await amqp.connect(busBenchAmqpUrl);
      const version = String(model.connection.serverProperties.version ?? 'unknown');
      await model.close();
      return version;
    })();
    const defaultPrefetch = workerDefaults.prefetch;
    const troupeBytes = encodeCommand({ v: busProtocolVersion, type: Counter.type, id: 'a999', command: 'add', payload: { by: 1 }, commandId: 'abcdef12.7ps', checkDuplicate: false }).length;
    collectGarbage();

    // 1. Throughput at the default prefetch, rounds alternating which side goes first.
    log(`bus: throughput, prefetch ${defaultPrefetch}, ${o.throughput.rounds} rounds (+1 warm-up) of ${o.throughput.commands} commands, window ${o.window}, ${o.actors} actors, ${o.shards} shards`);
    const samples: ThroughputSample[] = [];
    for (let round = 0; round <= o.throughput.rounds; round++) {
      const commands = round === 0 ? Math.ceil(o.throughput.commands / 4) : o.throughput.commands;
      const s = await throughputRound(ctx, defaultPrefetch, `t${round}`, commands, round % 2 === 0 ? ['raw', 'troupe'] : ['troupe', 'raw']);
      if (round > 0) {
        samples.push(s);
        log(`bus: throughput round ${round}/${o.throughput.rounds}: troupe ${Math.round(s.troupe)}/s, raw ${Math.round(s.raw)}/s, ratio ${(s.troupe / s.raw).toFixed(2)}`);
      }
    }
    const throughput = throughputFigure(defaultPrefetch, samples, o.throughput.commands);

    // 2. Serial round trips.
    log(`bus: serial round trip, ${o.serial.rounds} rounds of ${o.serial.warmup} + ${o.serial.commands} commands per side`);
    const serial = await benchSerial(ctx, redis, sha, prefix, log);

    // 3. Prefetch sweep: prefetch values interleaved within each round, their order rotated.
    log(`bus: prefetch sweep ${o.sweep.prefetches.join(', ')}, ${o.sweep.rounds} rounds of ${o.sweep.commands} commands`);
    const sweepSamples = new Map<number, ThroughputSample[]>(o.sweep.prefetches.map((p) => [p, []]));
    for (let round = 0; round < o.sweep.rounds; round++) {
      const order = [...o.sweep.prefetches];
      for (let r = 0; r < round % order.length; r++) order.push(order.shift()!);
      for (const prefetch of order) {
        const s = await throughputRound(ctx, prefetch, `s${round}p${prefetch}`, o.sweep.commands, (round + prefetch) % 2 === 0 ? ['raw', 'troupe'] : ['troupe', 'raw']);
        sweepSamples.get(prefetch)!.push(s);
        log(`bus: sweep round ${round + 1}/${o.sweep.rounds}, prefetch ${prefetch}: troupe ${Math.round(s.troupe)}/s, raw ${Math.round(s.raw)}/s`);
      }
    }
    const points = o.sweep.prefetches.map((p) => throughputFigure(p, sweepSamples.get(p)!, o.sweep.commands));
    const bestPrefetch = [...points].sort((a, b) => b.troupe.median - a.troupe.median)[0]!.prefetch;

    const messageBytes = { troupe: troupeBytes, raw: raw.sampleBytes() };
    cleaned = await cleanup();
    return {
      skipped: false,
      amqpUrl: busBenchAmqpUrl.replace(/\/\/[^@]*@/, '//'),
      redisUrl: redisBenchUrl,
      rabbitmqVersion,
      redisVersion,
      prefix,
      shards: o.shards,
      actors: o.actors,
      window: o.window,
      defaultPrefetch,
      messageBytes,
      throughput,
      serial,
      sweep: { rounds: o.sweep.rounds, points, bestPrefetch },
      deadLettered: cleaned.deadLettered,
      cleanup: { queues: cleaned.queues, exchanges: cleaned.exchanges, redisKeys: cleaned.redisKeys },
    };
  } finally {
    // Also after a failure: leave nothing behind.
    if (!cleaned) await cleanup().catch((error: unknown) => console.error(`bus bench: cleanup failed: ${String(error)}`));
    await redis.quit().catch(() => redis.disconnect());
  }
}
