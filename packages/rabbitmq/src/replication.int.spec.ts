import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { type EventStore, InvalidOptionError, MemoryStore, type UntypedRef } from '@troupe/runtime';
import { connectBus, type CommandBus } from './client/index.js';
import type { BusReply } from './protocol/replication.js';
import { busProtocolVersion, encodeCommand } from './protocol/messages.js';
import { startWorker, type Worker } from './worker/index.js';
import { SequenceLog, type SequenceState } from './testing/sequenceActor.js';
import { amqpUrl, deleteTopology, drainQueue, publishRaw, queueDepth, requireRabbitMq, testTopology } from './testing/amqpTest.js';
import { shardOf } from './topology.js';
import { TcpProxy } from './testing/tcpProxy.js';

const available = await requireRabbitMq();
const quiet = pino({ level: 'silent' });
const log = (id: string) => ({ type: 'seqlog', id }) as UntypedRef;
const record = (seq: number) => ({ type: 'record', payload: { client: 'r', seq } });

/** What region `us`'s replicator writes into `eu`'s frontier table once it has read eu's whole log so far. */
async function usReadEverything(store: MemoryStore): Promise<void> {
  const { cursor } = await store.changesSince(undefined, 1_000_000);
  await store.mergeFrontier({ us: { eu: { cursor, at: Date.now() } } });
}

async function gauge(worker: Worker): Promise<number> {
  return (await worker.metrics.replicationWaiting.get()).values[0]?.value ?? 0;
}

async function unconfirmedCount(worker: Worker, code: string): Promise<number> {
  return (await worker.metrics.replicationUnconfirmed.get()).values.find((v) => v.labels.code === code)?.value ?? 0;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Tracks whether a promise has settled, without awaiting it. */
function watch(reply: Promise<BusReply>): { readonly settled: boolean; readonly reply: Promise<BusReply> } {
  const state = { settled: false, reply };
  reply.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!available)('replies that wait until other regions hold the pack (replicas)', () => {
  const t = testTopology(2);
  const store = new MemoryStore();
  let worker: Worker;
  let bus: CommandBus;

  beforeAll(async () => {
    await store.declareRegions(['eu', 'us']);
    worker = await startWorker({ url: amqpUrl, ...t, actors: [SequenceLog], store, replicaId: 'eu', logger: quiet, defaultMetrics: false, replicationPollMs: 20 });
    bus = await connectBus({ url: amqpUrl, ...t, timeoutMs: 20_000 });
  });
  afterAll(async () => {
    await bus?.close();
    await worker?.stop();
    await deleteTopology(t);
  });

  it("with replicas 'all', replies only once the other region has read the pack, then confirmed with the regions holding it", async () => {
    const pending = watch(bus.send(log('all-1'), record(1), { replicas: 'all' }));
    await waitFor(async () => (await gauge(worker)) === 1);
    await pause(300);
    expect(pending.settled).toBe(false); // durable here, but us has not read it
    const view = await worker.runtime.inspect<SequenceState>(log('all-1'));
    expect(view.state.seen).toEqual([['r', 1]]); // applied already: only the reply waits
    await usReadEverything(store);
    const reply = await pending.reply;
    expect(reply).toMatchObject({ status: 'accepted', duplicate: false, replication: { confirmed: true, wanted: 2, holding: ['eu', 'us'], missing: [] } });
    expect(reply.status === 'accepted' && reply.replication?.code).toBeUndefined();
    expect((await worker.metrics.replicationWait.get()).values.find((v) => v.metricName === 'troupe_replication_wait_seconds_count')?.value).toBeGreaterThanOrEqual(1);
    expect(await gauge(worker)).toBe(0);
  });

  it("does not hold up the actor's next commands, nor other actors', while a reply waits", async () => {
    const ref = log('chain-1');
    const first = watch(bus.send(ref, record(1), { replicas: 'all' }));
    await waitFor(async () => (await gauge(worker)) === 1);
    // Same actor, same shard queue, and another actor: executed and answered while the first waits.
    const second = await bus.send(ref, record(2));
    const third = await bus.send(ref, record(3), { replicas: 1 });
    const other = await bus.send(log('chain-other'), record(1));
    expect([second.status, third.status, other.status]).toEqual(['accepted', 'accepted', 'accepted']);
    expect(first.settled).toBe(false);
    expect((await worker.runtime.inspect<SequenceState>(ref)).state.seen.map(([, seq]) => seq)).toEqual([1, 2, 3]);
    await usReadEverything(store);
    const reply = await first.reply;
    expect(reply).toMatchObject({ status: 'accepted', replication: { confirmed: true, holding: ['eu', 'us'] } });
    // The version the waiting reply names is the first command's, before the ones that overtook its reply.
    if (reply.status === 'accepted' && second.status === 'accepted') expect(reply.version.eu).toBeLessThan(second.version.eu!);
  });

  it('answers accepted, not confirmed, with who holds it when the wait runs out; a resend with the id waits again and confirms', async () => {
    const ref = log('timeout-1');
    const before = await unconfirmedCount(worker, 'NOT_REPLICATED');
    const reply = await bus.send(ref, record(1), { replicas: 'all', replicasTimeoutMs: 300, commandId: 'timeout-1.a' });
    expect(reply).toMatchObject({
      status: 'accepted',
      duplicate: false,
      replication: { confirmed: false, wanted: 2, holding: ['eu'], missing: ['us'], code: 'NOT_REPLICATED' },
    });
    expect(reply.status === 'accepted' && reply.replication?.reason).toMatch(/us/);
    expect(await unconfirmedCount(worker, 'NOT_REPLICATED')).toBe(before + 1);
    // Applied and durable all the same.
    expect((await worker.runtime.inspect<SequenceState>(ref)).state.seen).toEqual([['r', 1]]);

    // The same command again, by its id: nothing applied twice; the reply waits for the recorded version.
    const again = watch(bus.send(ref, record(1), { replicas: 'all', commandId: 'timeout-1.a' }));
    await waitFor(async () => (await gauge(worker)) === 1);
    await pause(200);
    expect(again.settled).toBe(false);
    await usReadEverything(store);
    const confirmed = await again.reply;
    expect(confirmed).toMatchObject({ status: 'accepted', duplicate: true, replication: { confirmed: true, holding: ['eu', 'us'] } });
    if (confirmed.status === 'accepted' && reply.status === 'accepted') expect(confirmed.version).toEqual(reply.version);
    expect((await worker.runtime.inspect<SequenceState>(ref)).state.seen).toEqual([['r', 1]]);
  });

  it('with replicas 1, answers at once: this region holds it', async () => {
    const reply = await bus.send(log('one-1'), record(1), { replicas: 1, replicasTimeoutMs: 10_000 });
    // us has read nothing of this pack: a reply that had waited for it would not be here.
    expect(reply).toMatchObject({ status: 'accepted', replication: { confirmed: true, wanted: 1, holding: ['eu'], missing: ['us'] } });
  });

  it('answers a rejection at once, without a replication report (nothing was written)', async () => {
    const reply = await bus.send(log('refused-1'), { type: 'refuse', payload: { why: 'no' } }, { replicas: 'all' });
    expect(reply).toEqual({ status: 'rejected', commandId: expect.any(String), reason: 'no' });
  });

  it('answers more regions than are declared accepted, not confirmed, naming the regions', async () => {
    const reply = await bus.send(log('three-1'), record(1), { replicas: 3 });
    expect(reply).toMatchObject({ status: 'accepted', replication: { confirmed: false, wanted: 3, holding: ['eu'], code: 'INVALID_OPTION' } });
    expect(reply.status === 'accepted' && reply.replication?.reason).toMatch(/1 to 2.*eu, us/);
  });

  it('refuses bad replicas options before publishing, and dead-letters bad replicas fields unexecuted', async () => {
    const ref = log('bad-1');
    for (const options of [{ replicas: 0 }, { replicas: -1 }, { replicas: 2.5 }, { replicas: 'most' as 'all' }, { replicas: 256 }, { replicasTimeoutMs: 100 }, { replicas: 'all' as const, replicasTimeoutMs: 20_000 }]) {
      await expect(bus.send(ref, record(1), options)).rejects.toBeInstanceOf(InvalidOptionError);
    }
    // The same from a client that skips the checks: straight into the actor's shard queue.
    const queue = t.shardQueues[shardOf(ref, t.shards)]!;
    const raw = { v: busProtocolVersion, type: 'seqlog', id: 'bad-1', command: 'record', payload: { client: 'r', seq: 1 }, checkDuplicate: false } as const;
    const bad = [{ replicas: 0, replicasTimeoutMs: 100 }, { replicas: 'most', replicasTimeoutMs: 100 }, { replicas: 'all' }, { replicas: 2, replicasTimeoutMs: -5 }];
    for (const [i, fields] of bad.entries()) await publishRaw(t, queue, encodeCommand({ ...raw, commandId: `bad-1.${i}`, ...fields } as never));
    await waitFor(async () => (await queueDepth(t.deadLetterQueue)) >= bad.length);
    const dead = await drainQueue(t.deadLetterQueue);
    expect(dead.map((m) => m.headers['x-troupe-error-code'])).toEqual(bad.map(() => 'MALFORMED_MESSAGE'));
    for (const m of dead) expect(String(m.headers['x-troupe-reason'])).toMatch(/'replicas(TimeoutMs)?'/);
    // Nothing of them was persisted.
    expect((await worker.runtime.inspect<SequenceState>(ref)).state.seen).toEqual([]);
  });
});

describe.skipIf(!available)('replicas on a worker that cannot confirm, or waits its limit', () => {
  const started: { worker: Worker; bus: CommandBus; t: ReturnType<typeof testTopology> }[] = [];
  afterAll(async () => {
    for (const { worker, bus, t } of started) {
      await bus.close();
      await worker.stop();
      await deleteTopology(t);
    }
  });

  async function start(store: EventStore, options: { shards?: number; replicationWaitsMax?: number } = {}) {
    const t = testTopology(options.shards ?? 2);
    const worker = await startWorker({
      url: amqpUrl,
      ...t,
      actors: [SequenceLog],
      store,
      replicaId: 'eu',
      logger: quiet,
      defaultMetrics: false,
      replicationPollMs: 20,
      ...(options.replicationWaitsMax === undefined ? {} : { replicationWaitsMax: options.replicationWaitsMax }),
    });
    const bus = await connectBus({ url: amqpUrl, ...t, timeoutMs: 20_000 });
    started.push({ worker, bus, t });
    return { worker, bus, t };
  }

  it('with no regions declared, answers accepted and not confirmed, saying so', async () => {
    const { worker, bus } = await start(new MemoryStore());
    const reply = await bus.send(log('undeclared-1'), record(1), { replicas: 'all' });
    expect(reply).toMatchObject({ status: 'accepted', replication: { confirmed: false, wanted: 'all', holding: ['eu'], code: 'REGION_CONFIG' } });
    expect(reply.status === 'accepted' && reply.replication?.reason).toMatch(/no regions are declared/);
    expect(await unconfirmedCount(worker, 'REGION_CONFIG')).toBe(1);
  });

  it('with a store outside region replication, answers accepted and not confirmed, saying so', async () => {
    const memory = new MemoryStore();
    const hidden = new Set(['logMark', 'markReached', 'frontier', 'checkpoint', 'mergeFrontier', 'regions', 'declareRegions', 'backlog']);
    const plain = new Proxy(memory, {
      get: (target, key) => (typeof key === 'string' && hidden.has(key) ? undefined : (Reflect.get(target, key) as unknown)),
    }) as EventStore;
    const { bus } = await start(plain);
    const reply = await bus.send(log('plain-1'), record(1), { replicas: 2 });
    expect(reply).toMatchObject({ status: 'accepted', replication: { confirmed: false, wanted: 2, holding: ['eu'], code: 'INVALID_OPTION' } });
    expect(reply.status === 'accepted' && reply.replication?.reason).toMatch(/does not take part in region replication/);
  });

  it('past replicationWaitsMax on a shard, checks once and answers at once (WAIT_LIMIT); the waiting one still confirms', async () => {
    const store = new MemoryStore();
    await store.declareRegions(['eu', 'us']);
    const { worker, bus } = await start(store, { shards: 1, replicationWaitsMax: 1 });
    const first = watch(bus.send(log('limit-1'), record(1), { replicas: 'all' }));
    await waitFor(async () => (await gauge(worker)) === 1);
    const second = await bus.send(log('limit-2'), record(1), { replicas: 'all' });
    expect(second).toMatchObject({ status: 'accepted', replication: { confirmed: false, wanted: 2, holding: ['eu'], missing: ['us'], code: 'WAIT_LIMIT' } });
    expect(second.status === 'accepted' && second.replication?.reason).toMatch(/replicationWaitsMax/);
    expect(first.settled).toBe(false);
    await usReadEverything(store);
    expect(await first.reply).toMatchObject({ status: 'accepted', replication: { confirmed: true } });
  });

  it('answers a waiting reply when the worker stops (INTERRUPTED), acknowledged, not left to time out', async () => {
    const store = new MemoryStore();
    await store.declareRegions(['eu', 'us']);
    const { worker, bus, t } = await start(store, { shards: 1 });
    const pending = bus.send(log('stop-1'), record(1), { replicas: 'all', replicasTimeoutMs: 15_000 });
    await waitFor(async () => (await gauge(worker)) === 1);
    const stopping = worker.stop();
    const reply = await pending;
    await stopping;
    expect(reply).toMatchObject({ status: 'accepted', replication: { confirmed: false, holding: ['eu'], missing: ['us'], code: 'INTERRUPTED' } });
    expect(reply.status === 'accepted' && reply.replication?.reason).toMatch(/stopping/);
    // Acknowledged: nothing went back to the queue for another worker to run again.
    expect(await queueDepth(t.shardQueues[0]!)).toBe(0);
  });
});

describe.skipIf(!available)('waiting replies when a shard moves or the connection drops', () => {
  /** One actor id per shard queue of `t`. */
  function actorPerShard(t: ReturnType<typeof testTopology>, prefix: string): string[] {
    const ids: string[] = [];
    for (let n = 0; ids.length < t.shards; n++) {
      const id = `${prefix}-${n}`;
      if (!ids.some((other) => shardOf(log(other), t.shards) === shardOf(log(id), t.shards))) ids.push(id);
    }
    return ids.sort((a, b) => shardOf(log(a), t.shards) - shardOf(log(b), t.shards));
  }

  it('answers the waiting replies of the shards it hands over (INTERRUPTED), acked there; the others wait on and confirm', { timeout: 60_000 }, async () => {
    const t = testTopology(4);
    const store = new MemoryStore();
    await store.declareRegions(['eu', 'us']);
    const options = { url: amqpUrl, ...t, actors: [SequenceLog], store, replicaId: 'eu', logger: quiet, defaultMetrics: false, replicationPollMs: 20, heartbeatMs: 100 };
    const first = await startWorker(options);
    const bus = await connectBus({ url: amqpUrl, ...t, timeoutMs: 30_000 });
    let second: Worker | undefined;
    try {
      const ids = actorPerShard(t, 'moving');
      const replies = ids.map((id) => watch(bus.send(log(id), record(1), { replicas: 'all', replicasTimeoutMs: 20_000 })));
      await waitFor(async () => (await gauge(first)) === ids.length);
      second = await startWorker(options);
      await waitFor(async () => first.members.length === 2 && first.ownedShards.length < t.shards);
      await first.rebalanced();
      const kept = first.ownedShards;
      const moved = ids.filter((id) => !kept.includes(shardOf(log(id), t.shards)));
      expect(moved.length).toBeGreaterThan(0);
      for (const id of moved) {
        expect(await replies[ids.indexOf(id)]!.reply).toMatchObject({ status: 'accepted', duplicate: false, replication: { confirmed: false, missing: ['us'], code: 'INTERRUPTED' } });
      }
      // The hand-over did not wait for replication, and those still on this worker still wait.
      for (const id of ids.filter((other) => !moved.includes(other))) expect(replies[ids.indexOf(id)]!.settled).toBe(false);
      await usReadEverything(store);
      for (const id of ids.filter((other) => !moved.includes(other))) {
        expect(await replies[ids.indexOf(id)]!.reply).toMatchObject({ status: 'accepted', replication: { confirmed: true, holding: ['eu', 'us'] } });
      }
      // Acknowledged before the hand-over: the new owner got nothing to run again.
      expect(await unconfirmedCount(second, 'INTERRUPTED')).toBe(0);
      expect((await second.metrics.commands.get()).values.reduce((n, v) => n + v.value, 0)).toBe(0);
      for (const id of ids) expect((await first.runtime.inspect<SequenceState>(log(id))).state.seen).toEqual([['r', 1]]);
    } finally {
      await bus.close();
      await second?.stop();
      await first.stop();
      await deleteTopology(t);
    }
  });

  it('answers a waiting reply when the broker connection drops (INTERRUPTED); the redelivery applies nothing twice', { timeout: 60_000 }, async () => {
    const t = testTopology(1);
    const store = new MemoryStore();
    await store.declareRegions(['eu', 'us']);
    const proxy = await TcpProxy.start('127.0.0.1', Number(new URL(amqpUrl).port || 5672));
    const { username, password } = new URL(amqpUrl);
    const worker = await startWorker({
      url: `amqp://${username}:${password}@127.0.0.1:${proxy.port}`,
      ...t,
      actors: [SequenceLog],
      store,
      replicaId: 'eu',
      logger: quiet,
      defaultMetrics: false,
      replicationPollMs: 20,
    });
    const bus = await connectBus({ url: amqpUrl, ...t, timeoutMs: 30_000 });
    try {
      const pending = bus.send(log('cut-1'), record(1), { replicas: 'all', replicasTimeoutMs: 20_000 });
      await waitFor(async () => (await gauge(worker)) === 1);
      proxy.cut();
      setTimeout(() => proxy.restore(), 500);
      expect(await pending).toMatchObject({ status: 'accepted', duplicate: false, replication: { confirmed: false, missing: ['us'], code: 'INTERRUPTED' } });
      // The ack could not go: the broker redelivers the command, which is answered from the record
      // and waits again (its client has its answer already and ignores the second).
      await waitFor(async () => worker.connectionCount >= 2 && (await worker.metrics.commands.get()).values.some((v) => v.labels.outcome === 'duplicate' && v.value === 1));
      await usReadEverything(store);
      await waitFor(async () => (await gauge(worker)) === 0);
      expect((await worker.runtime.inspect<SequenceState>(log('cut-1'))).state.seen).toEqual([['r', 1]]);
      expect(await queueDepth(t.shardQueues[0]!)).toBe(0);
    } finally {
      await bus.close();
      await worker.stop();
      await proxy.close();
      await deleteTopology(t);
    }
  });
});
