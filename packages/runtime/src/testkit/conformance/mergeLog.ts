import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../errors/index.js';
import { type CommandReply, createRuntime } from '../../hosting/index.js';
import type { ActorRef, Pack } from '../../model/index.js';
import { type EventStore, MemoryStore } from '../../store/index.js';
import { type MergeLog, type MergeRecord, isMergeLog, mergeRecordsMax } from '../../store/regionLog.js';
import { VC, type VectorClock } from '../../vectorClock/index.js';
import { uniqueActor } from '../fixtures.js';
import { Ledger } from '../ledger.js';
import { type CapabilitySuite, capabilityGate, expectRejection } from './support.js';

/**
 * MergeLog: the records of the merges a region wrote, newest first, at most `mergeRecordsMax` per
 * actor. Registered for every store; its tests skip a store that does not implement MergeLog
 * unless the options say it does (`mergeLog: true`).
 */
export function mergeLogTests(suite: CapabilitySuite): void {
  describe('merge records (MergeLog)', () => {
    capabilityGate(suite, 'MergeLog', isMergeLog);
    let store: EventStore & MergeLog;
    beforeEach(() => {
      store = suite.current() as EventStore & MergeLog;
    });

    it('an actor without merges has no records', async () => {
      expect(await store.merges(uniqueActor())).toEqual([]);
    });

    it('records come back newest first, at most `limit`, each actor its own', async () => {
      const actor = uniqueActor('merged');
      const other = uniqueActor('other');
      const mine = [mergeRecord(actor, 1), mergeRecord(actor, 2), mergeRecord(actor, 3)];
      const theirs = [mergeRecord(other, 1), mergeRecord(other, 2)];
      for (const [i, record] of mine.entries()) {
        await store.recordMerge(record);
        if (theirs[i]) await store.recordMerge(theirs[i]);
      }
      expect(await store.merges(actor)).toEqual([...mine].reverse());
      expect(await store.merges(actor, { limit: 2 })).toEqual([mine[2], mine[1]]);
      expect(await store.merges(actor, { limit: 1 })).toEqual([mine[2]]);
      expect(await store.merges(actor, { limit: 3 })).toEqual([...mine].reverse());
      expect(await store.merges(actor, { limit: 50 })).toEqual([...mine].reverse());
      expect(await store.merges(other)).toEqual([...theirs].reverse());
    });

    it('a record comes back with every field as written; `ancestor` stays absent when there was none', async () => {
      const actor = uniqueActor('fields');
      const full = mergeRecord(actor, 7);
      const { ancestor: _none, ...rootless } = mergeRecord(actor, 8);
      await store.recordMerge(full);
      await store.recordMerge(rootless);
      const [second, first] = await store.merges(actor);
      expect(first).toStrictEqual(full);
      expect(second).toStrictEqual(rootless);
      expect(Object.keys(second!)).not.toContain('ancestor');
      // What the caller holds is its own: changing it changes nothing stored.
      (first!.heads as VectorClock[]).push({ x: 1 });
      expect((await store.merges(actor))[1]).toStrictEqual(full);
    });

    it('a limit that is not a positive integer is an InvalidOptionError naming `limit`', async () => {
      const actor = uniqueActor();
      await store.recordMerge(mergeRecord(actor, 1));
      for (const limit of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '2' as unknown as number]) {
        const error = await expectRejection(store.merges(actor, { limit }), InvalidOptionError);
        expect(error.option, `limit ${String(limit)}`).toBe('limit');
      }
    });

    it(`keeps at most mergeRecordsMax (${mergeRecordsMax}) records per actor, dropping the oldest; 100 by default`, async () => {
      const actor = uniqueActor('busy');
      const bystander = uniqueActor('bystander');
      await store.recordMerge(mergeRecord(bystander, 0));
      for (let n = 0; n <= mergeRecordsMax; n++) await store.recordMerge(mergeRecord(actor, n));
      const kept = await store.merges(actor, { limit: mergeRecordsMax + 10 });
      expect(kept).toHaveLength(mergeRecordsMax);
      expect(kept[0]).toEqual(mergeRecord(actor, mergeRecordsMax));
      expect(kept[mergeRecordsMax - 1]).toEqual(mergeRecord(actor, 1));
      expect(kept.map((r) => r.replayed)).toEqual(Array.from({ length: mergeRecordsMax }, (_, i) => mergeRecordsMax - i));
      const byDefault = await store.merges(actor);
      expect(byDefault).toEqual(kept.slice(0, 100));
      expect(await store.merges(bystander)).toEqual([mergeRecord(bystander, 0)]);
    });

    it('a runtime over the store records the merge it writes when it resolves a diverged actor', async () => {
      const here = createRuntime({ actors: [Ledger], store, replicaId: 'here', idleSweepEveryMs: 0 });
      const elsewhere = new MemoryStore();
      const there = createRuntime({ actors: [Ledger], store: elsewhere, replicaId: 'there', idleSweepEveryMs: 0 });
      try {
        const ref = Ledger.ref(`merged-${uniqueActor().id}`);
        const first = acceptedVersion(await here.send(ref, { type: 'deposit', payload: { n: 5 } }));
        // The other region receives the first pack, then each region writes one more: two branches.
        await elsewhere.merge(await packsAt(store, ref, [first]));
        const ours = acceptedVersion(await here.send(ref, { type: 'deposit', payload: { n: 1 } }));
        const theirs = acceptedVersion(await there.send(ref, { type: 'withdraw', payload: { n: 2 } }));
        await store.merge(await packsAt(elsewhere, ref, [theirs]));
        expect(await store.merges(ref)).toEqual([]);

        const resolved = await here.resolve(ref);
        expect(resolved.resolved).toBe(true);
        const records = await store.merges(ref);
        expect(records).toHaveLength(1);
        const [record] = records;
        expect(record!.actor).toEqual({ type: ref.type, id: ref.id });
        expect(record!.version).toEqual(resolved.version);
        expect(record!.ancestor).toEqual(first);
        expect([...record!.heads].map(VC.encode).sort()).toEqual([ours, theirs].map(VC.encode).sort());
        expect(record!.region).toBe('here');
        expect(record!.replayed).toBe(2);
        expect(record!.droppedDuplicates).toBe(0);
        expect(record!.compensations).toEqual([]);
        expect(record!.mergedAt).toBeGreaterThanOrEqual(record!.divergedAt);
        expect(record!.durationMs).toBeGreaterThanOrEqual(0);
        // Nothing left to merge: no second record.
        expect((await here.resolve(ref)).resolved).toBe(false);
        expect(await store.merges(ref)).toHaveLength(1);
      } finally {
        await Promise.all([here.stop(), there.stop()]);
        await elsewhere.close();
      }
    });

    // Registered only for a store that can be reopened (a MemoryStore keeps its data in the object).
    if (suite.reopen !== undefined) it('records survive reopening the store', async () => {
      const actor = uniqueActor('kept');
      const records = [mergeRecord(actor, 1), mergeRecord(actor, 2)];
      for (const record of records) await store.recordMerge(record);
      const reopened = await suite.reopen!(store);
      try {
        expect(await (reopened as EventStore & MergeLog).merges(actor)).toEqual([...records].reverse());
      } finally {
        await reopened.close();
      }
    });
  });
}

function acceptedVersion(reply: CommandReply): VectorClock {
  if (reply.status !== 'accepted') throw new Error(`the command was rejected: ${reply.reason}`);
  return reply.version;
}

async function packsAt(store: EventStore, actor: ActorRef, versions: readonly VectorClock[]): Promise<Pack[]> {
  const packs = await store.getPacks(actor, versions.map(VC.encode));
  return packs.map((pack, i) => {
    if (!pack) throw new Error(`${VC.encode(versions[i]!)} is not in the store`);
    return pack;
  });
}

/** A record with a value of every shape per field (clocks of several replicas, an empty and a full list, a fraction). */
function mergeRecord(actor: ActorRef, n: number): MergeRecord {
  return {
    actor: { type: actor.type, id: actor.id },
    version: { a: n + 2, b: 1, merge: 1 },
    ancestor: { a: n + 1 },
    heads: [{ a: n + 2 }, { a: n + 1, b: 1 }],
    replayed: n,
    droppedDuplicates: n % 2,
    compensations: n % 3 === 0 ? [] : ['overdraft', 'fee.charged'],
    region: 'eu-west.1',
    divergedAt: 1_700_000_000_000 + n,
    mergedAt: 1_700_000_050_000 + n,
    durationMs: 12.5 + n,
  };
}
