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
 * The bus client and the worker run in this process, like the raw publisher and consumer (one
 * event loop each side). Figure 1 is also measured with the worker in a child process
 * (busWorker.ts), without a goal, to show what sharing the event loop costs or saves.
 *
 * Every run uses its own prefix (`bench-<random>`) for queues, exchanges and Redis keys, and deletes
 * them at the end, also after a failure. RabbitMQ (127.0.0.1:5672, guest) or Redis (127.0.0.1:6379)
 * not reachable: the scenario is skipped (the caller prints a loud line and fails under CI=true).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { Redis } from 'ioredis';
import { Packr, Unpackr } from 'msgpackr';
import { pino } from 'pino';
import { createRuntime } from '@troupe/runtime';
import { connectRedisStore, type RedisStore } from '@troupe/redis';
import { deleteKeysMatching } from '@troupe/redis/testing';
import { quantile } from '@troupe/cli/stats';
import {
  type CommandBus,
  connectBus,
  deleteTopology,
  startWorker,
  type Topology,
  topology,
  workerDefaults,
  type Worker,
} from '@troupe/rabbitmq';
import { busProtocolVersion, encodeCommand, shardOf } from '@troupe/rabbitmq/protocol';
import { Counter, type CounterState } from './counter.js';
import { rawAppendLua, redisBenchUrl } from './redis.js';
import { collectGarbage, settle, type Summary, summarize } from './stats.js';

/** The only broker this bench talks to. */
export const busBenchAmqpUrl = 'amqp://guest:guest@127.0.0.1:5672';
const redactedAmqpUrl = 'amqp://127.0.0.1:5672';

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
  /** Figure 1 again with the worker in a child process (rounds 0: not measured). */
  readonly childProcess: { readonly rounds: number; readonly commands: number };
  /** Figure 3: the prefetch values, rounds of each (interleaved), commands per round. */
  readonly sweep: { readonly prefetches: readonly number[]; readonly rounds: number; readonly commands: number };
}

/** The options of the bus probes (busCpu.ts, busAlloc.ts): the bench's set-up, their own rounds. */
export const probeShape: BusBenchOptions = {
  shards: 16,
  actors: 1,
  window: 1,
  throughput: { rounds: 0, commands: 0 },
  childProcess: { rounds: 0, commands: 0 },
  serial: { rounds: 0, commands: 0, warmup: 0 },
  sweep: { prefetches: [], rounds: 0, commands: 0 },
};

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
  /** Figure 1 with the worker in a child process; CPU = this process + the worker's. */
  readonly throughputChild?: BusThroughputFigure;
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

const rawQueueNames = (prefix: string, shards: number): string[] => Array.from({ length: shards }, (_, i) => `${prefix}.raw.${i}-of-${shards}`);

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
    this.queues = rawQueueNames(prefix, shards);
  }

  static async open(prefix: string, shards: number): Promise<RawSide> {
    // Two connections, like the bus client and the worker, with the bus's socket options:
    // TCP_NODELAY (see rawRpcHandler) and a 10 s heartbeat.
    const socket = { noDelay: true, heartbeat: 10 };
    const publisher = await amqp.connect(busBenchAmqpUrl, socket);
    const consumer = await amqp.connect(busBenchAmqpUrl, socket);
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
 * head, HSET the encoded event, SET the head, RPUSH a log entry), reply to replyTo, ack (the
 * worker's order).
 *
 * Its connections set TCP_NODELAY (`noDelay: true`), as the bus's do: with amqplib's default
 * (Nagle on) the consumer writes the reply and the ack as two small TCP segments and the second
 * waits for the broker's delayed ACK: p50 44.0 ms per round trip, measured with this consumer.
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
      const body = rawPackr.pack({ v: 1, status: 'accepted', commandId: m.commandId, version: { raw: version } });
      channel.sendToQueue(String(message.properties.replyTo), body, { correlationId: message.properties.correlationId });
      channel.ack(message);
    };
    work().catch((error: unknown) => raw.fail(String(message.properties.correlationId), new Error(`raw bench: ${String(error)}`)));
  };
}

// ---------------------------------------------------------------------------------------------

export interface Context {
  readonly t: Topology;
  readonly store: RedisStore;
  readonly raw: RawSide;
  bus?: CommandBus;
  readonly o: BusBenchOptions;
}

/** What a round needs from the worker, wherever it runs. */
export interface WorkerHandle {
  /** The counter's value as the worker's runtime sees it (in process) or as the store holds it (child). */
  value(id: string): Promise<number>;
  /** CPU time (user + system, µs) of the worker's own process so far; 0 when it runs in this process. */
  cpu(): Promise<number>;
}

const busWorkerScript = fileURLToPath(new URL('./busWorker.ts', import.meta.url));
const testDir = fileURLToPath(new URL('..', import.meta.url));

/** Starts busWorker.ts in a child process (`node --import tsx`) and waits until it consumes. */
async function spawnWorker(ctx: Context, prefetch: number): Promise<WorkerHandle & { stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', busWorkerScript], {
    cwd: testDir,
    env: { ...process.env, BUS_PREFIX: ctx.t.prefix, BUS_SHARDS: String(ctx.t.shards), BUS_PREFETCH: String(prefetch), BUS_AMQP_URL: busBenchAmqpUrl, BUS_REDIS_URL: redisBenchUrl },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    for (;;) {
      const { value, done } = await lines.next();
      if (done) throw new Error(`bus bench: the worker process exited (${String(child.exitCode ?? child.signalCode)})`);
      try {
        return JSON.parse(value as string) as Record<string, unknown>;
      } catch {
        // not one of its lines
      }
    }
  };
  try {
    if ((await next()).ready !== true) throw new Error('bus bench: unexpected first line from the worker process');
  } catch (error) {
    child.kill();
    throw error;
  }
  const reader = createRuntime({ actors: [Counter], store: ctx.store, replicaId: 'bench-reader' });
  return {
    value: async (id) => (await reader.inspect<CounterState>(Counter.ref(id))).state.value,
    cpu: async () => {
      child.stdin!.write('cpu\n');
      return Number((await next()).cpu);
    },
    stop: async () => {
      await reader.stop();
      child.stdin!.end('stop\n');
      await next().catch(() => undefined);
      await exited;
    },
  };
}

/** Runs `body` with a worker at `prefetch` in this process. Start and stop are not timed. */
export async function withWorker<T>(ctx: Context, prefetch: number, body: (worker: WorkerHandle) => Promise<T>): Promise<T> {
  const worker: Worker = await startWorker({
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
    return await body({
      value: async (id) => (await worker.runtime.inspect<CounterState>(Counter.ref(id))).state.value,
      cpu: async () => 0,
    });
  } finally {
    await worker.stop();
  }
}

export interface ThroughputSample {
  readonly troupe: number;
  readonly raw: number;
  readonly cpuTroupe: number;
  readonly cpuRaw: number;
}

/**
 * One round of figure 1 at `prefetch`: both sides, in `order`; fresh actors (`tag`) for troupe.
 * The troupe side starts a worker in this process for the round, or uses `shared` (the child
 * process, or a worker started by the caller). `shape`: in-flight window and actors (default: the
 * options'); command i goes to actor i mod actors, on both sides.
 */
export async function throughputRound(
  ctx: Context,
  prefetch: number,
  tag: string,
  commands: number,
  order: readonly ('troupe' | 'raw')[],
  shared?: WorkerHandle,
  shape: { readonly window: number; readonly actors: number } = ctx.o,
): Promise<ThroughputSample> {
  const { window, actors } = shape;
  const ids = Array.from({ length: actors }, (_, i) => `${tag}-a${i}`);
  const result: Partial<Record<'troupe' | 'raw' | 'cpuTroupe' | 'cpuRaw', number>> = {};
  for (const side of order) {
    await settle();
    if (side === 'troupe') {
      const measure = async (worker: WorkerHandle) => {
        ctx.bus ??= await connectBus({ url: busBenchAmqpUrl, prefix: ctx.t.prefix, shards: ctx.t.shards, timeoutMs: 60_000 });
        const bus = ctx.bus;
        let accepted = 0;
        const workerCpu = await worker.cpu();
        const cpu = process.cpuUsage();
        const ms = await windowed(commands, window, async (i) => {
          const reply = await bus.send(Counter.ref(ids[i % actors]!), { type: 'add', payload: { by: 1 } });
          if (reply.status !== 'accepted') throw new Error(`bus bench: command ${i} was ${reply.status}`);
          accepted++;
        });
        result.cpuTroupe = (cpuMicros(process.cpuUsage(cpu)) + (await worker.cpu()) - workerCpu) / commands;
        result.troupe = commands / (ms / 1000);
        // Every reply was 'accepted'; the first actor's state must count every command it got.
        const value = await worker.value(ids[0]!);
        const expected = Math.ceil(commands / actors);
        if (accepted !== commands || value !== expected) throw new Error(`bus bench: ${accepted}/${commands} accepted, ${ids[0]} at ${value}, expected ${expected}`);
      };
      if (shared) await measure(shared);
      else await withWorker(ctx, prefetch, measure);
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

/**
 * Figure 1: `rounds` measured rounds after one unrecorded warm-up round, the side going first
 * alternating. In this process a worker is started per round; `inChild`: one worker process for
 * all the rounds (its JIT warms up in the warm-up round, as this process's did).
 */
async function throughputRounds(ctx: Context, prefetch: number, tag: string, rounds: number, commands: number, inChild: boolean, log: (text: string) => void, label: string): Promise<BusThroughputFigure> {
  const samples: ThroughputSample[] = [];
  const child = inChild ? await spawnWorker(ctx, prefetch) : undefined;
  try {
    for (let round = 0; round <= rounds; round++) {
      const s = await throughputRound(ctx, prefetch, `${tag}${round}`, commands, round % 2 === 0 ? ['raw', 'troupe'] : ['troupe', 'raw'], child);
      if (round > 0) {
        samples.push(s);
        log(`bus: ${label} round ${round}/${rounds}: troupe ${Math.round(s.troupe)}/s, raw ${Math.round(s.raw)}/s, ratio ${(s.troupe / s.raw).toFixed(2)}`);
      }
    }
  } finally {
    await child?.stop();
  }
  return throughputFigure(prefetch, samples, commands);
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
          const value = await worker.value(actor);
          if (value !== o.warmup + o.commands) throw new Error(`bus bench: serial actor at ${value}`);
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
    const bus = await deleteTopology(channel, t);
    for (const queue of rawQueues) await channel.deleteQueue(queue);
    await channel.deleteExchange(rawExchange);
    return { queues: bus.queues + rawQueues.length, exchanges: bus.exchanges + 1, deadLettered };
  } finally {
    await model.close().catch(() => undefined);
  }
}

/** An open bench: broker objects and Redis keys under `prefix`, deleted by `withBusBench` at the end. */
export interface BusBench {
  readonly ctx: Context;
  readonly redis: Redis;
  /** SHA of the raw append script (redis.ts), loaded. */
  readonly sha: string;
  readonly prefix: string;
  readonly rabbitmqVersion: string;
  readonly redisVersion: string;
}

export interface BusCleanup {
  readonly queues: number;
  readonly exchanges: number;
  readonly deadLettered: number;
  readonly redisKeys: number;
}

/**
 * Opens the bench's connections (Redis store, raw amqplib side; the bus client on first use) under
 * a prefix of its own, runs `body`, and deletes every queue, exchange and Redis key of the prefix,
 * also after a failure. RabbitMQ or Redis not reachable: BusSkipped, `body` not run.
 */
export async function withBusBench<T>(o: BusBenchOptions, body: (b: BusBench) => Promise<T>): Promise<{ readonly skipped: false; readonly value: T; readonly cleanup: BusCleanup } | BusSkipped> {
  const unreachable = await reachable();
  if (unreachable) return { skipped: true, amqpUrl: redactedAmqpUrl, redisUrl: redisBenchUrl, reason: unreachable };

  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const t = topology({ prefix, shards: o.shards });
  const redis = new Redis(redisBenchUrl);
  const rawQueues = rawQueueNames(prefix, o.shards);
  const rawExchange = `${prefix}.raw.commands`;
  const opened: { store?: RedisStore; raw?: RawSide; ctx?: Context } = {};
  const cleanup = async (): Promise<BusCleanup> => {
    await opened.ctx?.bus?.close().catch(() => undefined);
    await opened.raw?.close();
    await opened.store?.close().catch(() => undefined);
    const broker = await deleteBrokerObjects(t, rawQueues, rawExchange);
    const redisKeys = await deleteKeysMatching(redis, `${prefix}:*`);
    return { ...broker, redisKeys };
  };
  let cleaned = false;
  try {
    const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
    const sha = (await redis.script('LOAD', rawAppendLua)) as string;
    const store = (opened.store = await connectRedisStore({ url: redisBenchUrl, prefix }));
    const raw = (opened.raw = await RawSide.open(prefix, o.shards));
    const ctx: Context = (opened.ctx = { t, store, raw, o });
    const rabbitmqVersion = await (async () => {
      const model = await amqp.connect(busBenchAmqpUrl);
      const version = String(model.connection.serverProperties.version ?? 'unknown');
      await model.close();
      return version;
    })();
    const value = await body({ ctx, redis, sha, prefix, rabbitmqVersion, redisVersion });
    const done = await cleanup();
    cleaned = true;
    return { skipped: false, value, cleanup: done };
  } finally {
    // Also after a failure: leave nothing behind.
    if (!cleaned) await cleanup().catch((error: unknown) => console.error(`bus bench: cleanup failed: ${String(error)}`));
    await redis.quit().catch(() => redis.disconnect());
  }
}

export async function benchBus(o: BusBenchOptions, log: (text: string) => void = () => {}): Promise<BusResults | BusSkipped> {
  const result = await withBusBench(o, async ({ ctx, redis, sha, prefix, rabbitmqVersion, redisVersion }) => {
    const defaultPrefetch = workerDefaults.prefetch;
    const troupeBytes = encodeCommand({ v: busProtocolVersion, type: Counter.type, id: 'a999', command: 'add', payload: { by: 1 }, commandId: 'abcdef12.7ps', checkDuplicate: false }).length;
    collectGarbage();

    // 1. Throughput at the default prefetch.
    log(`bus: throughput, prefetch ${defaultPrefetch}, ${o.throughput.rounds} rounds (+1 warm-up) of ${o.throughput.commands} commands, window ${o.window}, ${o.actors} actors, ${o.shards} shards`);
    const throughput = await throughputRounds(ctx, defaultPrefetch, 't', o.throughput.rounds, o.throughput.commands, false, log, 'throughput');

    // 1b. The same with the worker in a child process (not a goal: shows what the shared event loop costs).
    let throughputChild: BusThroughputFigure | undefined;
    if (o.childProcess.rounds > 0) {
      log(`bus: throughput with the worker in a child process, ${o.childProcess.rounds} rounds (+1 warm-up) of ${o.childProcess.commands} commands`);
      throughputChild = await throughputRounds(ctx, defaultPrefetch, 'c', o.childProcess.rounds, o.childProcess.commands, true, log, 'child-process worker');
    }

    // 2. Serial round trips.
    log(`bus: serial round trip, ${o.serial.rounds} rounds of ${o.serial.warmup} + ${o.serial.commands} commands per side`);
    const serial = await benchSerial(ctx, redis, sha, prefix, log);

    // 3. Prefetch sweep: prefetch values interleaved within each round, their order rotated.
    log(`bus: prefetch sweep ${o.sweep.prefetches.join(', ')}, ${o.sweep.rounds} rounds of ${o.sweep.commands} commands`);
    const sweepSamples = new Map<number, ThroughputSample[]>(o.sweep.prefetches.map((p) => [p, []]));
    for (let round = 0; round < o.sweep.rounds; round++) {
      const order = [...o.sweep.prefetches];
      for (let r = 0; r < round % order.length; r++) order.push(order.shift()!);
      for (const [k, prefetch] of order.entries()) {
        const s = await throughputRound(ctx, prefetch, `s${round}p${prefetch}`, o.sweep.commands, (round + k) % 2 === 0 ? ['raw', 'troupe'] : ['troupe', 'raw']);
        sweepSamples.get(prefetch)!.push(s);
        log(`bus: sweep round ${round + 1}/${o.sweep.rounds}, prefetch ${prefetch}: troupe ${Math.round(s.troupe)}/s, raw ${Math.round(s.raw)}/s`);
      }
    }
    const points = o.sweep.prefetches.map((p) => throughputFigure(p, sweepSamples.get(p)!, o.sweep.commands));
    const bestPrefetch = [...points].sort((x, y) => y.troupe.median - x.troupe.median)[0]!.prefetch;

    return {
      amqpUrl: redactedAmqpUrl,
      redisUrl: redisBenchUrl,
      rabbitmqVersion,
      redisVersion,
      prefix,
      shards: o.shards,
      actors: o.actors,
      window: o.window,
      defaultPrefetch,
      messageBytes: { troupe: troupeBytes, raw: ctx.raw.sampleBytes() },
      throughput,
      ...(throughputChild ? { throughputChild } : {}),
      serial,
      sweep: { rounds: o.sweep.rounds, points, bestPrefetch },
    };
  });
  if (result.skipped) return result;
  const done = result.cleanup;
  return { skipped: false, ...result.value, deadLettered: done.deadLettered, cleanup: { queues: done.queues, exchanges: done.exchanges, redisKeys: done.redisKeys } };
}

// ---------------------------------------------------------------------------------------------
// Profiling aid (not part of `npm run bench`): the troupe side of figure 1 alone, worker and
// client in this process, so `node --cpu-prof` sees nothing else.
//
//   cd test && node --import tsx --cpu-prof --cpu-prof-dir=bench/results/profiles bench/bus.ts [commands] [prefetch]

async function profile(commands: number, prefetch: number): Promise<void> {
  const unreachable = await reachable();
  if (unreachable) throw new Error(unreachable);
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const t = topology({ prefix, shards: 16 });
  const redis = new Redis(redisBenchUrl);
  const store = await connectRedisStore({ url: redisBenchUrl, prefix });
  const o: BusBenchOptions = { shards: 16, actors: 1_000, window: 1_000, throughput: { rounds: 0, commands }, childProcess: { rounds: 0, commands: 0 }, serial: { rounds: 0, commands: 0, warmup: 0 }, sweep: { prefetches: [], rounds: 0, commands: 0 } };
  const raw = await RawSide.open(prefix, 16);
  const ctx: Context = { t, store, raw, o };
  try {
    const warm = await throughputRound(ctx, prefetch, 'warm', Math.min(commands, 2_000), ['troupe']);
    const cpu = process.cpuUsage();
    const s = await throughputRound(ctx, prefetch, 'prof', commands, ['troupe']);
    console.log(`troupe: ${commands} commands at ${Math.round(s.troupe)}/s (warm-up ${Math.round(warm.troupe)}/s), Node CPU ${s.cpuTroupe.toFixed(0)} µs/command, total ${(cpuMicros(process.cpuUsage(cpu)) / 1000).toFixed(0)} ms`);
  } finally {
    await ctx.bus?.close();
    await raw.close();
    await store.close();
    await deleteBrokerObjects(t, raw.queues, raw.exchange);
    await deleteKeysMatching(redis, `${prefix}:*`);
    redis.disconnect();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [commands = '20000', prefetch = String(workerDefaults.prefetch)] = process.argv.slice(2);
  await profile(Number(commands), Number(prefetch));
}
