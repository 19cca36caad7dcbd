/**
 * I5 with a replicator in the region (#15, item 2): `troupe replicate` resolves diverged actors
 * from its own runtime, on the region's store, while the region's worker executes commands on
 * the same actors. This is safe because every write of either is a conditional append on the
 * actor's exact heads (Redis Lua, atomic): a merge written from heads {h, s} fails if the worker
 * appended on h in between, and a command appended on h fails once a merge moved the heads; the
 * loser reads the heads again and decides again. Nothing is applied twice or lost, and no two
 * merges of the same heads are ever written (no storm of merge packs).
 *
 * The test drives exactly that race on real Redis: a worker runtime ('eu') and a replicator
 * runtime (also 'eu', the same region) on one store, a second region ('us') writing the same
 * actors, and a Replicator us→eu syncing and resolving through the replicator runtime while the
 * worker sends commands. It asserts the race really happened (both sides lost a conditional
 * append to the other), then: convergence, every accepted command exactly once, no two merge
 * packs with the same parents, and merges bounded by the packs copied.
 */
import { type AppendConflictObservation, type CommandReply, ReplicationLink, Replicator, createRuntime, defineActor } from '@troupe/runtime';
import { type Pack, VC } from '@troupe/runtime/store';
import { requireService } from '@troupe/runtime/testkit';
import { RedisStore, connectRedisStore } from '@troupe/redis';
import { afterAll, describe, expect, it } from 'vitest';

const Counter = defineActor({
  type: 'counter',
  initial: () => ({ n: 0 }),
  commands: { add: (_s, p: { by: number }) => [{ type: 'added', data: { by: p.by } }] },
  events: { added: (s, d: { by: number }) => ({ n: s.n + d.by }) },
  snapshotEvery: 10,
});

const redisUrl = process.env.TROUPE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const available = await requireService({ name: 'Redis', host: new URL(redisUrl).hostname, port: Number(new URL(redisUrl).port || 6379) });
const suffix = `${process.pid}-${Date.now()}`;
const prefixes = [`iso-eu-${suffix}`, `iso-us-${suffix}`];

afterAll(async () => {
  for (const prefix of prefixes) await RedisStore.destroyPrefix({ url: redisUrl, prefix }).catch(() => undefined);
});

describe.skipIf(!available)('a replicator resolving while the region\'s worker appends (I5)', () => {
  it('never applies a command twice, loses none, and writes one merge per head set', async () => {
    const eu = await connectRedisStore({ url: redisUrl, prefix: prefixes[0]! });
    const us = await connectRedisStore({ url: redisUrl, prefix: prefixes[1]! });
    const workerConflicts: AppendConflictObservation[] = [];
    const replicatorConflicts: AppendConflictObservation[] = [];
    let euMerges = 0;
    const worker = createRuntime({
      actors: [Counter], store: eu, replicaId: 'eu', machineId: 1,
      observer: { appendConflict: (o) => workerConflicts.push(o), resolved: () => void euMerges++ },
    });
    const resolver = createRuntime({
      actors: [Counter], store: eu, replicaId: 'eu', machineId: 2,
      observer: { appendConflict: (o) => replicatorConflicts.push(o), resolved: () => void euMerges++ },
    });
    const usRuntime = createRuntime({ actors: [Counter], store: us, replicaId: 'us', machineId: 3 });
    const actors = Array.from({ length: 4 }, (_, i) => Counter.ref(`c${i}`));
    // us → eu resolves through the replicator's runtime (as `troupe replicate` does); eu → us through us's.
    let copied = 0;
    const inbound = new Replicator(
      { store: us, resolve: (a) => resolver.resolve(a) },
      { store: eu, resolve: (a) => resolver.resolve(a) },
      { batchSize: 7, onBatch: (batch) => void (copied += batch.copied) },
    );
    const replies: CommandReply[] = [];
    let stop = false;
    // One driver per actor at eu (the worker executes every actor's commands back to back), one
    // slower driver at us (so the replicator keeps catching up and resolving).
    const drive = async (runtime: typeof worker, tag: string, ofActors: typeof actors, pauseMs: number) => {
      for (let i = 0; !stop; i++) {
        const actor = ofActors[i % ofActors.length]!;
        replies.push(await runtime.send(actor, { type: 'add', payload: { by: 1 }, commandId: `${tag}-${i}` }));
        if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
      }
    };
    const failures: unknown[] = [];
    const replicate = async () => {
      while (!stop) {
        const report = await inbound.sync();
        failures.push(...report.failed.map((f) => f.error));
      }
    };
    const running = [...actors.map((a, i) => drive(worker, `eu${i}`, [a], 0)), drive(usRuntime, 'us', actors, 2), replicate()];
    // Long enough for hundreds of commands and dozens of copies; stops early once the race was seen often.
    const deadline = Date.now() + 8_000;
    while (Date.now() < deadline && (workerConflicts.length < 20 || replicatorConflicts.length < 5)) await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await Promise.all(running);
    expect(failures).toEqual([]);
    // Merges are bounded by what was copied: only a copy adds a head (an append replaces the exact
    // heads it expected by one), so each merge here resolved a head set some copied pack created.
    expect(euMerges).toBeGreaterThan(0);
    expect(euMerges).toBeLessThanOrEqual(copied);

    // The race happened both ways: the worker lost appends to the replicator's merges, and the
    // replicator lost merges to the worker's appends (each then read the heads again).
    expect(workerConflicts.length).toBeGreaterThan(0);
    expect(replicatorConflicts.length).toBeGreaterThan(0);

    // Heal completely: both ways until quiet; then both regions agree.
    const link = new ReplicationLink({ store: us, resolve: (a) => usRuntime.resolve(a) }, { store: eu, resolve: (a) => resolver.resolve(a) });
    await link.settle(20);
    const accepted = replies.filter((r) => r.status === 'accepted');
    expect(accepted.length).toBe(replies.length);
    let total = 0;
    for (const actor of actors) {
      const [euHeads, usHeads] = [await eu.heads(actor), await us.heads(actor)];
      expect(euHeads).toHaveLength(1);
      expect(usHeads.map((h) => VC.encode(h.version))).toEqual(euHeads.map((h) => VC.encode(h.version)));
      const history: Pack[] = await eu.history(actor);
      // Every accepted command exactly once in the converged history.
      const ids = history.flatMap((p) => [...p.commandIds]);
      expect(new Set(ids).size).toBe(ids.length);
      total += ids.length;
      // No storm: no two merge packs of one actor merged the same heads.
      const parentSets = history.filter((p) => p.kind === 'merge').map((p) => p.parents.map(VC.encode).sort().join('|'));
      expect(new Set(parentSets).size).toBe(parentSets.length);
      const view = await worker.inspect<{ n: number }>(actor);
      expect(view.state.n).toBe(ids.length);
    }
    expect(total).toBe(accepted.length);
    await Promise.all([worker.stop(), resolver.stop(), usRuntime.stop()]);
    await Promise.all([eu.close(), us.close()]);
  }, 60_000);
});
