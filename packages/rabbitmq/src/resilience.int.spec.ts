import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { type ActorRef, type EventStore, MemoryStore, type UntypedRef } from '@troupe/runtime';
import { actorKey } from '@troupe/runtime/store';
import { connectBus, type CommandBus } from './client/index.js';
import { startWorker, type WorkerHooks } from './worker/index.js';
import { SequenceLog, type SequenceState } from './testing/sequenceActor.js';
import { amqpUrl, deleteTopology, requireRabbitMq, sendUntilAnswered, testTopology } from './testing/amqpTest.js';
import { TcpProxy } from './testing/tcpProxy.js';
import { shardOf } from './topology.js';

const available = await requireRabbitMq();
const quiet = pino({ level: 'silent' });

/** Hooks shared by several in-process workers: records any actor started while another execution of it runs. */
function exclusivity() {
  const running = new Set<string>();
  const violations: string[] = [];
  let executions = 0;
  const hooks = (name: string, stopped?: () => boolean): WorkerHooks => ({
    beforeExecute(ref: ActorRef) {
      executions++;
      if (stopped?.()) violations.push(`${name} executed ${actorKey(ref)} after stop() resolved`);
      if (running.has(actorKey(ref))) violations.push(`${name} started ${actorKey(ref)} while it was executing`);
      running.add(actorKey(ref));
    },
    afterExecute(ref: ActorRef) {
      running.delete(actorKey(ref));
    },
  });
  return { hooks, violations, executions: () => executions };
}

/** A store whose appends take a few ms, so commands are in flight when the test interrupts. */
function slowStore(store: EventStore, delayMs: number): EventStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property === 'append') {
        return async (...args: unknown[]) => {
          await new Promise((r) => setTimeout(r, delayMs));
          return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Sends perActor commands to each actor, all at once, retrying timeouts with the same id. */
async function sendAll(bus: CommandBus, actors: number, perActor: number, onAccepted: (n: number) => void): Promise<number> {
  let accepted = 0;
  let retries = 0;
  const send = async (ref: UntypedRef, seq: number) => {
    const answered = await sendUntilAnswered(bus, ref, { type: 'record', payload: { client: 'r', seq } }, 15_000);
    expect(answered.reply.status).toBe('accepted');
    retries += answered.retries;
    onAccepted(++accepted);
  };
  const sends: Promise<void>[] = [];
  for (let seq = 0; seq < perActor; seq++) for (let i = 0; i < actors; i++) sends.push(send({ type: 'seqlog', id: `a${i}` } as UntypedRef, seq));
  await Promise.all(sends);
  return retries;
}

async function expectExactlyOnceInOrder(store: EventStore, actors: number, perActor: number): Promise<void> {
  const { Runtime } = await import('@troupe/runtime');
  const reader = new Runtime({ actors: [SequenceLog], store });
  try {
    for (let i = 0; i < actors; i++) {
      const view = await reader.inspect<SequenceState>({ type: 'seqlog', id: `a${i}` });
      expect(view.state.seen.map(([, seq]) => seq)).toEqual(Array.from({ length: perActor }, (_, s) => s));
    }
  } finally {
    await reader.stop();
  }
}

describe.skipIf(!available)('worker resilience', () => {
  it('reconnects with backoff after its broker connection drops, and loses or doubles nothing', { timeout: 60_000 }, async () => {
    const t = testTopology(4);
    const proxy = await TcpProxy.start('127.0.0.1', Number(new URL(amqpUrl).port || 5672));
    const { username, password } = new URL(amqpUrl);
    const store = new MemoryStore();
    const check = exclusivity();
    const worker = await startWorker({
      url: `amqp://${username}:${password}@127.0.0.1:${proxy.port}`,
      ...t,
      actors: [SequenceLog],
      store: slowStore(store, 2),
      logger: process.env.DEBUG_WORKER ? pino({ level: 'debug' }) : quiet,
      defaultMetrics: false,
      hooks: check.hooks('w'),
    });
    const bus = await connectBus({ url: amqpUrl, ...t });
    try {
      let cutDone: Promise<void> | undefined;
      const retries = await sendAll(bus, 50, 20, (n) => {
        if (n === 300) {
          proxy.cut();
          cutDone = new Promise((r) => setTimeout(r, 1_500)).then(() => proxy.restore());
        }
      });
      await cutDone;
      // Every command got its reply without a retry: the worker replies before it acks, so a
      // drop between the two means a redelivery (answered again), never a lost reply.
      expect(retries).toBe(0);
      expect(worker.connectionCount).toBeGreaterThanOrEqual(2);
      expect(check.violations).toEqual([]);
      await expectExactlyOnceInOrder(store, 50, 20);
    } finally {
      await bus.close();
      await worker.stop();
      await proxy.close();
      await deleteTopology(t);
    }
  });

  it('stop() drains commands in flight, then a new worker takes over the rest in order', { timeout: 60_000 }, async () => {
    const t = testTopology(4);
    const store = new MemoryStore();
    const check = exclusivity();
    let firstStopped = false;
    const first = await startWorker({ url: amqpUrl, ...t, actors: [SequenceLog], store: slowStore(store, 3), logger: quiet, defaultMetrics: false, hooks: check.hooks('first', () => firstStopped) });
    const bus = await connectBus({ url: amqpUrl, ...t });
    let stopping: Promise<void> | undefined;
    let second: Awaited<ReturnType<typeof startWorker>> | undefined;
    try {
      const done = sendAll(bus, 40, 10, (n) => {
        if (n === 100) {
          stopping = first.stop().then(async () => {
            firstStopped = true;
            expect(first.runtime.liveActors).toBe(0);
            second = await startWorker({ url: amqpUrl, ...t, actors: [SequenceLog], store, logger: quiet, defaultMetrics: false, hooks: check.hooks('second') });
          });
        }
      });
      await done;
      await stopping;
      expect(check.violations).toEqual([]);
      expect(check.executions()).toBeGreaterThanOrEqual(400);
      await expectExactlyOnceInOrder(store, 40, 10);
    } finally {
      await bus.close();
      await first.stop();
      await second?.stop();
      await deleteTopology(t);
    }
  });
});

describe.skipIf(!available)('shard balancing', () => {
  it('spreads shards over the live workers and hands them over under load, never running an actor on two workers at once', { timeout: 60_000 }, async () => {
    // 16 shards: rendezvous hashing over two random worker ids gives one of them none with
    // probability 2 / 2^shards (1 in 128 runs with 8 shards: seen), 1 in 32,768 here.
    const shards = 16;
    const t = testTopology(shards);
    const store = new MemoryStore();
    const check = exclusivity();
    const options = { url: amqpUrl, ...t, actors: [SequenceLog], store: slowStore(store, 1), logger: quiet, defaultMetrics: false, heartbeatMs: 150 };
    const a = await startWorker({ ...options, hooks: check.hooks('a') });
    const bus = await connectBus({ url: amqpUrl, ...t });
    let b: Awaited<ReturnType<typeof startWorker>> | undefined;
    let joined: Promise<void> | undefined;
    try {
      // B joins while A holds every shard and commands are flowing.
      await sendAll(bus, 80, 25, (n) => {
        if (n === 300) joined = startWorker({ ...options, hooks: check.hooks('b') }).then((w) => void (b = w));
      });
      await joined;
      expect(check.violations).toEqual([]);
      await expectExactlyOnceInOrder(store, 80, 25);
      // Both see each other and own complementary shards.
      await waitUntil(() => a.members.length === 2 && b!.members.length === 2);
      await a.rebalanced();
      await b!.rebalanced();
      expect(b!.members).toEqual(a.members);
      expect([...a.ownedShards, ...b!.ownedShards].sort((x, y) => x - y)).toEqual(Array.from({ length: shards }, (_, i) => i));
      expect(a.ownedShards.length).toBeGreaterThan(0);
      expect(b!.ownedShards.length).toBeGreaterThan(0);
      // After the hand-over each worker executes the commands of its own shards only.
      const before = { a: await scrapeAccepted(a), b: await scrapeAccepted(b!) };
      await sendAll(bus, 80, 5, () => undefined);
      const after = { a: await scrapeAccepted(a), b: await scrapeAccepted(b!) };
      expect(after.a - before.a).toBeGreaterThan(0);
      expect(after.b - before.b).toBeGreaterThan(0);
      expect(after.a - before.a + (after.b - before.b)).toBe(400);
      const owned = new Set(b!.ownedShards);
      const expectedOnB = Array.from({ length: 80 }, (_, i) => shardOf({ type: 'seqlog', id: `a${i}` }, shards)).filter((s) => owned.has(s)).length * 5;
      expect(after.b - before.b).toBe(expectedOnB);
      // B leaves: A takes every shard back at once (no heartbeat timeout to wait for).
      await b!.stop();
      await waitUntil(() => a.members.length === 1);
      await sendAll(bus, 80, 2, () => undefined);
      expect(check.violations).toEqual([]);
    } finally {
      await bus.close();
      await a.stop();
      await b?.stop();
      await deleteTopology(t);
    }
  });
});

async function scrapeAccepted(worker: Awaited<ReturnType<typeof startWorker>>): Promise<number> {
  const metric = await worker.metrics.commands.get();
  return metric.values.find((v) => v.labels.outcome === 'accepted')?.value ?? 0;
}

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
