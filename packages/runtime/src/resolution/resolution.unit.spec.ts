import { afterEach, describe, expect, it } from 'vitest';
import { runtimesStoppedAfterEach } from '../specHelpers/runtimes.js';
import { defineActor, reject } from '../actor/index.js';
import { InvalidDefinitionError } from '../errors/index.js';
import { ManualClock, machineIdFor } from '../ids/index.js';
import { type ActorRef, type EventStore, MemoryStore, type Pack, createRuntime, Replicator } from '../index.js';
import { VC } from '../vectorClock/index.js';
import { commandHeads, computeMerge } from './index.js';
import { ReplicationLink } from '../replication/index.js';
import { ReferenceModel } from '../reference/index.js';
import { TestCluster } from '../testkit/cluster.js';
import { Ledger, type LedgerState } from '../testkit/ledger.js';

const ref = Ledger.ref('acc');
let clusters: TestCluster[] = [];
function cluster(size: number, options?: ConstructorParameters<typeof TestCluster>[2]): TestCluster {
  const c = new TestCluster(size, [Ledger], options);
  clusters.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(clusters.map((c) => c.stop()));
  clusters = [];
});

const deposit = (c: TestCluster, r: number, n: number, commandId?: string) =>
  c.runtimes[r]!.send(ref, { type: 'deposit', payload: { n }, ...(commandId ? { commandId } : {}) });
const withdraw = (c: TestCluster, r: number, n: number) => c.runtimes[r]!.send(ref, { type: 'withdraw', payload: { n } });
const state = async (c: TestCluster, r: number) => (await c.runtimes[r]!.inspect<LedgerState>(ref)).state;

async function expectConverged(c: TestCluster): Promise<void> {
  const views = await Promise.all(c.runtimes.map((r) => r.inspect(ref)));
  for (const v of views) expect(v).toEqual(views[0]);
  const packs = await c.allPacks(0, ref);
  const reference = new ReferenceModel(Ledger, packs);
  expect(reference.heads()).toHaveLength(1);
  expect(views[0]!.state).toEqual(reference.stateAt(reference.heads()[0]!));
}

/** Counts what a store hands out, to check that resolution and loading stay bounded (I6). */
class CountingStore extends MemoryStore {
  packsRead = 0;
  override async getPacks(actor: ActorRef, keys: readonly string[]): Promise<(Pack | undefined)[]> {
    this.packsRead += keys.length;
    return super.getPacks(actor, keys);
  }
  override async loadChain(actor: ActorRef, key: string) {
    const chain = await super.loadChain(actor, key);
    this.packsRead += chain.packs.length;
    return chain;
  }
}

describe('divergence resolution', () => {
  it('merges two branches from their common ancestor in (ts, id) order', async () => {
    const c = cluster(2);
    await deposit(c, 0, 10);
    await c.settle();
    c.clocks[1]!.advance(5);
    await deposit(c, 1, 1); // later clock: replays after r0's writes below
    await deposit(c, 0, 2);
    const heads = [...(await c.stores[0]!.heads(ref)), ...(await c.stores[1]!.heads(ref))];
    await c.copiers[1]![0]!.sync();
    const outcome = await computeMerge(c.stores[0]!, Ledger, ref, await c.stores[0]!.heads(ref));
    expect(outcome.ancestor?.version).toEqual({ r0: 1 });
    expect(outcome.replayed.map((e) => e.data)).toEqual([{ n: 2 }, { n: 1 }]);
    expect(outcome.pack.version).toEqual(VC.mergeAll(heads.map((h) => h.version)));
    expect(outcome.pack.parents.map(VC.encode).sort()).toEqual(heads.map((h) => VC.encode(h.version)).sort());
    expect((outcome.state as LedgerState).balance).toBe(13);
  });

  it('three branches resolved in different groupings converge to the same merge pack', async () => {
    const c = cluster(4);
    await deposit(c, 0, 100);
    await c.settle();
    await withdraw(c, 0, 10); // branch a
    await withdraw(c, 1, 20); // branch b
    await deposit(c, 2, 5); // branch c
    // r3 receives the three branches before any merge exists and resolves {a, b, c} at once.
    for (const from of [0, 1, 2]) await c.copiers[from]![3]!.sync();
    expect(await c.stores[3]!.heads(ref)).toHaveLength(3);
    const atOnce = await c.runtimes[3]!.resolve(ref);
    expect(atOnce.headsMerged).toBe(3);
    // r0 merges {a, b} first, then c.
    await c.replicators[1]![0]!.sync();
    const [ab] = await c.stores[0]!.heads(ref);
    expect(ab!.kind).toBe('merge');
    expect(ab!.parents).toHaveLength(2);
    await c.copiers[2]![0]!.sync();
    expect(await c.stores[0]!.heads(ref)).toHaveLength(2);
    await c.runtimes[0]!.resolve(ref);
    const [grouped] = await c.stores[0]!.heads(ref);
    const [direct] = await c.stores[3]!.heads(ref);
    expect(grouped).toEqual(direct);
    expect(await state(c, 0)).toEqual(await state(c, 3));
    await c.settle();
    await expectConverged(c);
  });

  it('a merge that diverges again before it has spread still converges', async () => {
    const c = cluster(2);
    await deposit(c, 0, 50);
    await c.settle();
    await withdraw(c, 0, 5);
    await withdraw(c, 1, 7);
    await c.replicators[1]![0]!.sync(); // r0 merges; r1 does not know yet
    expect((await c.stores[0]!.heads(ref))[0]!.kind).toBe('merge');
    await deposit(c, 0, 1); // on top of the merge
    await deposit(c, 1, 2); // on top of r1's own branch
    await c.settle();
    await expectConverged(c);
    expect((await state(c, 0)).balance).toBe(50 - 5 - 7 + 1 + 2);
  });

  it('keeps causes before effects when a clock steps back or lags far behind', async () => {
    const c = cluster(2, { skewMs: [0, -3_600_000] }); // r1 is an hour behind
    await deposit(c, 0, 10);
    c.clocks[0]!.advance(-10_000); // r0 steps back 10 s
    await deposit(c, 0, 20);
    await c.settle();
    await withdraw(c, 1, 25); // r1 acts on what it saw, with a clock an hour behind
    await deposit(c, 0, 1); // concurrent with r1's withdrawal
    await c.settle();
    await expectConverged(c);
    const packs = await c.allPacks(0, ref);
    for (const pack of packs) {
      for (const parent of pack.parents) {
        const p = packs.find((q) => VC.encode(q.version) === VC.encode(parent))!;
        expect(pack.ts).toBeGreaterThan(p.ts);
      }
    }
    // The withdrawal must replay after the deposits it depended on, or it would overdraw.
    expect((await state(c, 0)).overdrawn).toBe(0);
    expect((await state(c, 0)).balance).toBe(6);
  });

  it('compensates double spending with onMerge, once', async () => {
    const c = cluster(3);
    await deposit(c, 0, 10);
    await c.settle();
    expect((await withdraw(c, 0, 8)).status).toBe('accepted');
    expect((await withdraw(c, 1, 8)).status).toBe('accepted');
    await c.settle();
    await expectConverged(c);
    const s = await state(c, 2);
    expect(s.balance).toBe(-6);
    expect(s.overdrawn).toBe(6);
    const compensations = (await c.allPacks(2, ref)).flatMap((p) => p.events).filter((e) => e.type === 'overdraft');
    expect(compensations).toHaveLength(1);
  });

  it('merges actors created concurrently on both sides (no common ancestor)', async () => {
    const c = cluster(2);
    await deposit(c, 0, 1);
    await deposit(c, 1, 2);
    await c.copiers[1]![0]!.sync();
    const outcome = await computeMerge(c.stores[0]!, Ledger, ref, await c.stores[0]!.heads(ref));
    expect(outcome.ancestor).toBeUndefined();
    expect((outcome.state as LedgerState).balance).toBe(3);
    await c.settle();
    await expectConverged(c);
  });

  it('drops the second application of a command id accepted at two replicas', async () => {
    const c = cluster(2);
    await deposit(c, 0, 1);
    await c.settle();
    const first = await deposit(c, 0, 7, 'retry-me');
    const second = await deposit(c, 1, 7, 'retry-me'); // the client timed out and retried elsewhere
    expect(first.status === 'accepted' && !first.duplicate).toBe(true);
    expect(second.status === 'accepted' && !second.duplicate).toBe(true);
    await c.settle();
    await expectConverged(c);
    expect((await state(c, 0)).balance).toBe(8);
    const third = await deposit(c, 1, 7, 'retry-me');
    expect(third).toMatchObject({ status: 'accepted', duplicate: true });
    expect((await state(c, 1)).balance).toBe(8);
  });

  it('is idempotent: the same heads give the same pack on every replica and twice', async () => {
    const c = cluster(2);
    await deposit(c, 0, 3);
    await deposit(c, 1, 4);
    await c.copiers[1]![0]!.sync();
    await c.copiers[0]![1]!.sync();
    const a = await computeMerge(c.stores[0]!, Ledger, ref, await c.stores[0]!.heads(ref));
    const b = await computeMerge(c.stores[1]!, Ledger, ref, await c.stores[1]!.heads(ref));
    const again = await computeMerge(c.stores[0]!, Ledger, ref, await c.stores[0]!.heads(ref));
    expect(b.pack).toEqual(a.pack);
    expect(again.pack).toEqual(a.pack);
    await c.runtimes[0]!.resolve(ref);
    await c.runtimes[1]!.resolve(ref);
    const packs0 = await c.allPacks(0, ref);
    expect((await c.stores[1]!.merge(packs0)).added).toBe(0);
  });

  it('reads only snapshots and the packs after the common ancestor (I6), on the writer and on a copy', async () => {
    /**
     * `history` shared commands, then 3 concurrent ones on r0 and r1; resolves at r0 (the writer)
     * or r2 (a replica that only ever received packs). Returns the packs read.
     */
    async function resolveCost(history: number, at: 0 | 2): Promise<number> {
      const stores = [new CountingStore(), new CountingStore(), new CountingStore()];
      const runtimes = stores.map((store, i) => createRuntime({ actors: [Ledger], store, replicaId: `r${i}` }));
      for (let i = 0; i < history; i++) await runtimes[0]!.send(ref, { type: 'deposit', payload: { n: 1 } });
      await new Replicator(runtimes[0]!, runtimes[1]!).sync();
      for (let i = 0; i < 3; i++) {
        await runtimes[0]!.send(ref, { type: 'deposit', payload: { n: 1 } });
        await runtimes[1]!.send(ref, { type: 'deposit', payload: { n: 1 } });
      }
      if (at === 0) await new Replicator(runtimes[1]!, runtimes[0]!, { resolve: false }).sync();
      else for (const from of [0, 1]) await new Replicator(runtimes[from]!, runtimes[2]!, { resolve: false }).sync();
      const store = stores[at]!;
      store.packsRead = 0;
      const outcome = await computeMerge(store as EventStore, Ledger, ref, await store.heads(ref));
      expect((outcome.state as LedgerState).balance).toBe(history + 6);
      expect(outcome.packsVisited).toBe(6);
      await Promise.all(runtimes.map((r) => r.stop()));
      return store.packsRead;
    }
    for (const at of [0, 2] as const) {
      const small = await resolveCost(20, at);
      const large = await resolveCost(400, at);
      // Ledger snapshots every 4 events: the chain to the ancestor's state is at most 3 packs.
      expect(large, `replica ${at}`).toBeLessThanOrEqual(6 + 3 + 2);
      expect(large, `replica ${at}`).toBeLessThanOrEqual(small + 4);
    }
  });

  it('reduces merge heads to the command heads they stand for', async () => {
    const c = cluster(3);
    await deposit(c, 0, 1);
    await deposit(c, 1, 1);
    await deposit(c, 2, 1);
    await c.copiers[1]![0]!.sync();
    await c.runtimes[0]!.resolve(ref);
    await c.copiers[2]![0]!.sync();
    const heads = await c.stores[0]!.heads(ref);
    expect(heads.map((h) => h.kind).sort()).toEqual(['command', 'merge']);
    const flat = await commandHeads(c.stores[0]!, ref, heads);
    expect(flat.map((p) => VC.encode(p.version))).toEqual(['r0:1', 'r1:1', 'r2:1']);
  });
});

describe('divergence resolution: what it must not depend on, and handlers that throw', () => {
  const start = runtimesStoppedAfterEach();

  // R2: replicas with the same machine id can write events with equal ids; a merge must keep both.
  it('loses no event in a merge when two replicas got the same default machine id (region-0 / region-39)', async () => {
    expect(machineIdFor('region-0')).toBe(machineIdFor('region-39'));
    const clock = new ManualClock();
    const a = start({ actors: [Ledger], replicaId: 'region-0', clock, store: new MemoryStore() });
    const b = start({ actors: [Ledger], replicaId: 'region-39', clock, store: new MemoryStore() });
    const link = new ReplicationLink(a, b);
    link.partition();
    await a.send(ref, { type: 'deposit', payload: { n: 1 }, commandId: 'A' });
    await b.send(ref, { type: 'deposit', payload: { n: 2 }, commandId: 'B' });
    link.heal();
    await link.settle();
    const [va, vb] = [await a.inspect<LedgerState>(ref), await b.inspect<LedgerState>(ref)];
    expect(va.state.balance).toBe(3);
    expect(vb).toEqual(va);
  });

  // R9: the error of a handler that threw during a replay did not say which handler or why it matters.
  it('an event handler that throws while replaying a merge blocks the resolution with an InvalidDefinitionError naming it', async () => {
    const Strict = defineActor({
      type: 'strict',
      initial: () => ({ balance: 0 }),
      commands: {
        deposit: (_s, p: { n: number }) => [{ type: 'deposited', data: { n: p.n } }],
        withdraw: (s, p: { n: number }) => (s.balance >= p.n ? [{ type: 'withdrew', data: { n: p.n } }] : reject('no')),
      },
      events: {
        deposited: (s: { balance: number }, d: { n: number }) => ({ balance: s.balance + d.n }),
        withdrew: (s: { balance: number }, d: { n: number }) => {
          if (s.balance < d.n) throw new Error('invariant: balance would go negative');
          return { balance: s.balance - d.n };
        },
      },
    });
    const clock = new ManualClock();
    const r0 = start({ actors: [Strict], replicaId: 'r0', machineId: 0, clock, store: new MemoryStore() });
    const r1 = start({ actors: [Strict], replicaId: 'r1', machineId: 1, clock, store: new MemoryStore() });
    const link = new ReplicationLink(r0, r1);
    const x = Strict.ref('x');
    await r0.send(x, { type: 'deposit', payload: { n: 10 } });
    await link.settle();
    link.partition();
    await r0.send(x, { type: 'withdraw', payload: { n: 8 } });
    await r1.send(x, { type: 'withdraw', payload: { n: 8 } });
    link.heal();
    // Event handlers must accept any state: a merge replays branches on states no branch saw.
    await expect(link.settle()).rejects.toThrow(/'withdrew' handler of 'strict' threw .* event handlers must accept any state/);
    const error = await r1.send(x, { type: 'deposit', payload: { n: 100 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidDefinitionError);
    expect(error).toMatchObject({ code: 'INVALID_DEFINITION' });
  });
});
