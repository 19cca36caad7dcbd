/**
 * View runners as processes (src/specHelpers/viewRunner.ts, one `RedisView.start()` each) on a
 * throw-away redis-server: SIGKILLed during catch-up and restarted, two started at once, one
 * SIGKILLed, one paused with SIGSTOP past its lease and resumed. The view must end equal to the
 * from-scratch view with every event counted once, and only the lease holder may write (the
 * meta's `writer` field names the lease of every batch written; it is watched throughout).
 */
import { type ActorRef, type Runtime, createRuntime, viewFromScratch } from '@troupe/runtime';
import { requireService } from '@troupe/runtime/testkit';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RedisStore } from '../redisStore/index.js';
import type { RedisServer } from '../testing/redisServer.js';
import { throwAwayServers } from '../specHelpers/throwAwayServers.js';
import { Applied, Ledger } from '../specHelpers/viewFixtures.js';
import { RunnerProcess } from '../specHelpers/viewRunnerProcess.js';
import { openRedisView } from './redisView.js';
import { viewKeys } from './viewKeys.js';

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

describe.skipIf(!available)('view runner processes: SIGKILL, two runners, a paused runner', () => {
  const servers = throwAwayServers();
  let server: RedisServer;
  let raw: Redis;
  const runners: RunnerProcess[] = [];
  let prefixes = 0;

  beforeAll(async () => {
    server = await servers.startServer();
    raw = new Redis(server.url);
  }, 30_000);
  const loads: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of loads.splice(0)) await stop();
    await Promise.all(runners.splice(0).map((r) => r.kill()));
  });

  /** Deposits to every actor, round after round, until the returned function is called (which resolves once the last round ended). */
  function backgroundLoad(runtime: Runtime, actors: readonly ActorRef[]): () => Promise<void> {
    let writing = true;
    const load = (async () => {
      for (let round = 0; writing; round++) await Promise.all(actors.map((actor) => runtime.send(actor, { type: 'deposit', payload: { n: 1 + (round % 3) } })));
    })();
    const stop = async () => {
      writing = false;
      await load;
    };
    loads.push(() => stop().catch(() => undefined));
    return stop;
  }

  afterAll(async () => {
    raw?.disconnect();
    await servers.dispose();
  });

  async function fresh(): Promise<{ store: RedisStore; runtime: Runtime; prefix: string }> {
    const prefix = `runners${++prefixes}`;
    const store = await servers.connect(server, prefix);
    return { store, runtime: createRuntime({ actors: [Ledger], store, replicaId: 'eu' }), prefix };
  }

  function start(prefix: string, holder: string, env: Record<string, string> = {}): RunnerProcess {
    const runner = RunnerProcess.start({ REDIS_URL: server.url, PREFIX: prefix, SHARDS: '4', HOLDER: holder, ...env });
    runners.push(runner);
    return runner;
  }

  /** Every event the actors' states applied, counted from their histories: what the view's `applied` must hold. */
  async function expectFromScratch(store: RedisStore, actors: readonly ActorRef[]): Promise<void> {
    const view = await openRedisView<number>({ store, projection: Applied });
    const rows = new Map(await view.rows());
    expect(rows).toEqual(new Map(await viewFromScratch(Applied, store, actors)));
    let events = 0;
    for (const actor of actors) events += (await store.history(actor)).reduce((n, p) => n + p.events.length, 0);
    expect(rows.get('applied')).toBe(events);
    expect(await view.lag()).toBe(0);
  }

  /** The `writer` of every batch written while watching (read every 2 ms). */
  function watchWriters(prefix: string): { seen: string[]; stop: () => Promise<string[]> } {
    const meta = viewKeys(prefix, Applied.name, Applied.version).live.meta;
    const seen: string[] = [];
    let watching = true;
    const loop = (async () => {
      while (watching) {
        const writer = await raw.hget(meta, 'writer');
        if (writer && seen.at(-1) !== writer) seen.push(writer);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    return {
      seen,
      stop: async () => {
        watching = false;
        await loop;
        return seen;
      },
    };
  }

  it('SIGKILLed during catch-up, again and again, then restarted: equal to the from-scratch view, every event counted once', async () => {
    const { store, runtime, prefix } = await fresh();
    // 600 ledgers, most of them with one pack: a batch skipped would leave them out of the view.
    const actors = Array.from({ length: 600 }, (_, i) => Ledger.ref(`k${i}`));
    for (let from = 0; from < actors.length; from += 50) {
      await Promise.all(actors.slice(from, from + 50).map((actor, i) => runtime.send(actor, { type: 'deposit', payload: { n: 1 + (i % 4) } })));
    }
    await Promise.all(actors.filter((_, i) => i % 5 === 0).map((actor) => runtime.send(actor, { type: 'deposit', payload: { n: 2 } })));
    const total = await store.backlog(undefined);
    expect(total).toBe(720);
    let killedBehind = 0;
    const env = { POLL_MS: '5', LEASE_TTL_MS: '600', RENEW_EVERY_MS: '150' };
    for (let kill = 0; kill < 6; kill++) {
      // A killed runner's lease outlives it by up to its TTL: the next one waits in standby until then.
      const runner = start(prefix, `killed-${kill}`, { ...env, BATCH_SIZE: '4' });
      // Killed after a few batches of its own, in the middle of the next.
      await runner.waitFor((l) => l.event === 'batch' && runner.count('batch') >= 2 + kill);
      await new Promise((r) => setTimeout(r, kill));
      await runner.kill();
      const position = await raw.get(viewKeys(prefix, Applied.name, Applied.version).live.cursor);
      if ((await store.backlog(position ?? undefined)) > 0) killedBehind++;
    }
    expect(killedBehind).toBe(6);
    const last = start(prefix, 'last', { ...env, BATCH_SIZE: '50' });
    await last.waitFor((l) => l.event === 'caughtUp', 60_000);
    last.signal('SIGTERM');
    expect(await last.exited).toBe(0);
    expect(last.count('stopped')).toBe(1);
    await expectFromScratch(store, actors);
    await runtime.stop();
  }, 120_000);

  it('two runners started at once: one holds the lease and writes; SIGKILLed, the other takes over', async () => {
    const { store, runtime, prefix } = await fresh();
    const actors = Array.from({ length: 40 }, (_, i) => Ledger.ref(`t${i}`));
    const env = { BATCH_SIZE: '5', POLL_MS: '10', LEASE_TTL_MS: '1000', RENEW_EVERY_MS: '250' };
    const writers = watchWriters(prefix);
    const a = start(prefix, 'first', env);
    const b = start(prefix, 'second', env);
    const lines = await Promise.race([a.waitFor((l) => l.event === 'leaseAcquired').then(() => 'a'), b.waitFor((l) => l.event === 'leaseAcquired').then(() => 'b')]);
    const [holder, other] = lines === 'a' ? [a, b] : [b, a];
    await other.waitFor((l) => l.event === 'standby');
    const stopLoad = backgroundLoad(runtime, actors);
    await holder.waitFor((l) => l.event === 'batch' && holder.count('batch') >= 5);
    expect(other.count('leaseAcquired')).toBe(0);
    expect(other.count('batch')).toBe(0);
    const killedAt = Date.now();
    await holder.kill();
    await other.waitFor((l) => l.event === 'leaseAcquired', 5_000);
    const takeoverMs = Date.now() - killedAt;
    await other.waitFor((l) => l.event === 'batch');
    await stopLoad();
    await other.waitFor((l) => l.event === 'caughtUp', 20_000, other.lines.length);
    const seen = await writers.stop();
    // Exactly two leases wrote, in turn: the first holder's, then the other's (a larger token).
    expect(seen.map((w) => w.split(' ')[1])).toEqual([holder.holder, other.holder]);
    expect(Number(seen[1]!.split(' ')[0])).toBeGreaterThan(Number(seen[0]!.split(' ')[0]));
    // The lease expired first (1 s TTL), then the standby runner took it.
    expect(takeoverMs).toBeGreaterThan(500);
    other.signal('SIGTERM');
    expect(await other.exited).toBe(0);
    await expectFromScratch(store, actors);
    await runtime.stop();
  }, 60_000);

  it('a runner paused (SIGSTOP) past its lease writes nothing once resumed (SIGCONT); the runner that took over goes on', async () => {
    const { store, runtime, prefix } = await fresh();
    const actors = Array.from({ length: 40 }, (_, i) => Ledger.ref(`s${i}`));
    const env = { BATCH_SIZE: '5', POLL_MS: '10', LEASE_TTL_MS: '800', RENEW_EVERY_MS: '200' };
    const writers = watchWriters(prefix);
    const paused = start(prefix, 'paused', env);
    await paused.waitFor((l) => l.event === 'leaseAcquired');
    const other = start(prefix, 'standby', env);
    await other.waitFor((l) => l.event === 'standby');
    const stopLoad = backgroundLoad(runtime, actors);
    await paused.waitFor((l) => l.event === 'batch' && paused.count('batch') >= 3);
    paused.signal('SIGSTOP');
    await other.waitFor((l) => l.event === 'leaseAcquired', 5_000);
    await other.waitFor((l) => l.event === 'batch');
    paused.signal('SIGCONT');
    await paused.waitFor((l) => l.event === 'leaseLost' || l.event === 'standby', 5_000, paused.lines.length);
    // It keeps running (in standby) while the other writes: give it time to misbehave.
    await new Promise((r) => setTimeout(r, 1_000));
    await stopLoad();
    await other.waitFor((l) => l.event === 'caughtUp', 20_000, other.lines.length);
    const seen = await writers.stop();
    // The paused runner's lease wrote, then the other's, and the paused one never again.
    expect(seen.map((w) => w.split(' ')[1])).toEqual(['paused', 'standby']);
    expect(Number(seen[1]!.split(' ')[0])).toBeGreaterThan(Number(seen[0]!.split(' ')[0]));
    expect(paused.count('standby')).toBeGreaterThan(0);
    paused.signal('SIGTERM');
    other.signal('SIGTERM');
    expect(await paused.exited).toBe(0);
    expect(await other.exited).toBe(0);
    await expectFromScratch(store, actors);
    await runtime.stop();
  }, 60_000);
});
