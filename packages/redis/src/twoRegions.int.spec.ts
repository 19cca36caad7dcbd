/**
 * Two regions, each a throw-away redis-server with its own RedisStore and runtime ('eu' and 'us'),
 * linked by two Replicators whose checkpoints live in the target region's Redis. Shared history,
 * a partition with concurrent writes (double spending included) on both sides, a replicator
 * killed after one batch, heal and settle; then convergence, no acknowledged event lost, equality
 * with the reference model, incremental replication and no key scans.
 */
import {
  type Accepted,
  type ActorRef,
  type Checkpoint,
  type CommandReply,
  ReplicationLink,
  Replicator,
  type Runtime,
  type SyncReport,
  createRuntime,
  defineActor,
  reject,
} from '@troupe/runtime';
import { type Pack, VC } from '@troupe/runtime/store';
import { ReferenceModel, requireService } from '@troupe/runtime/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedisStore } from './connect.js';
import type { RedisStore } from './redisStore/index.js';
import { RedisServer } from './testing/redisServer.js';

/** A ledger whose state records the ids of the events it applied, in order. */
interface AccountState {
  readonly balance: number;
  readonly overdrawn: number;
  readonly applied: readonly string[];
}

const Account = defineActor({
  type: 'account',
  initial: (): AccountState => ({ balance: 0, overdrawn: 0, applied: [] }),
  commands: {
    deposit: (_s, p: { n: number }) => [{ type: 'deposited', data: { n: p.n } }],
    withdraw: (s, p: { n: number }) => (s.balance >= p.n ? [{ type: 'withdrew', data: { n: p.n } }] : reject('insufficient funds')),
  },
  events: {
    deposited: (s, d: { n: number }, e) => ({ ...s, balance: s.balance + d.n, applied: [...s.applied, e.id] }),
    withdrew: (s, d: { n: number }, e) => ({ ...s, balance: s.balance - d.n, applied: [...s.applied, e.id] }),
    overdraft: (s, d: { amount: number }, e) => ({ ...s, overdrawn: d.amount, applied: [...s.applied, e.id] }),
  },
  // Compensation of a double spend: record the overdraft the merge produced.
  onMerge: (merged) =>
    merged.balance < 0 && merged.overdrawn !== -merged.balance ? [{ type: 'overdraft', data: { amount: -merged.balance } }] : [],
  snapshotEvery: 5,
});

const actorCount = 10;
/** What a sync reports when there was nothing to copy. */
const nothingMoved: SyncReport = { copied: 0, skipped: 0, resolved: [], failed: [] };
const accounts = Array.from({ length: actorCount }, (_, i) => Account.ref(`acc${i}`));

interface Region {
  readonly name: 'eu' | 'us';
  readonly server: RedisServer;
  readonly store: RedisStore;
  readonly runtime: Runtime;
  /** A separate client for INFO / CONFIG, never used by troupe. */
  readonly admin: Redis;
}

async function startRegion(name: 'eu' | 'us', machineId: number): Promise<Region> {
  const server = await RedisServer.start();
  const store = await connectRedisStore({ url: server.url, prefix: 'troupe' });
  const runtime = createRuntime({ actors: [Account], store, replicaId: name, machineId });
  const admin = new Redis(server.url, { lazyConnect: true });
  await admin.connect();
  return { name, server, store, runtime, admin };
}

async function stopRegion(region: Region | undefined): Promise<void> {
  if (!region) return;
  await region.runtime.stop().catch(() => undefined);
  await region.store.close().catch(() => undefined);
  region.admin.disconnect();
  await region.server.destroy();
}

/** `cmdstat_<name>` → calls, from INFO commandstats. */
async function commandCalls(admin: Redis): Promise<Map<string, number>> {
  const info = await admin.info('commandstats');
  const calls = new Map<string, number>();
  for (const line of info.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match) calls.set(match[1]!, Number(match[2]));
  }
  return calls;
}

/** Both directions, each Replicator keeping its cursor in its target's Redis. A new link = a restarted process. */
function newLink(eu: Region, us: Region): ReplicationLink {
  return new ReplicationLink(eu.runtime, us.runtime, {
    forward: { checkpoint: us.store.checkpoint('from-eu') },
    backward: { checkpoint: eu.store.checkpoint('from-us') },
  });
}

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

describe.skipIf(!available)('two regions on two redis-servers, replicated with checkpoints in Redis', () => {
  let eu: Region;
  let us: Region;
  let link: ReplicationLink;
  /** Every accepted reply, with the region that accepted it. */
  const acked: { region: 'eu' | 'us'; actor: ActorRef; reply: Accepted }[] = [];
  /** Accepted at each region during the partition (each one pack in that region's log). */
  const acceptedInPartition = { eu: 0, us: 0 };
  const retriedCommandIds: string[] = [];

  const record = (region: Region, actor: ActorRef) => (reply: CommandReply) => {
    if (reply.status === 'accepted') acked.push({ region: region.name, actor, reply });
    return reply;
  };

  beforeAll(async () => {
    eu = await startRegion('eu', 1);
    us = await startRegion('us', 2);
    link = newLink(eu, us);
    // From here on, every command either server runs is counted (no SCAN / KEYS may appear).
    await Promise.all([eu.admin.config('RESETSTAT'), us.admin.config('RESETSTAT')]);
  }, 30_000);

  afterAll(async () => {
    await Promise.all([stopRegion(eu), stopRegion(us)]);
  });

  it('replicates a shared history of 240 commands over 10 actors, with snapshots, to both regions', async () => {
    // Four rounds; in each round an actor is written in one region only, then both regions settle.
    for (let round = 0; round < 4; round++) {
      await Promise.all(
        accounts.map(async (actor, i) => {
          const region = (i + round) % 2 === 0 ? eu : us;
          for (let k = 0; k < 6; k++) {
            const command = k === 5 && round > 0 ? { type: 'withdraw' as const, payload: { n: 3 } } : { type: 'deposit' as const, payload: { n: 10 + k } };
            const reply = await region.runtime.send(actor, command).then(record(region, actor));
            expect(reply.status).toBe('accepted');
          }
        }),
      );
      await link.settle();
    }
    expect(acked.length).toBe(240);
    for (const actor of accounts) {
      const [a, b] = await Promise.all([eu.runtime.inspect<AccountState>(actor), us.runtime.inspect<AccountState>(actor)]);
      expect(a.heads).toBe(1);
      expect(b).toEqual(a);
      expect(a.state.applied).toHaveLength(24);
    }
    // Snapshots were written in both regions (us got eu's by replication and vice versa).
    for (const region of [eu, us]) {
      const sizes = await Promise.all(accounts.map((actor) => region.admin.hlen(region.store.keysOf(actor).snapshots)));
      expect(sizes.every((n) => n >= 4), `${region.name} snapshots per actor: ${sizes.join(',')}`).toBe(true);
    }
    // The cursors live in the targets' Redis.
    expect(await us.admin.get('troupe:{troupe.meta}:cursor:from-eu')).toMatch(/^[0-9a-f-]{36}:\d+(\.\d+){15}$/);
    expect(await eu.admin.get('troupe:{troupe.meta}:cursor:from-us')).toMatch(/^[0-9a-f-]{36}:\d+(\.\d+){15}$/);
  });

  it('keeps accepting writes in both regions during a partition, double spending included', async () => {
    link.partition();
    const balances = await Promise.all(accounts.map(async (actor) => (await eu.runtime.inspect<AccountState>(actor)).state.balance));
    await Promise.all(
      accounts.map(async (actor, i) => {
        const spend = balances[i]! - 5; // each region alone can afford it; both together cannot
        expect(spend).toBeGreaterThan(20);
        const run = async (region: Region, deposit: number) => {
          for (const command of [
            { type: 'deposit' as const, payload: { n: deposit } },
            { type: 'withdraw' as const, payload: { n: spend } },
            { type: 'deposit' as const, payload: { n: deposit } },
          ]) {
            const reply = await region.runtime.send(actor, command).then(record(region, actor));
            expect(reply.status, `${region.name} ${command.type} on ${actor.id}`).toBe('accepted');
            acceptedInPartition[region.name]++;
          }
        };
        await Promise.all([run(eu, 1), run(us, 2)]);
      }),
    );
    // A client that timed out in eu retries the same command in us: accepted in both, applied once after the heal.
    for (const actor of accounts.slice(0, 2)) {
      const commandId = `retry-${actor.id}`;
      retriedCommandIds.push(commandId);
      for (const region of [eu, us]) {
        const reply = await region.runtime.send(actor, { type: 'deposit', payload: { n: 100 }, commandId }).then(record(region, actor));
        expect(reply).toMatchObject({ status: 'accepted', duplicate: false });
        acceptedInPartition[region.name]++;
      }
    }
    // Nothing crosses while partitioned.
    expect(await link.forward.sync()).toEqual(nothingMoved);
    expect(await link.backward.sync()).toEqual(nothingMoved);
    for (const actor of accounts) {
      const [a, b] = await Promise.all([eu.runtime.inspect<AccountState>(actor), us.runtime.inspect<AccountState>(actor)]);
      expect(VC.compare(a.version!, b.version!)).toBe('concurrent');
    }
    expect(acceptedInPartition).toEqual({ eu: 32, us: 32 });
  });

  it('a replicator killed after its first batch is continued by a new one from the checkpoint in Redis', async () => {
    const saved = us.store.checkpoint('from-eu');
    const before = await saved.load();
    // Every resolution at us leaves a merge record there (RedisStore is a MergeLog): how many
    // merges us wrote, per actor.
    const mergesAtUs = async () => new Map(await Promise.all(accounts.map(async (a) => [a.id, (await us.store.merges(a, { limit: 1_000 })).length] as const)));
    const recordsBefore = await mergesAtUs();
    let saves = 0;
    const dyingCheckpoint: Checkpoint = {
      load: () => saved.load(),
      save: async (cursor) => {
        await saved.save(cursor);
        if (++saves === 1) throw new Error('replicator process killed after its first batch');
      },
    };
    const dying = new Replicator(eu.runtime, us.runtime, { checkpoint: dyingCheckpoint, batchSize: 10 });
    await expect(dying.sync()).rejects.toThrow('killed after its first batch');
    const after = await saved.load();
    expect(after).not.toEqual(before);
    // A cursor is the store identity, ':', then an offset per shard.
    const sum = (cursor: string | undefined) => (cursor ?? '').replace(/^[^:]*:/, '').split('.').reduce((n, x) => n + Number(x), 0);
    expect(sum(after) - sum(before)).toBe(10);
    // A replicator resolves a batch's diverged actors before it saves the batch's cursor: the
    // dying one resolved the actors of its first batch.
    const recordsAfterDying = await mergesAtUs();
    const resolvedByDying = accounts.map((a) => a.id).filter((id) => recordsAfterDying.get(id)! > recordsBefore.get(id)!);
    expect(resolvedByDying.length).toBeGreaterThan(0);

    // The process restarts: new replicators, cursors loaded from Redis.
    link = newLink(eu, us);
    const forward = await link.forward.sync();
    // Exactly the rest of eu's partition packs: nothing re-read, nothing skipped.
    expect(forward.copied).toBe(acceptedInPartition.eu - 10);
    expect(forward.skipped).toBe(0);
    // It resolves the actors it touched (again, for an actor whose partition packs the dead
    // replicator's batch held only in part), one merge each.
    const resolvedAtUs = forward.resolved.map((a) => a.id);
    expect(resolvedAtUs.length).toBeGreaterThan(0);
    const recordsAfterForward = await mergesAtUs();
    const mergesWrittenAtUs = accounts.reduce((n, a) => n + recordsAfterForward.get(a.id)! - recordsBefore.get(a.id)!, 0);
    expect(mergesWrittenAtUs).toBe(resolvedByDying.length + resolvedAtUs.length);
    // Back to eu: us's partition packs and the merges us wrote; eu's own packs come back and are skipped.
    const backward: SyncReport = await link.backward.sync();
    expect(backward.copied).toBe(acceptedInPartition.us + mergesWrittenAtUs);
    expect(backward.skipped).toBe(acceptedInPartition.eu);
    const resolvedAtEu = backward.resolved.map((a) => a.id);
    expect([...forward.failed, ...backward.failed]).toEqual([]);
    expect([...new Set([...resolvedByDying, ...resolvedAtUs, ...resolvedAtEu])].sort()).toEqual(accounts.map((a) => a.id).sort());
    expect((await link.settle()).rounds).toBeLessThanOrEqual(2);
  });

  it('converges: one equal head per actor, equal state, no acknowledged event lost or applied twice', async () => {
    const retried = new Set(retriedCommandIds);
    for (const actor of accounts) {
      const [headsEu, headsUs] = await Promise.all([eu.store.heads(actor), us.store.heads(actor)]);
      expect(headsEu).toHaveLength(1);
      expect(headsUs).toHaveLength(1);
      expect(headsUs[0]).toEqual(headsEu[0]);
      expect(headsEu[0]!.kind).toBe('merge');
      const [a, b] = await Promise.all([eu.runtime.inspect<AccountState>(actor), us.runtime.inspect<AccountState>(actor)]);
      expect(a).toEqual(b);
      expect(a.heads).toBe(1);
      expect(a.version).toEqual(headsEu[0]!.version);

      const applied = a.state.applied;
      expect(new Set(applied).size, `no event of ${actor.id} applied twice`).toBe(applied.length);
      const count = new Map<string, number>();
      for (const id of applied) count.set(id, (count.get(id) ?? 0) + 1);
      const mine = acked.filter((x) => x.actor.id === actor.id);
      for (const { region, reply } of mine) {
        if (retried.has(reply.commandId)) continue;
        for (const event of reply.events) {
          expect(count.get(event.id), `${region} ${reply.commandId} event ${event.id} of ${actor.id}`).toBe(1);
        }
      }
      // A command id accepted in both regions counts once.
      for (const commandId of retried) {
        const replies = mine.filter((x) => x.reply.commandId === commandId);
        if (replies.length === 0) continue;
        expect(replies).toHaveLength(2);
        const present = replies.filter((x) => x.reply.events.every((e) => count.get(e.id) === 1));
        expect(present, `retried ${commandId}`).toHaveLength(1);
      }
      // The double spend was compensated: the overdraft is recorded.
      expect(a.state.balance).toBeLessThan(0);
      expect(a.state.overdrawn).toBe(-a.state.balance);
      const expectedBalance = mine.reduce(
        (n, { reply }) =>
          retried.has(reply.commandId) ? n : n + reply.events.reduce((m, e) => m + (e.type === 'withdrew' ? -1 : 1) * (e.data as { n: number }).n, 0),
        mine.some((x) => retried.has(x.reply.commandId)) ? 100 : 0,
      );
      expect(a.state.balance).toBe(expectedBalance);
    }
  });

  it('equals the reference model built from each region\'s log', async () => {
    const logs = await Promise.all([eu.store.changesSince(undefined, 1_000_000), us.store.changesSince(undefined, 1_000_000)]);
    const byActor = (packs: readonly Pack[], actor: ActorRef) => packs.filter((p) => p.actor.type === actor.type && p.actor.id === actor.id);
    for (const actor of accounts) {
      const [packsEu, packsUs] = logs.map((log) => byActor(log.packs, actor));
      expect(packsUs!.map((p) => VC.encode(p.version)).sort()).toEqual(packsEu!.map((p) => VC.encode(p.version)).sort());
      const view = await eu.runtime.inspect<AccountState>(actor);
      for (const packs of [packsEu!, packsUs!]) {
        const reference = new ReferenceModel(Account, packs);
        const head = VC.encode(view.version!);
        expect(reference.heads()).toEqual([head]);
        expect(reference.stateAt(head)).toEqual(view.state);
        for (const pack of packs.filter((p) => p.kind === 'merge')) {
          expect(pack.parents.map(VC.encode).sort()).toEqual(reference.commandHeadsAt(pack.version));
          expect(pack.state).toEqual(reference.stateAt(VC.encode(pack.version)));
        }
      }
    }
  });

  it('never scanned keys: SCAN and KEYS were not called on either server during the whole run (shared history, heal, settle)', async () => {
    for (const region of [eu, us]) {
      const calls = await commandCalls(region.admin);
      expect(calls.get('scan') ?? 0, `${region.name} scan`).toBe(0);
      expect(calls.get('keys') ?? 0, `${region.name} keys`).toBe(0);
    }
  });
  it('is incremental: a sync after nothing changed copies 0, skips 0 and runs no script on the source', async () => {
    await Promise.all([eu.admin.config('RESETSTAT'), us.admin.config('RESETSTAT')]);
    expect(await link.forward.sync()).toEqual(nothingMoved);
    expect(await link.backward.sync()).toEqual(nothingMoved);
    // A restarted process (cursors loaded from Redis) reads nothing old either.
    const restarted = newLink(eu, us);
    expect(await restarted.forward.sync()).toEqual(nothingMoved);
    expect(await restarted.backward.sync()).toEqual(nothingMoved);
    for (const region of [eu, us]) {
      const calls = await commandCalls(region.admin);
      // Only the log lengths were asked for: no page of the log, no pack, no merge.
      for (const command of ['evalsha', 'eval', 'lrange', 'hget', 'hmget', 'rpush']) {
        expect(calls.get(command) ?? 0, `${region.name} ${command}`).toBe(0);
      }
      expect(calls.get('llen'), `${region.name} llen`).toBe(2 * 16);
    }
  });

});
