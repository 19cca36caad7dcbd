import { afterEach, describe, expect, it } from 'vitest';
import { VersionCollisionError } from '../errors/index.js';
import { ManualClock } from '../ids/index.js';
import { createRuntime, MemoryStore, ReplicationLink, Replicator, type Runtime } from '../index.js';
import { TestCluster } from '../testkit/cluster.js';
import { Ledger, type LedgerState } from '../testkit/ledger.js';

const ref = Ledger.ref('acc');
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.map((f) => f()));
  cleanup = [];
});
function cluster(size: number): TestCluster {
  const c = new TestCluster(size, [Ledger]);
  cleanup.push(() => c.stop());
  return c;
}
function replica(id: string): Runtime {
  const r = createRuntime({ actors: [Ledger], replicaId: id, store: new MemoryStore() });
  cleanup.push(() => r.stop());
  return r;
}
const balance = async (r: Runtime) => (await r.inspect<LedgerState>(ref)).state.balance;

describe('Replicator', () => {
  it('copies nothing while paused and everything after resume', async () => {
    const [a, b] = [replica('a'), replica('b')];
    const link = new ReplicationLink(a, b);
    link.partition();
    await a.send(ref, { type: 'deposit', payload: { n: 5 } });
    expect(await link.forward.sync()).toEqual({ copied: 0, skipped: 0, resolved: [], failed: [] });
    expect(await b.store.heads(ref)).toEqual([]);
    link.heal();
    await link.settle();
    expect(await balance(b)).toBe(5);
  });

  it('is incremental and restartable from a saved cursor', async () => {
    const [a, b] = [replica('a'), replica('b')];
    for (let i = 0; i < 10; i++) await a.send(ref, { type: 'deposit', payload: { n: 1 } });
    const first = new Replicator(a, b, { batchSize: 3 });
    expect((await first.sync()).copied).toBe(10);
    const saved = first.cursor;
    for (let i = 0; i < 4; i++) await a.send(ref, { type: 'deposit', payload: { n: 1 } });
    // A new replicator (a restarted process) resumes from the saved cursor: only the 4 new packs are read.
    const restarted = new Replicator(a, b, { cursor: saved });
    expect(await restarted.sync()).toMatchObject({ copied: 4, skipped: 0 });
    expect(await balance(b)).toBe(14);
    // From the start again: everything is skipped, nothing changes (idempotent).
    expect(await new Replicator(a, b).sync()).toMatchObject({ copied: 0, skipped: 14 });
  });

  it('resumes from a checkpoint: a restarted replicator reads only what is new', async () => {
    const [a, b] = [replica('a'), replica('b')];
    let saved: string | undefined;
    const checkpoint = { load: async () => saved, save: async (cursor: string) => void (saved = cursor) };
    for (let i = 0; i < 5; i++) await a.send(ref, { type: 'deposit', payload: { n: 1 } });
    expect((await new Replicator(a, b, { checkpoint, batchSize: 2 }).sync()).copied).toBe(5);
    expect(saved).toBeDefined();
    await a.send(ref, { type: 'deposit', payload: { n: 1 } });
    expect(await new Replicator(a, b, { checkpoint }).sync()).toMatchObject({ copied: 1, skipped: 0 });
    expect(await balance(b)).toBe(6);
  });

    it('is transitive: a replica catches up through a third one while the origin is unreachable', async () => {
    const c = cluster(3);
    await c.runtimes[0]!.send(ref, { type: 'deposit', payload: { n: 3 } });
    await c.runtimes[1]!.send(ref, { type: 'deposit', payload: { n: 4 } });
    await c.replicators[0]![1]!.sync(); // r1 now holds r0's pack and a merge
    // r0 goes away; r2 only ever talks to r1.
    await c.replicators[1]![2]!.sync();
    expect(await balance(c.runtimes[2]!)).toBe(7);
    expect((await c.stores[2]!.heads(ref))[0]).toEqual((await c.stores[1]!.heads(ref))[0]);
  });

  it('brings a replica added later up to date, and the others carry on when one is removed for good', async () => {
    const c = cluster(2);
    for (let i = 0; i < 5; i++) await c.runtimes[i % 2]!.send(ref, { type: 'deposit', payload: { n: 1 } });
    await c.settle();
    const late = replica('late');
    await new Replicator(c.runtimes[0]!, late).sync();
    expect(await late.inspect(ref)).toEqual(await c.runtimes[0]!.inspect(ref));
    await late.send(ref, { type: 'deposit', payload: { n: 10 } });
    await new Replicator(late, c.runtimes[1]!).sync();
    await c.runtimes[0]!.stop(); // removed for good: r1 and late keep going without it
    await c.runtimes[1]!.send(ref, { type: 'withdraw', payload: { n: 2 } });
    const link = new ReplicationLink(late, c.runtimes[1]!);
    await link.settle();
    expect(await balance(late)).toBe(13);
    expect(await balance(c.runtimes[1]!)).toBe(13);
  });

  it('refuses a pack whose parent has not arrived, and keeps what came before it', async () => {
    const [a, b] = [replica('a'), replica('b')];
    for (let i = 0; i < 3; i++) await a.send(ref, { type: 'deposit', payload: { n: 1 } });
    const { packs } = await a.store.changesSince(undefined, 10);
    await expect(b.store.merge([packs[0]!, packs[2]!])).rejects.toThrow(/acc/);
    expect((await b.store.heads(ref)).map((p) => p.version)).toEqual([{ a: 1 }]);
  });
});

describe('Replicator: failures', () => {
  // R3: a resolution that failed once was never tried again, leaving the target with two heads.
  it('retries on the next sync a resolution that failed', async () => {
    const clock = new ManualClock();
    const r0 = createRuntime({ actors: [Ledger], replicaId: 'r0', machineId: 0, clock, store: new MemoryStore() });
    const r1 = createRuntime({ actors: [Ledger], replicaId: 'r1', machineId: 1, clock, store: new MemoryStore() });
    cleanup.push(() => r0.stop(), () => r1.stop());
    let failOnce = true;
    const flaky = {
      store: r1.store,
      resolve: async (actor: typeof ref) => {
        if (failOnce) {
          failOnce = false;
          throw new Error('transient store error');
        }
        return r1.resolve(actor);
      },
    };
    const replicator = new Replicator(r0, flaky);
    await r0.send(ref, { type: 'deposit', payload: { n: 1 } });
    await r1.send(ref, { type: 'deposit', payload: { n: 2 } });
    const first = await replicator.sync();
    expect(first.failed.map((f) => (f.error as Error).message)).toEqual(['transient store error']);
    const again = await replicator.sync();
    expect(again.resolved).toEqual([ref]);
    expect(await r1.store.heads(ref)).toHaveLength(1);
  });

  // R8: two replicas left at the default replicaId wrote different packs under one version.
  it('fails loudly with VersionCollisionError, naming replicaId, when two replicas share a replicaId', async () => {
    // Both left at the default replicaId.
    const [a, b] = [createRuntime({ actors: [Ledger], store: new MemoryStore() }), createRuntime({ actors: [Ledger], store: new MemoryStore() })];
    cleanup.push(() => a.stop(), () => b.stop());
    const link = new ReplicationLink(a, b);
    await a.send(ref, { type: 'deposit', payload: { n: 1 } });
    await b.send(ref, { type: 'deposit', payload: { n: 2 } });
    const error = await link.settle().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VersionCollisionError);
    expect(error).toMatchObject({ code: 'VERSION_COLLISION' });
    await expect(link.settle()).rejects.toThrow(/replicaId/);
  });
});
