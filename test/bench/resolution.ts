import { type ActorRef, type EventStore, MemoryStore, type Pack, Replicator } from '@troupe/runtime';
import { commandPack, FlakeIdSource, VC } from '@troupe/runtime/store';
import { computeMerge, fold } from '@troupe/runtime/resolution';
import { ManualClock } from '@troupe/runtime/testkit';
import { Bench } from 'tinybench';
import { Counter, type CounterState } from './counter.js';
import { collectGarbage, type Summary, summarize } from './stats.js';

export interface ResolutionOptions {
  /** History lengths (events before the common ancestor) to compare; the first is the baseline. */
  readonly histories: readonly number[];
  /** Events each replica writes after the common ancestor. */
  readonly divergence: number;
  /** Interleaved tinybench passes over all cases. */
  readonly passes: number;
  /** tinybench time budget per task and pass, ms. */
  readonly timeMs: number;
  /** Minimum iterations per task and pass (a case slower than timeMs runs exactly this many). */
  readonly iterations: number;
}

export type ReplicaRole = 'origin' | 'copy';

export interface ResolutionCase {
  readonly history: number;
  readonly role: ReplicaRole;
  /** ms per resolution (heads() + computeMerge), pooled over passes. */
  readonly ms: Summary;
  readonly rmePercent: readonly number[];
  /** Packs findDivergence read after the ancestor (should equal 2 x divergence). */
  readonly packsVisited: number;
  /** Packs loadChain read to rebuild the ancestor's state (0 when a snapshot sits at the ancestor). */
  readonly ancestorChainPacks: number;
  /** Whether the ancestor's state came from a snapshot (or merge pack) rather than a replay from the first event. */
  readonly ancestorFromSnapshot: boolean;
  readonly mergedValue: number;
  readonly expectedValue: number;
}

export interface ResolutionResults {
  readonly divergence: number;
  readonly snapshotEvery: number;
  readonly cases: readonly ResolutionCase[];
  /** Per role: median(longest history) / median(shortest history), and per-pass ratios. */
  readonly ratios: Record<ReplicaRole, { readonly ratio: number; readonly passRatios: readonly number[]; readonly longest: number; readonly shortest: number }>;
  /** Time to build each history (both stores), s. */
  readonly buildSeconds: Record<string, number>;
  readonly rssMiBAfterBuild: number;
}

/**
 * Writes commands the way the runtime's Entity does (decide, hybrid ts, flake ids, one pack per
 * command, conditional append on the head, a snapshot whenever `snapshotEvery` events have
 * accumulated since the last one) but without mailboxes or promises per command, so a 100k-event
 * history takes a second or two instead of a minute.
 */
class Writer {
  private readonly ids: FlakeIdSource;
  private seq = 0;
  constructor(
    readonly store: EventStore,
    readonly actor: ActorRef,
    readonly replica: string,
    readonly clock: ManualClock,
    machineId: number,
    public head: Pack | undefined,
    public state: CounterState,
    /** Events since the last snapshot on this store's chain (a runtime loading the head sets it to the chain length). */
    public sinceSnapshot: number,
  ) {
    this.ids = new FlakeIdSource({ machineId, clock });
  }

  async write(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      this.clock.advance(1);
      const now = this.clock.now();
      const commandId = `${this.replica}-${this.seq++}`;
      const emitted = Counter.commands.add(this.state, { by: 1 }, { actor: this.actor, commandId, now, replica: this.replica });
      if (!Array.isArray(emitted)) throw new Error('counter rejected a command');
      const pack = commandPack({ actor: this.actor, head: this.head, replica: this.replica, commandId, now, ids: this.ids, emitted });
      const events = pack.events;
      const state = fold(Counter, this.state, events) as CounterState;
      const snapshotDue = this.sinceSnapshot + events.length >= Counter.snapshotEvery;
      await this.store.append(pack, this.head ? [VC.encode(this.head.version)] : [], snapshotDue ? { version: pack.version, state } : undefined);
      this.head = pack;
      this.state = state;
      this.sinceSnapshot = snapshotDue ? 0 : this.sinceSnapshot + events.length;
    }
  }
}

/** A one-way copy of a store's log, as a Replicator does it, without resolving at the target. */
function copier(from: EventStore, to: EventStore, cursor?: string): Replicator {
  const endpoint = (store: EventStore) => ({ store, resolve: async () => undefined });
  return new Replicator(endpoint(from), endpoint(to), { resolve: false, batchSize: 2_000, ...(cursor === undefined ? {} : { cursor }) });
}

interface Diverged {
  readonly history: number;
  readonly stores: Record<ReplicaRole, MemoryStore>;
  readonly actor: ActorRef;
}

/**
 * Replica 'a' writes `history` events (snapshots every 100 as the runtime would), replica 'b'
 * receives them through the replication log (with the snapshots written with them), then both write `divergence` more events during a partition, then the partition heals
 * and each store receives the other's branch. Both stores end with the same two heads.
 */
export async function buildDiverged(history: number, divergence: number): Promise<Diverged> {
  const actor: ActorRef = { type: Counter.type, id: `h${history}` };
  const clock = new ManualClock(1_700_000_000_000);
  const origin = new MemoryStore();
  const copy = new MemoryStore();
  const a = new Writer(origin, actor, 'a', clock, 1, undefined, Counter.initial(), 0);
  await a.write(history);
  const originToCopy = copier(origin, copy);
  await originToCopy.sync();
  const copyToOrigin = copier(copy, origin, String(copy.packCount));
  // Replica b continues from the copied head; having loaded it by replaying the chain, the runtime
  // would count the whole chain as "since the last snapshot".
  const copyChain = await copy.loadChain(actor, VC.encode(a.head!.version));
  const b = new Writer(copy, actor, 'b', clock, 2, a.head, a.state, copyChain.packs.reduce((n, p) => n + p.events.length, 0));
  await a.write(divergence);
  await b.write(divergence);
  await originToCopy.sync();
  await copyToOrigin.sync();
  for (const store of [origin, copy]) {
    const heads = await store.heads(actor);
    if (heads.length !== 2) throw new Error(`expected 2 heads after the heal, got ${heads.length}`);
  }
  return { history, stores: { origin, copy }, actor };
}

async function resolveOnce(store: EventStore, actor: ActorRef) {
  const heads = await store.heads(actor);
  return computeMerge(store, Counter, actor, heads);
}

export async function benchResolution(o: ResolutionOptions): Promise<ResolutionResults> {
  const buildSeconds: Record<string, number> = {};
  const built: Diverged[] = [];
  for (const history of o.histories) {
    const start = performance.now();
    built.push(await buildDiverged(history, o.divergence));
    buildSeconds[String(history)] = (performance.now() - start) / 1000;
  }
  collectGarbage();
  const rssMiBAfterBuild = process.memoryUsage().rss / 2 ** 20;

  const roles: ReplicaRole[] = ['origin', 'copy'];
  const samples = new Map<string, number[]>();
  const rme = new Map<string, number[]>();
  const passMedians = new Map<string, number[]>();
  const keyOf = (history: number, role: ReplicaRole) => `${role}:${history}`;

  for (let pass = 0; pass < o.passes; pass++) {
    for (const d of built) {
      for (const role of roles) {
        const key = keyOf(d.history, role);
        const store = d.stores[role];
        // One Bench per case so a slow case runs `iterations` times instead of filling `timeMs`
        // many times over: tinybench runs until both its time budget and its iteration minimum are met.
        const bench = new Bench({ time: o.timeMs, iterations: o.iterations, warmupIterations: 2, warmupTime: 0, retainSamples: true, throws: true });
        bench.add(key, async () => {
          await resolveOnce(store, d.actor);
        });
        await bench.run();
        const result = bench.tasks[0]!.result;
        if (result.state !== 'completed') throw new Error(`resolution task ${key} ended ${result.state}`);
        const ms = [...(result.latency.samples ?? [])];
        samples.set(key, [...(samples.get(key) ?? []), ...ms]);
        rme.set(key, [...(rme.get(key) ?? []), result.latency.rme]);
        passMedians.set(key, [...(passMedians.get(key) ?? []), summarize(ms).median]);
      }
    }
  }

  const cases: ResolutionCase[] = [];
  for (const d of built) {
    for (const role of roles) {
      const store = d.stores[role];
      const outcome = await resolveOnce(store, d.actor);
      const chain = await store.loadChain(d.actor, VC.encode(outcome.ancestor!.version));
      const key = keyOf(d.history, role);
      cases.push({
        history: d.history,
        role,
        ms: summarize(samples.get(key)!),
        rmePercent: rme.get(key)!,
        packsVisited: outcome.packsVisited,
        ancestorChainPacks: chain.packs.length,
        ancestorFromSnapshot: chain.base !== undefined,
        mergedValue: (outcome.state as CounterState).value,
        expectedValue: d.history + 2 * o.divergence,
      });
    }
  }
  const shortest = o.histories[0]!;
  const longest = o.histories[o.histories.length - 1]!;
  const ratios = {} as ResolutionResults['ratios'];
  for (const role of roles) {
    const lo = cases.find((c) => c.role === role && c.history === shortest)!;
    const hi = cases.find((c) => c.role === role && c.history === longest)!;
    const loPass = passMedians.get(keyOf(shortest, role))!;
    const hiPass = passMedians.get(keyOf(longest, role))!;
    ratios[role] = { ratio: hi.ms.median / lo.ms.median, passRatios: hiPass.map((h, i) => h / loPass[i]!), longest, shortest };
  }
  return { divergence: o.divergence, snapshotEvery: Counter.snapshotEvery, cases, ratios, buildSeconds, rssMiBAfterBuild };
}
