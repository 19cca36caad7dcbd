/**
 * Views across merges, in Redis: two regions (two throw-away redis-servers, a store and a runtime
 * each), linked by replicators; a RedisView runner follows each region's log throughout. A shared
 * history, a partition with double spends and a retried command accepted on both sides, then the
 * heal: the merges rewrite the actors' histories (compensations included) under the running
 * views. At quiescence each region's view equals the view computed from scratch over its
 * converged histories, and the two regions' views are equal.
 */
import { type ActorRef, ReplicationLink, type Runtime, createRuntime, viewFromScratch } from '@troupe/runtime';
import { requireService } from '@troupe/runtime/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisStore } from '../redisStore/index.js';
import { throwAwayServers } from '../specHelpers/throwAwayServers.js';
import { Applied, Ledger } from '../specHelpers/viewFixtures.js';
import { type RedisView, openRedisView } from './redisView.js';

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

interface Region {
  readonly name: 'eu' | 'us';
  readonly store: RedisStore;
  readonly runtime: Runtime;
  readonly view: RedisView<number>;
  readonly running: Promise<void>;
}

describe.skipIf(!available)('a RedisView in each of two regions, through a partition and its merges', () => {
  const servers = throwAwayServers();
  const actors: ActorRef[] = Array.from({ length: 8 }, (_, i) => Ledger.ref(`acc${i}`));
  let eu: Region;
  let us: Region;
  let link: ReplicationLink;

  async function region(name: 'eu' | 'us', machineId: number): Promise<Region> {
    const server = await servers.startServer();
    const store = await servers.connect(server, 'views');
    const runtime = createRuntime({ actors: [Ledger], store, replicaId: name, machineId });
    const view = await openRedisView<number>({ store, projection: Applied, batchSize: 5, pollMs: 10, holder: `runner-${name}` });
    return { name, store, runtime, view, running: view.start() };
  }

  beforeAll(async () => {
    eu = await region('eu', 1);
    us = await region('us', 2);
    link = new ReplicationLink(eu.runtime, us.runtime, {
      forward: { checkpoint: us.store.checkpoint('from-eu'), batchSize: 7 },
      backward: { checkpoint: eu.store.checkpoint('from-us'), batchSize: 7 },
    });
  }, 30_000);

  afterAll(async () => {
    for (const r of [eu, us]) {
      if (!r) continue;
      await r.view.stop();
      await r.runtime.stop();
    }
    await servers.dispose();
  });

  it('each region\'s view equals its from-scratch view after the heal, and the regions\' views are equal', async () => {
    // Shared history, written in both regions, then settled.
    for (let round = 0; round < 3; round++) {
      await Promise.all(actors.map((actor, i) => ((i + round) % 2 === 0 ? eu : us).runtime.send(actor, { type: 'deposit', payload: { n: 20 + i } })));
      await link.settle();
    }
    // Partitioned: both sides write; each side alone can afford its withdrawal, both together cannot.
    link.partition();
    await Promise.all(
      actors.map(async (actor, i) => {
        const balance = (await eu.runtime.inspect<{ balance: number }>(actor)).state.balance;
        await Promise.all(
          [eu, us].map(async (r, side) => {
            await r.runtime.send(actor, { type: 'deposit', payload: { n: 1 + side } });
            await r.runtime.send(actor, { type: 'withdraw', payload: { n: balance - 10 } });
            await r.runtime.send(actor, { type: 'note', payload: { tag: `p${side}` } });
          }),
        );
        // A client that timed out in eu retries the same command in us: accepted on both sides, applied once after the heal.
        if (i < 3) for (const r of [eu, us]) await r.runtime.send(actor, { type: 'deposit', payload: { n: 7 }, commandId: `retry-${actor.id}` });
      }),
    );
    // The views follow each side's own history meanwhile.
    for (const r of [eu, us]) {
      await r.view.catchUp();
      expect(new Map(await r.view.rows())).toEqual(new Map(await viewFromScratch(Applied, r.store, actors)));
    }
    link.heal();
    await link.settle();
    for (const r of [eu, us]) await r.view.catchUp();

    const rows = { eu: new Map(await eu.view.rows()), us: new Map(await us.view.rows()) };
    for (const r of [eu, us]) {
      for (const actor of actors) {
        const heads = await r.store.heads(actor);
        expect(heads).toHaveLength(1);
        expect(heads[0]!.kind, `${r.name} ${actor.id} was merged`).toBe('merge');
      }
      expect(rows[r.name]).toEqual(new Map(await viewFromScratch(Applied, r.store, actors)));
      expect(await r.view.lag()).toBe(0);
    }
    expect(rows.us).toEqual(rows.eu);
    // The merges' compensations are in the view (each double spend recorded an overdraft), and
    // every event counted once: 3 shared deposits, 2 x 3 partition events, and the retried
    // deposit once for the first three actors.
    expect(rows.eu.get('overdrawn')).toBeGreaterThan(0);
    expect(rows.eu.get('applied')).toBe(actors.length * (3 + 6 + 1) + 3);
    for (const [i, actor] of actors.entries()) expect(rows.eu.get(`applied:${actor.id}`)).toBe(3 + 6 + 1 + (i < 3 ? 1 : 0));
  }, 60_000);
});
