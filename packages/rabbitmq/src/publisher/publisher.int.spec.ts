/**
 * The publisher against the local RabbitMQ and Redis: a history of several actors published to a
 * topic exchange and read back from a queue bound to '#'. Every event arrives (at least once, the
 * duplicates identical), in log order per actor once deduplicated by messageId, the event id; the
 * position is saved only after the broker confirmed; a SIGKILLed publisher process restarted
 * loses nothing; a merge arrives as a marker that lets a consumer fold the merged order; bad input
 * fails clearly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import amqp, { type ConsumeMessage } from 'amqplib';
import { pino } from 'pino';
import { type EventStore, InvalidCursorError, MemoryStore, type Pack, Replicator, createRuntime } from '@troupe/runtime';
import { requireService, uniqueSuffix, Ledger, type LedgerState } from '@troupe/runtime/testkit';
import { type RedisStore, connectRedisStore } from '@troupe/redis';
import { BusUnavailableError, TopologyMismatchError } from '../errors/index.js';
import { SequenceLog } from '../testing/sequenceActor.js';
import { amqpUrl, requireRabbitMq } from '../testing/amqpTest.js';
import { decodePublication, mergeMarkerId, startPublisher, type Publisher } from './index.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/9';
const available = (await requireRabbitMq()) && (await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 }));
const publisherScript = fileURLToPath(new URL('../../dist-testing/testing/publisherProcess.js', import.meta.url));
const quiet = { defaultMetrics: false, idleMs: 20, logger: pino({ level: process.env.PUBLISH_TEST_LOG ?? 'silent' }) };

/** One message as the test's consumer got it. */
interface Received {
  readonly routingKey: string;
  readonly messageId: string;
  readonly type: string;
  readonly headers: Record<string, unknown>;
  readonly content: Buffer;
}

/** A queue bound to '#' on the exchange (declared here first, as a consumer does), collecting everything. */
class Collector {
  readonly received: Received[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];
  private constructor(
    private readonly connection: amqp.ChannelModel,
    readonly exchange: string,
    readonly queue: string,
  ) {}

  static async start(exchange: string): Promise<Collector> {
    const connection = await amqp.connect(amqpUrl);
    const channel = await connection.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, exchange, '#');
    const collector = new Collector(connection, exchange, queue);
    await channel.consume(queue, (m: ConsumeMessage | null) => m && collector.add(m), { noAck: true });
    return collector;
  }

  private add(m: ConsumeMessage): void {
    this.received.push({
      routingKey: m.fields.routingKey,
      messageId: String(m.properties.messageId),
      type: String(m.properties.type),
      headers: (m.properties.headers ?? {}) as Record<string, unknown>,
      content: m.content,
    });
    for (const w of this.waiters.filter((w) => this.received.length >= w.count)) w.resolve();
    this.waiters = this.waiters.filter((w) => this.received.length < w.count);
  }

  /** Resolves once `count` messages arrived (or rejects after `timeoutMs`). */
  until(count: number, timeoutMs = 30_000): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.received.length} of ${count} messages arrived in ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  /** Resolves once every message in `expected` has arrived at least once. */
  async untilAll(expected: readonly { id: string; actor: string }[], timeoutMs = 30_000): Promise<void> {
    const ids = expected.map((e) => `${e.actor}/${e.id}`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = new Set(this.received.map(keyOf));
      const missing = ids.filter((id) => !seen.has(id));
      if (missing.length === 0) return;
      if (Date.now() > deadline) throw new Error(`${missing.length} of ${ids.length} messages never arrived, e.g. ${missing.slice(0, 3).join(', ')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async close(): Promise<void> {
    const channel = await this.connection.createChannel();
    await channel.deleteExchange(this.exchange);
    await this.connection.close();
  }
}

/** The log's messages as the publisher must send them, in log order: per pack, its marker (merge packs) then its events. */
async function expectedMessages(store: EventStore): Promise<{ id: string; actor: string; pack: Pack }[]> {
  const out: { id: string; actor: string; pack: Pack }[] = [];
  let cursor: string | undefined;
  for (;;) {
    const changes = await store.changesSince(cursor, 1_000);
    if (changes.packs.length === 0) return out;
    for (const pack of changes.packs) {
      const actor = `${pack.actor.type}:${pack.actor.id}`;
      if (pack.kind === 'merge') out.push({ id: mergeMarkerId(pack.actor, pack.version), actor, pack });
      for (const event of pack.events) out.push({ id: event.id, actor, pack });
    }
    cursor = changes.cursor;
  }
}

/** A message's deduplication key: its actor and its id (a merge's compensation ids repeat across actors merged at the same version). */
const keyOf = (r: { headers: Record<string, unknown>; messageId: string }) => `${String(r.headers['x-troupe-actor-type'])}:${String(r.headers['x-troupe-actor-id'])}/${r.messageId}`;

/**
 * The delivery contract: every expected message at least once and nothing else; each message's id
 * is its body's event id, its routing key `<type>.<eventType>`; copies of one message are identical;
 * and per actor, the first copies come in log order. Returns the number of duplicates.
 */
function checkDelivery(received: readonly Received[], expected: readonly { id: string; actor: string }[]): number {
  const expectedKeys = new Set(expected.map((e) => `${e.actor}/${e.id}`));
  const firstCopy = new Map<string, Received>();
  const firstOrder = new Map<string, string[]>();
  for (const r of received) {
    const key = keyOf(r);
    expect(expectedKeys.has(key), `unexpected message ${key}`).toBe(true);
    const publication = decodePublication(r.content);
    if (publication.kind === 'event') {
      expect(publication.event.id).toBe(r.messageId);
      expect(r.routingKey).toBe(`${publication.event.actor.type}.${publication.event.type}`);
      expect(r.headers['x-troupe-actor-id']).toBe(publication.event.actor.id);
    } else {
      expect(r.routingKey).toBe(`${publication.marker.actor.type}.$merge`);
    }
    const first = firstCopy.get(key);
    if (first) {
      expect(r.content.equals(first.content), `copies of ${key} differ`).toBe(true);
      continue;
    }
    firstCopy.set(key, r);
    const actor = `${String(r.headers['x-troupe-actor-type'])}:${String(r.headers['x-troupe-actor-id'])}`;
    firstOrder.set(actor, [...(firstOrder.get(actor) ?? []), r.messageId]);
  }
  expect(expected.filter((e) => !firstCopy.has(`${e.actor}/${e.id}`)).map((e) => e.id)).toEqual([]);
  const expectedOrder = new Map<string, string[]>();
  for (const e of expected) expectedOrder.set(e.actor, [...(expectedOrder.get(e.actor) ?? []), e.id]);
  expect(new Map([...firstOrder].sort())).toEqual(new Map([...expectedOrder].sort()));
  return received.length - firstCopy.size;
}

/**
 * A TCP proxy to the broker whose client-to-broker direction can be held (bytes wait in the proxy,
 * so the broker neither routes nor confirms what the publisher sends), then released (forwarded)
 * or dropped with the connections (cut).
 */
class HoldingProxy {
  private readonly pairs = new Set<{ client: Socket; upstream: Socket; held: Buffer[] }>();
  private holding = false;
  /** Bytes the clients sent while held. */
  heldBytes = 0;
  private constructor(private readonly server: Server) {}

  static async start(port: number): Promise<HoldingProxy> {
    let proxy!: HoldingProxy;
    const server = createServer((client) => {
      const upstream = tcpConnect(port, '127.0.0.1');
      client.setNoDelay(true);
      upstream.setNoDelay(true);
      const pair = { client, upstream, held: [] as Buffer[] };
      proxy.pairs.add(pair);
      for (const s of [client, upstream]) s.on('error', () => undefined);
      client.on('close', () => (upstream.destroy(), proxy.pairs.delete(pair)));
      upstream.on('close', () => client.destroy());
      upstream.pipe(client);
      client.on('data', (chunk: Buffer) => {
        if (!proxy.holding) return void upstream.write(chunk);
        pair.held.push(chunk);
        proxy.heldBytes += chunk.length;
      });
    });
    proxy = new HoldingProxy(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops forwarding what the clients send: it waits here. */
  hold(): void {
    this.holding = true;
  }

  /** Forwards what was held, and everything after it. */
  release(): void {
    this.holding = false;
    for (const pair of this.pairs) for (const chunk of pair.held.splice(0)) pair.upstream.write(chunk);
  }

  /** Drops every connection, with whatever was held, and forwards new ones again. */
  cut(): void {
    this.holding = false;
    for (const { client, upstream, held } of this.pairs) {
      held.length = 0;
      client.destroy();
      upstream.destroy();
    }
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Several actors' histories written through a runtime: `perActor` commands to each of `actors` seqlogs and ledgers. */
async function writeHistory(store: EventStore, actors: number, perActor: number, tag = 'a'): Promise<void> {
  const runtime = createRuntime({ actors: [SequenceLog, Ledger], store, replicaId: 'eu' });
  try {
    await Promise.all(
      Array.from({ length: actors }, async (_, a) => {
        for (let i = 0; i < perActor; i++) {
          if (a % 2 === 0) await runtime.send(SequenceLog.ref(`${tag}-${a}`), { type: 'record', payload: { client: tag, seq: i } });
          else await runtime.send(Ledger.ref(`${tag}-${a}`), { type: 'deposit', payload: { n: i + 1 } });
        }
      }),
    );
  } finally {
    await runtime.stop();
  }
}

describe.skipIf(!available)('the publisher on RabbitMQ and Redis', () => {
  const stores: RedisStore[] = [];
  const publishers: Publisher[] = [];
  const collectors: Collector[] = [];
  const children: ChildProcess[] = [];

  async function store(): Promise<RedisStore> {
    const s = await connectRedisStore({ url: redisUrl, prefix: `publish-${uniqueSuffix()}` });
    stores.push(s);
    return s;
  }
  async function collector(): Promise<Collector> {
    const c = await Collector.start(`t-events-${uniqueSuffix()}`);
    collectors.push(c);
    return c;
  }
  async function publisher(options: Parameters<typeof startPublisher>[0]): Promise<Publisher> {
    const p = await startPublisher({ ...quiet, ...options });
    publishers.push(p);
    return p;
  }

  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(publishers.splice(0).map((p) => p.stop()));
    await Promise.all(collectors.splice(0).map((c) => c.close().catch(() => undefined)));
    for (const s of stores.splice(0)) {
      await s.destroy().catch(() => undefined);
      await s.close();
    }
  });

  it('publishes every event of several actors once, in log order per actor, the event id as messageId; then follows the log live', async () => {
    const s = await store();
    await writeHistory(s, 12, 15);
    const events = await collector();
    const p = await publisher({ store: s, url: amqpUrl, exchange: events.exchange, batchSize: 7 });
    await p.caughtUp();
    const before = await expectedMessages(s);
    expect(before).toHaveLength(180);
    await events.until(before.length);
    // Written while it runs: published too.
    await writeHistory(s, 4, 5, 'live');
    const expected = await expectedMessages(s);
    await events.untilAll(expected);
    await p.caughtUp();
    await new Promise((r) => setTimeout(r, 100));
    expect(checkDelivery(events.received, expected)).toBe(0);
    expect(events.received).toHaveLength(200);
    expect(p.status()).toMatchObject({ events: 200, markers: 0, packs: 200, lagPacks: 0, connected: true });
    expect(p.status().batches).toBeGreaterThanOrEqual(Math.ceil(180 / 7));
    expect(await s.checkpoint(`publish.${events.exchange}`).load()).toBe(p.status().cursor);
    expect(await s.backlog(p.status().cursor)).toBe(0);
    const metrics = Object.fromEntries((await p.metrics.registry.getMetricsAsJSON()).map((m) => [m.name, m.values]));
    expect(metrics['troupe_publish_events_total']!.reduce((n, v) => n + v.value, 0)).toBe(200);
    expect(metrics['troupe_publish_events_total']!.map((v) => v.labels['actor_type']).sort()).toEqual(['ledger', 'seqlog']);
    expect(metrics['troupe_publish_lag_packs']![0]!.value).toBe(0);
    expect(metrics['troupe_publish_connected']![0]!.value).toBe(1);
    // A message's properties, once.
    const first = events.received[0]!;
    expect(first.headers).toMatchObject({ 'x-troupe-publication': 1, 'x-troupe-pack-kind': 'command' });
  });

  it('saves its position only once the broker confirmed the batch: confirms held back, nothing saved; the connection cut, the batch published again', async () => {
    const s = await store();
    await writeHistory(s, 2, 3);
    const events = await collector();
    const proxy = await HoldingProxy.start(Number(new URL(amqpUrl).port || 5672));
    try {
      const { username, password } = new URL(amqpUrl);
      const p = await publisher({ store: s, url: `amqp://${username}:${password}@127.0.0.1:${proxy.port}`, exchange: events.exchange, batchSize: 100, retryDelayMs: 50 });
      await p.caughtUp();
      await events.until(6);
      const saved = await s.checkpoint(`publish.${events.exchange}`).load();
      expect(saved).toBeDefined();
      proxy.hold();
      await writeHistory(s, 3, 4, 'held');
      // The publisher reads the batch and publishes it into the held connection: the broker has
      // nothing to confirm, so the position stays where it was.
      await until(() => proxy.heldBytes > 12 * 200, 5_000, 'the batch published into the held connection');
      await new Promise((r) => setTimeout(r, 300));
      expect(await s.checkpoint(`publish.${events.exchange}`).load()).toBe(saved);
      expect(p.status().cursor).toBe(saved);
      expect(events.received).toHaveLength(6);
      proxy.cut();
      const expected = await expectedMessages(s);
      await events.untilAll(expected, 20_000);
      await p.caughtUp();
      expect(checkDelivery(events.received, expected)).toBe(0);
      expect(await s.backlog(await s.checkpoint(`publish.${events.exchange}`).load())).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('a publisher process SIGKILLed mid-run and restarted loses no event; the duplicates are copies with the same id, at most one batch', { timeout: 120_000 }, async () => {
    const s = await store();
    await writeHistory(s, 40, 60);
    const expected = await expectedMessages(s);
    expect(expected).toHaveLength(2_400);
    const events = await collector();
    const batchSize = 20;
    const env = { AMQP_URL: amqpUrl, REDIS_URL: redisUrl, STORE_PREFIX: s.prefix, EXCHANGE: events.exchange, BATCH_SIZE: String(batchSize), TROUPE_LOG_LEVEL: 'warn' };
    const first = await spawnPublisher(env, children);
    expect(first.cursor).toBeNull();
    // Not on a batch boundary, so the kill likely lands while a batch is out and unconfirmed.
    await events.until(expected.length / 3 + 7);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const atKill = events.received.length;
    expect(atKill).toBeLessThan(expected.length);
    const second = await spawnPublisher(env, children);
    // It resumed from the saved position, not from the start.
    expect(second.cursor).not.toBeNull();
    await events.untilAll(expected, 60_000);
    await new Promise((r) => setTimeout(r, 200));
    const duplicates = checkDelivery(events.received, expected);
    // Confirmed batches were checkpointed: only the batch in flight at the kill comes again.
    expect(duplicates).toBeLessThanOrEqual(batchSize);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    console.info(`publisher SIGKILL: ${atKill} of ${expected.length} messages received at the kill, ${duplicates} duplicates after the restart`);
  });

  it('stop() finishes the batch in flight: held on its way to the broker, stop waits; released, it is confirmed and saved, and published is exactly what the position covers', async () => {
    const s = await store();
    await writeHistory(s, 20, 30);
    const all = await expectedMessages(s);
    const events = await collector();
    const proxy = await HoldingProxy.start(Number(new URL(amqpUrl).port || 5672));
    try {
      const { username, password } = new URL(amqpUrl);
      const p = await publisher({ store: s, url: `amqp://${username}:${password}@127.0.0.1:${proxy.port}`, exchange: events.exchange, batchSize: 50 });
      await events.until(100);
      proxy.hold();
      await until(() => proxy.heldBytes > 20 * 200, 5_000, 'a batch published into the held connection');
      let stopped = false;
      const stopping = p.stop().then(() => (stopped = true));
      await new Promise((r) => setTimeout(r, 300));
      expect(stopped).toBe(false); // waiting for the batch in flight
      proxy.release();
      await stopping;
      const saved = await s.checkpoint(`publish.${events.exchange}`).load();
      expect(saved).toBe(p.status().cursor);
      await new Promise((r) => setTimeout(r, 300)); // deliveries on their way to the consumer
      const rest = new Set((await s.changesSince(saved, 10_000)).packs.flatMap((pack) => pack.events.map((e) => e.id)));
      expect(rest.size).toBeGreaterThan(0); // it stopped mid-log
      const published = all.filter((e) => !rest.has(e.id));
      expect(published.length).toBeGreaterThan(100); // the held batch is among them
      expect(events.received.map((r) => r.messageId).sort()).toEqual(published.map((e) => e.id).sort());
    } finally {
      await proxy.close();
    }
  });

  it('stop() gives up a batch the broker does not confirm within stopTimeoutMs: nothing of it saved, the next run publishes it', async () => {
    const s = await store();
    await writeHistory(s, 4, 30);
    const events = await collector();
    const proxy = await HoldingProxy.start(Number(new URL(amqpUrl).port || 5672));
    try {
      const { username, password } = new URL(amqpUrl);
      const p = await publisher({ store: s, url: `amqp://${username}:${password}@127.0.0.1:${proxy.port}`, exchange: events.exchange, batchSize: 10, stopTimeoutMs: 500 });
      await events.until(20);
      proxy.hold();
      await until(() => proxy.heldBytes > 5 * 200, 5_000, 'a batch published into the held connection');
      const before = await s.checkpoint(`publish.${events.exchange}`).load();
      const started = Date.now();
      await p.stop();
      expect(Date.now() - started).toBeLessThan(500 + 2 * 2_000 + 1_000);
      expect(await s.checkpoint(`publish.${events.exchange}`).load()).toBe(before);
      proxy.cut();
      const again = await publisher({ store: s, url: amqpUrl, exchange: events.exchange });
      await again.caughtUp();
      const expected = await expectedMessages(s);
      await events.untilAll(expected);
      expect(checkDelivery(events.received, expected)).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('a merge is published as a marker with the merged order: a consumer that refolds on it ends with the order the store folded', async () => {
    const eu = await store();
    const us = new MemoryStore();
    const euRuntime = createRuntime({ actors: [Ledger], store: eu, replicaId: 'eu' });
    const usRuntime = createRuntime({ actors: [Ledger], store: us, replicaId: 'us' });
    try {
      const refs = [Ledger.ref('m-1'), Ledger.ref('m-2')];
      for (const ref of refs) await euRuntime.send(ref, { type: 'deposit', payload: { n: 100 } });
      await new Replicator(euRuntime, usRuntime).sync();
      // Partition: us writes first (earlier timestamps), eu later, so eu's log holds its own
      // branch before us's while the merge replays us's first. Both spend; a retry lands on both.
      for (const ref of refs) {
        await usRuntime.send(ref, { type: 'withdraw', payload: { n: 70 } });
        await usRuntime.send(ref, { type: 'deposit', payload: { n: 1 }, commandId: `retry-${ref.id}` });
      }
      await new Promise((r) => setTimeout(r, 5));
      for (const ref of refs) {
        await euRuntime.send(ref, { type: 'withdraw', payload: { n: 80 } });
        await euRuntime.send(ref, { type: 'deposit', payload: { n: 1 }, commandId: `retry-${ref.id}` });
      }
      await new Replicator(usRuntime, euRuntime, { resolve: false }).sync();
      for (const ref of refs) await euRuntime.resolve(ref);
      for (const ref of refs) await euRuntime.send(ref, { type: 'deposit', payload: { n: 7 } });

      const events = await collector();
      await publisher({ store: eu, url: amqpUrl, exchange: events.exchange, batchSize: 3 });
      const expected = await expectedMessages(eu);
      expect(expected.filter((e) => e.pack.kind === 'merge' && e.id.startsWith('merge:'))).toHaveLength(2);
      await events.untilAll(expected);
      expect(checkDelivery(events.received, expected)).toBe(0);

      // The consumer: per actor the ids it folded, in order; a marker replaces everything after
      // the ancestor (the replayed and dropped events) by the replayed events in merged order.
      const folded = new Map<string, string[]>();
      const seen = new Set<string>();
      for (const r of events.received) {
        if (seen.has(keyOf(r))) continue;
        seen.add(keyOf(r));
        const publication = decodePublication(r.content);
        if (publication.kind === 'event') {
          const key = publication.event.actor.id;
          folded.set(key, [...(folded.get(key) ?? []), publication.event.id]);
        } else {
          const { marker } = publication;
          const after = new Set([...marker.replayed, ...marker.dropped]);
          const list = folded.get(marker.actor.id) ?? [];
          expect(marker.replayed.every((id) => list.includes(id)), 'every replayed event came before its marker').toBe(true);
          expect(marker.dropped).toHaveLength(1);
          expect(r.headers['x-troupe-heads']).toHaveLength(2);
          expect(r.headers['x-troupe-ancestor']).toBe('eu:1');
          folded.set(marker.actor.id, [...list.filter((id) => !after.has(id)), ...marker.replayed]);
        }
      }
      for (const ref of refs) {
        const state = (await euRuntime.inspect(ref)).state as LedgerState;
        expect(folded.get(ref.id)).toEqual(state.applied);
        // The case the marker exists for: arrival order is not the merged order.
        const arrival = events.received.filter((r) => r.headers['x-troupe-actor-id'] === ref.id && r.type !== '$merge').map((r) => r.messageId);
        expect(arrival).not.toEqual(state.applied);
      }
    } finally {
      await euRuntime.stop();
      await usRuntime.stop();
    }
  });

  it('an unreachable broker fails startPublisher at once with BusUnavailableError, the password hidden', async () => {
    const s = await store();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const started = Date.now();
    const error = await startPublisher({ ...quiet, store: s, url: `amqp://guest:s3cret-pw@127.0.0.1:${port}` }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BusUnavailableError);
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
    expect((error as Error).message).not.toContain('s3cret-pw');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('an exchange declared with another type (or not durable) fails startPublisher with TopologyMismatchError naming it; nothing is saved', async () => {
    const s = await store();
    const connection = await amqp.connect(amqpUrl);
    const channel = await connection.createChannel();
    const fanout = `t-fanout-${uniqueSuffix()}`;
    const transient = `t-transient-${uniqueSuffix()}`;
    await channel.assertExchange(fanout, 'fanout', { durable: true });
    await channel.assertExchange(transient, 'topic', { durable: false });
    try {
      for (const exchange of [fanout, transient]) {
        const error = await startPublisher({ ...quiet, store: s, url: amqpUrl, exchange }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(TopologyMismatchError);
        expect((error as Error).message).toContain(`exchange '${exchange}'`);
        expect((error as Error).message).toContain('durable topic exchange');
        expect(await s.checkpoint(`publish.${exchange}`).load()).toBeUndefined();
      }
    } finally {
      await channel.deleteExchange(fanout);
      await channel.deleteExchange(transient);
      await connection.close();
    }
  });

  it('a saved position that is not this store\'s stops the publisher (fatal InvalidCursorError), publishing nothing', async () => {
    const s = await store();
    const other = await store();
    await writeHistory(other, 1, 2);
    await writeHistory(s, 1, 2);
    const events = await collector();
    await s.checkpoint(`publish.${events.exchange}`).save((await other.changesSince(undefined, 10)).cursor);
    const p = await publisher({ store: s, url: amqpUrl, exchange: events.exchange });
    const fatal = await p.fatal;
    expect(fatal).toBeInstanceOf(InvalidCursorError);
    await new Promise((r) => setTimeout(r, 100));
    expect(events.received).toHaveLength(0);
  });
});

interface SpawnedPublisher {
  readonly child: ChildProcess;
  readonly cursor: string | null;
  readonly exited: Promise<number | NodeJS.Signals | null>;
}

/** Spawns the publisher process (compiled into dist-testing by the package's test script) and waits for its ready line. */
async function spawnPublisher(env: Record<string, string>, children: ChildProcess[]): Promise<SpawnedPublisher> {
  const child = spawn(process.execPath, [publisherScript], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  const ready = await new Promise<{ cursor: string | null }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as { ready?: boolean; cursor: string | null };
        if (parsed.ready) resolve(parsed);
      } catch {
        // not our line
      }
    });
    void exited.then((code) => reject(new Error(`publisher process exited (${String(code)}) before it was ready`)));
  });
  return { child, cursor: ready.cursor, exited };
}

