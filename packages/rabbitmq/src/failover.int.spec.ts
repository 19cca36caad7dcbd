import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Runtime, type UntypedRef } from '@troupe/runtime';
import { uniqueSuffix } from '@troupe/runtime/testkit';
import { connectRedisStore } from '@troupe/redis';
import { deleteKeysMatching } from '@troupe/redis/testing';
import { connectBus } from './client/index.js';
import { ownerOf } from './membership.js';
import { shardOf } from './topology.js';
import { SequenceLog, type SequenceState } from './testing/sequenceActor.js';
import { amqpUrl, deleteTopology, requireRabbitMq, sendUntilAnswered, testTopology } from './testing/amqpTest.js';
import { scrape, spawnWorker, type WorkerProcess } from './testing/workerProcess.js';
import { requireService } from '@troupe/runtime/testkit';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/9';
const available = (await requireRabbitMq()) && (await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 }));

describe.skipIf(!available)('worker failover (two worker processes, one killed with SIGKILL mid-run)', () => {
  const t = testTopology(8);
  const suffix = uniqueSuffix();
  const env = {
    AMQP_URL: amqpUrl,
    REDIS_URL: redisUrl,
    TOPOLOGY_PREFIX: t.prefix,
    SHARDS: String(t.shards),
    STORE_PREFIX: `failover-${suffix}`,
    MARKER_PREFIX: `failover-markers-${suffix}`,
  };
  const processes: WorkerProcess[] = [];
  const redis = new Redis(redisUrl);

  afterAll(async () => {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    await Promise.all(processes.map((p) => p.exited));
    await deleteKeysMatching(redis, `failover-*${suffix}*`);
    redis.disconnect();
    await deleteTopology(t);
  });

  it('applies every accepted command exactly once, in per-actor order, never on two workers at once', { timeout: 120_000 }, async () => {
    const a = await spawnWorker(env);
    processes.push(a);
    const b = await spawnWorker(env);
    processes.push(b);
    // Both see each other before the load starts, so both hold shards when A is killed.
    for (let i = 0; i < 200 && ((await scrape(a.metricsUrl, 'troupe_workers')) < 2 || (await scrape(b.metricsUrl, 'troupe_workers')) < 2); i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(await scrape(a.metricsUrl, 'troupe_owned_shards')).toBeGreaterThan(0);
    expect(await scrape(b.metricsUrl, 'troupe_owned_shards')).toBeGreaterThan(0);
    const bus = await connectBus({ url: amqpUrl, ...t, timeoutMs: 20_000 });
    const actors = 200;
    const perActor = 15;
    // Kill A once the client has seen half of A's own share answered (its shards by rendezvous
    // hashing, as the workers compute them). A starts nothing after three quarters of its share,
    // so it surely holds unacknowledged commands when it dies, however late this process sees
    // its replies (see failoverWorker's stallAfter).
    const members = [a.id, b.id].sort();
    const onA = (i: number) => ownerOf(shardOf({ type: 'seqlog', id: `acct-${i}` }, t.shards), members) === a.id;
    const aTotal = Array.from({ length: actors }, (_, i) => i).filter(onA).length * perActor;
    expect(aTotal).toBeGreaterThan(0);
    await redis.set(`${env.MARKER_PREFIX}:stallAfter:${a.pid}`, String(Math.ceil((aTotal * 3) / 4)));
    let accepted = 0;
    let acceptedOnA = 0;
    let retries = 0;
    let killed = false;
    let bBeforeKill: Promise<number> | undefined;
    const send = async (i: number, seq: number): Promise<void> => {
      const answered = await sendUntilAnswered(bus, { type: 'seqlog', id: `acct-${i}` } as UntypedRef, { type: 'record', payload: { client: 'failover', seq } });
      expect(answered.reply.status).toBe('accepted');
      retries += answered.retries;
      accepted++;
      if (onA(i) && ++acceptedOnA === Math.ceil(aTotal / 2)) {
        killed = true;
        a.child.kill('SIGKILL');
        bBeforeKill = scrape(b.metricsUrl, 'troupe_commands_total{outcome="accepted"}');
      }
    };
    const sends: Promise<void>[] = [];
    for (let seq = 0; seq < perActor; seq++) {
      for (let i = 0; i < actors; i++) sends.push(send(i, seq));
    }
    await Promise.all(sends);
    await bus.close();
    expect(killed).toBe(true);
    expect(accepted).toBe(actors * perActor);
    expect(await a.exited).toBe('SIGKILL');

    // Both workers were executing before the kill (shards balanced between them)...
    const bAtKill = await bBeforeKill!;
    expect(bAtKill).toBeGreaterThan(0);
    // ...and the surviving worker took over and saw the killed worker's unacknowledged messages again.
    expect(await scrape(b.metricsUrl, 'troupe_redeliveries_total')).toBeGreaterThan(0);
    const bAccepted = await scrape(b.metricsUrl, 'troupe_commands_total{outcome="accepted"}');
    const bDuplicates = await scrape(b.metricsUrl, 'troupe_commands_total{outcome="duplicate"}');
    expect(bAccepted).toBeGreaterThan(0);
    expect(bAccepted).toBeLessThan(actors * perActor);

    // Never two live workers executing one actor.
    expect(await redis.lrange(`${env.MARKER_PREFIX}:violations`, 0, -1)).toEqual([]);
    expect(Number(await redis.get(`${env.MARKER_PREFIX}:executions`))).toBeGreaterThanOrEqual(actors * perActor);

    // Every command applied exactly once, in the order it was sent, read back from Redis.
    const store = await connectRedisStore({ url: redisUrl, prefix: env.STORE_PREFIX });
    const reader = new Runtime({ actors: [SequenceLog], store });
    try {
      for (let i = 0; i < actors; i++) {
        expect(await store.heads({ type: 'seqlog', id: `acct-${i}` })).toHaveLength(1); // one writer at a time: never diverged
        const view = await reader.inspect<SequenceState>({ type: 'seqlog', id: `acct-${i}` });
        expect(view.state.seen.map(([, seq]) => seq)).toEqual(Array.from({ length: perActor }, (_, s) => s));
      }
    } finally {
      await reader.stop();
      await store.close();
    }
    console.info(`failover: worker B accepted ${bAccepted}, answered ${bDuplicates} redelivered commands as duplicates, client retried ${retries} timeouts`);
  });
});
