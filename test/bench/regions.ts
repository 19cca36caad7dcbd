/**
 * Region-to-region replication (#15 item 9), between two throw-away redis-servers on free ports
 * (`RedisServer` of `@troupe/redis/testing`), one RedisStore each, every figure next to a baseline
 * measured in the same run:
 *
 * 1. throughput: a full copy of N bank-account packs from the source region's store into an empty
 *    target store by the `Replicator` (what `troupe replicate` runs: `changesSince` on the source,
 *    `merge` on the target, the heads of every actor copied checked, the checkpoint saved per
 *    batch), vs a raw pipelined copy of the same bytes with plain ioredis (LRANGE of the shard logs,
 *    HGET of the packs, HSET + RPUSH at the target, nothing decoded); time per phase of the troupe
 *    side and Redis server time (INFO commandstats of both servers: nobody else talks to them);
 * 2. convergence after a heal vs the number of diverged actors: K accounts opened and funded in
 *    region A and replicated to B, then a partition during which each region withdraws (a double
 *    spend: the merge compensates it) and deposits on every account, then both directions
 *    replicate and resolve until nothing moves; checked: one head per actor in both regions, the
 *    same version, the overdraft compensation in it;
 * 3. replication lag under a steady load: a Runtime in region A executes deposits at a fixed rate
 *    while region B's `RegionReplication` copies A into B (or, on a RedisStore without RegionLog,
 *    its loop by hand: sync, then the idle wait when a sync copied nothing); lag of a pack = when
 *    B's `merge` of it returned minus when its append at A was acknowledged (also reported: until
 *    the batch callback, after heads checks, checkpoint and frontier entry). Baseline: a raw
 *    polling copy of the same log (plain ioredis, the same idle rule) running at the same time
 *    into the same target server, lag measured when its write pipeline returned.
 *
 * Needs `redis-server` on the PATH; without it the scenario is skipped (loud line, fails under CI=true).
 */
import { Account, type AccountEvents } from '@troupe/bank';
import { connectRedisStore, type RedisStore } from '@troupe/redis';
import { RedisServer } from '@troupe/redis/testing';
import { type ActorRef, createRuntime, type RegionLog, RegionReplication, Replicator, type ReplicaEndpoint, type SyncReport } from '@troupe/runtime';
import { type ActorSnapshot, actorKey, commandPack, decodePack, encodePack, FlakeIdSource, isRegionLog, type MergeReport, type Pack, VC } from '@troupe/runtime/store';
import { ManualClock } from '@troupe/runtime/testkit';
import { Redis } from 'ioredis';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { type Chart, compact, lineChart } from './plot.js';
import { collectGarbage, settle, type Summary, summarize } from './stats.js';

export interface RegionsOptions {
  readonly throughput: {
    /** Packs in the source region: `actors` accounts x (N / actors) packs each, interleaved in the log. */
    readonly packs: number;
    readonly actors: number;
    /** Measured rounds per batch size, each a troupe copy and a raw copy (order alternating); one unrecorded warm-up round first. */
    readonly rounds: number;
    /** Replicator batch sizes compared (the default, 500, first: the one with the goal). */
    readonly batchSizes: readonly number[];
  };
  readonly convergence: {
    /** Diverged actors per point. */
    readonly actors: readonly number[];
  };
  readonly lag: {
    /** Commands per second the writer sends in region A (an open loop: a tick every 10 ms). */
    readonly rate: number;
    readonly seconds: number;
    /** Accounts the deposits are spread over. */
    readonly actors: number;
    /** Idle waits of the replication loop measured (one phase each). */
    readonly idleMs: readonly number[];
  };
}

/** Diverged actors of the unrecorded convergence point run first. */
const convergenceWarmUpActors = 200;

/** Heads calls timed apart after each troupe copy, for the server time of one (the first packs are of distinct accounts). */
const headsProbeCalls = 1_000;

/** The replicator's default batch size (`ReplicatorOptions.batchSize`), the one the goal is set for. */
export const defaultBatchSize = 500;

export interface CopyPhases {
  /**
   * ms per round spent in each store call. Since 77e8af4 the Replicator reads the next batch while
   * it merges this one, so `changesSinceMs` overlaps `mergeMs`; `changesSinceExposedMs` is the part
   * no merge covered (what the copy waited for the read alone). Merge, heads and checkpoint calls
   * are awaited one after another.
   */
  readonly changesSinceMs: Summary;
  readonly changesSinceExposedMs: Summary;
  readonly mergeMs: Summary;
  readonly headsMs: Summary;
  /** ms per round of checkpoint saves; `checkpointExposedMs` is the part no merge or heads call covered (all of it while the Replicator awaits each save before the next merge). */
  readonly checkpointMs: Summary;
  readonly checkpointExposedMs: Summary;
  /** The copy's wall time minus the time some store call was in flight: the replicator's own work between calls. */
  readonly otherMs: Summary;
  /** Actors the merges reported diverged (`MergeReport.diverged`, summed over the copy; -1: the store did not report them). */
  readonly divergedReported: number;
  /** Client-side work inside them, measured apart on the same packs: decodePack of every pack read, encodePack of every pack merged, ms. */
  readonly decodeMs: number;
  readonly encodeMs: number;
  /** Redis server time per round (INFO commandstats of both servers), ms, by command. */
  readonly serverMs: Readonly<Record<string, number>>;
  readonly serverRawMs: Readonly<Record<string, number>>;
  /** Round trips per round: store calls of the troupe side, pipelines of the raw side. */
  readonly troupeCalls: Readonly<Record<string, number>>;
  /** Server time of one heads script call, µs (measured apart after each copy: EVALSHA counts merge and heads scripts together). */
  readonly headsServerUs: Summary;
  /** CPU time of this Node process (user + system) per copy, ms: the client's share of the wall time. */
  readonly clientCpuMs: { readonly troupe: Summary; readonly raw: Summary };
}

export interface ThroughputFigure {
  readonly batchSize: number;
  /** packs/s, per round. */
  readonly troupe: Summary;
  readonly raw: Summary;
  /** troupe / raw, per round. */
  readonly ratio: Summary;
  readonly phases: CopyPhases;
}

export interface ConvergencePoint {
  readonly actors: number;
  /** Packs each region wrote during the partition. */
  readonly packsPerRegion: number;
  /** From the heal to the end of the round in which nothing moved, ms. */
  readonly healMs: number;
  readonly msPerActor: number;
  /** Packs copied each way, merges written by each region (a merge both wrote is the same pack: copied once, skipped). */
  readonly copied: { readonly aToB: number; readonly bToA: number };
  readonly resolved: { readonly a: number; readonly b: number };
  /** Sync rounds of the settle (both directions concurrently in each). */
  readonly rounds: number;
  /** Store calls during the heal, both regions together, per diverged actor: how many, and their ms (awaited calls of one region run one after another). */
  readonly storeCallsPerActor: Readonly<Record<string, { readonly calls: number; readonly ms: number }>>;
  /** Setup (opening, replicating before the cut, writes during it): not measured, s. */
  readonly setupSeconds: number;
  /** The check after the heal (one head per actor in both regions, same version, the compensation in it), s. */
  readonly checkSeconds: number;
}

export interface LagPhase {
  readonly idleMs: number;
  /** What copied for troupe: the service itself, or a loop of Replicator.sync() + idle wait (RedisStore without RegionLog). */
  readonly copier: 'RegionReplication' | 'Replicator loop';
  readonly commands: number;
  readonly achievedRate: number;
  /** Lag per pack, ms: until B's merge of it returned (troupe), until the raw copy's write pipeline did (raw). */
  readonly troupe: LagStats;
  readonly raw: LagStats;
  /** Until troupe's batch callback ran: after the batch's heads checks, its checkpoint (and, for the service, its backlog and frontier entry). */
  readonly troupeBatch: LagStats;
  /** Batches troupe merged, syncs it ran (a sync copies until caught up), polls of the raw copy. */
  readonly batches: number;
  readonly syncs: number;
  readonly rawPolls: number;
}

export interface LagStats {
  readonly n: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly min: number;
}

export interface RegionsResults {
  readonly skipped: false;
  readonly redisVersion: string;
  readonly samplePackBytes: number;
  readonly throughput: {
    readonly packs: number;
    readonly actors: number;
    readonly rounds: number;
    readonly setupSeconds: number;
    /** The Replicator's default batch size (the figure the goal is for). */
    readonly defaultBatchSize: number;
    readonly figures: readonly ThroughputFigure[];
  };
  readonly convergence: readonly ConvergencePoint[];
  readonly lag: { readonly rate: number; readonly seconds: number; readonly actors: number; readonly phases: readonly LagPhase[] };
}

export interface RegionsSkipped {
  readonly skipped: true;
  readonly reason: string;
}

// ---------------------------------------------------------------------------------------------
// Bank packs, built as a runtime in that region builds them (one pack per command, hybrid ts,
// flake ids, `<region>.<id>` command ids), without the runtime's round trips.

export type Emitted = { [K in keyof AccountEvents]: { type: K; data: AccountEvents[K] } }[keyof AccountEvents];

export class RegionWriter {
  private readonly clock: ManualClock;
  private readonly ids: FlakeIdSource;
  constructor(
    readonly region: string,
    machineId: number,
  ) {
    this.clock = new ManualClock(1_790_000_000_000);
    this.ids = new FlakeIdSource({ machineId, clock: this.clock });
  }

  pack(actor: ActorRef, head: Pack | undefined, event: Emitted): Pack {
    this.clock.advance(1);
    const commandId = `${this.region}.${this.ids.next()}`;
    return commandPack({ actor, head, replica: this.region, commandId, now: this.clock.now(), ids: this.ids, emitted: [event] });
  }
}

const account = (i: number): ActorRef => Account.ref(`acct-${String(i).padStart(7, '0')}`);

/** The k-th command of a busy account after it opened: deposits and withdrawals, amounts in cents. */
function activity(k: number): Emitted {
  return k % 3 === 2 ? { type: 'withdrew', data: { amount: 500 + ((k * 37) % 400) } } : { type: 'deposited', data: { amount: 1_000 + ((k * 7919) % 90_000) } };
}

/**
 * `actors` accounts x `perActor` packs (opened, then activity), in log order as many clients
 * would write them: the first pack of every account, then the second of every account, ... (so
 * a batch of the log touches as many accounts as it has packs).
 */
export function accountPacks(writer: RegionWriter, actors: number, perActor: number): Pack[] {
  const heads: (Pack | undefined)[] = new Array(actors);
  const packs: Pack[] = [];
  for (let k = 0; k < perActor; k++) {
    for (let i = 0; i < actors; i++) {
      const event: Emitted = k === 0 ? { type: 'opened', data: { owner: `Owner ${i}` } } : activity(k);
      const pack = writer.pack(account(i), heads[i], event);
      heads[i] = pack;
      packs.push(pack);
    }
  }
  return packs;
}

export async function mergeAll(store: RedisStore, packs: readonly Pack[], chunk = 2_000): Promise<void> {
  for (let i = 0; i < packs.length; i += chunk) await store.merge(packs.slice(i, i + chunk));
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** A store call's time and count, summed: a wrapper around the store object (the methods run on the real store). */
export class CallTimes {
  readonly ms = new Map<string, number>();
  readonly calls = new Map<string, number>();
  /** Each call's [start, end], per method, when `spans` is on: calls of different methods may overlap (the replicator reads ahead while it merges). */
  readonly spans = new Map<string, [number, number][]>();
  constructor(
    private readonly options: { readonly spans?: boolean; readonly onResult?: (method: string, result: unknown) => void } = {},
  ) {}
  wrap<T extends object>(target: T, methods: readonly string[]): T {
    return new Proxy(target, {
      get: (t, name, receiver) => {
        const value = Reflect.get(t, name, receiver) as unknown;
        if (typeof name !== 'string' || !methods.includes(name) || typeof value !== 'function') return typeof value === 'function' ? value.bind(t) : value;
        return async (...args: unknown[]) => {
          const start = performance.now();
          try {
            const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(t, args);
            this.options.onResult?.(name, result);
            return result;
          } finally {
            const end = performance.now();
            this.ms.set(name, (this.ms.get(name) ?? 0) + end - start);
            this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
            if (this.options.spans) (this.spans.get(name) ?? this.spans.set(name, []).get(name)!).push([start, end]);
          }
        };
      },
    });
  }

  /** ms during which a call of one of `methods` was in flight (the union of their spans). */
  busyMs(methods: readonly string[]): number {
    const spans = methods.flatMap((m) => this.spans.get(m) ?? []).sort((a, b) => a[0] - b[0]);
    let total = 0;
    let end = Number.NEGATIVE_INFINITY;
    for (const [s, e] of spans) {
      if (e <= end) continue;
      total += e - Math.max(s, end);
      end = e;
    }
    return total;
  }

  /** ms of `method`'s calls during which no call of `covering` was in flight (what the caller waited for it alone). */
  exposedMs(method: string, covering: readonly string[]): number {
    const cover = covering.flatMap((m) => this.spans.get(m) ?? []).sort((a, b) => a[0] - b[0]);
    let total = 0;
    for (const [start, end] of this.spans.get(method) ?? []) {
      let at = start;
      let hidden = 0;
      for (const [cs, ce] of cover) {
        if (ce <= at) continue;
        if (cs >= end) break;
        hidden += Math.min(ce, end) - Math.max(cs, at);
        at = Math.max(at, Math.min(ce, end));
      }
      total += end - start - hidden;
    }
    return total;
  }
}

/** usec per command of a redis-server (INFO commandstats), to diff around a phase. */
export async function commandUsec(client: Redis): Promise<Map<string, number>> {
  const info = await client.info('commandstats');
  const usec = new Map<string, number>();
  for (const line of info.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=\d+,usec=(\d+)/.exec(line.trim());
    if (m) usec.set(m[1]!, Number(m[2]));
  }
  return usec;
}

export function usecDelta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [command, usec] of after) {
    const d = usec - (before.get(command) ?? 0);
    if (d > 0 && command !== 'info') out[command] = d / 1000;
  }
  return out;
}

function addInto(sum: Record<string, number[]>, part: Record<string, number>): void {
  for (const [k, v] of Object.entries(part)) (sum[k] ??= []).push(v);
}

const medians = (sums: Record<string, number[]>): Record<string, number> =>
  Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, Math.round(summarize(v).median * 10) / 10]));

const rounded = (r: Record<string, { calls: number; ms: number }>) =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, { calls: Math.round(v.calls * 100) / 100, ms: Math.round(v.ms * 1000) / 1000 }]));

const cpuMillis = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function lagStats(values: readonly number[]): LagStats {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
  return { n: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1] ?? Number.NaN, min: sorted[0] ?? Number.NaN };
}

/** An endpoint that is only ever read from (a source is never resolved from the target's side). */
const sourceEndpoint = (store: RedisStore): ReplicaEndpoint => ({ store, resolve: () => Promise.reject(new Error('a source region is never resolved from here')) });

/** The store's end of log, as a cursor: read through it once (what a replicator that copied everything would hold). */
async function endCursor(store: RedisStore): Promise<string | undefined> {
  let cursor: string | undefined;
  for (;;) {
    const changes = await store.changesSince(cursor, 5_000);
    if (changes.packs.length === 0) return cursor ?? changes.cursor;
    cursor = changes.cursor;
  }
}

// ---------------------------------------------------------------------------------------------
// The raw copy: the same bytes, plain ioredis, nothing decoded.

interface RawCopyReport {
  readonly packs: number;
  readonly pipelines: number;
}

/**
 * Copies every shard log of `source` (prefix `sourcePrefix`, `shards` logs) from the source
 * server to the target server under `targetPrefix`: per page of `batchSize` log entries, LRANGE,
 * one pipeline of HGET (the pack hash fields the entries name), one pipeline of HSET + RPUSH at
 * the target. The log entry is parsed (JSON) only to name the pack's hash key; the pack bytes are
 * copied as they are. `from` gives each shard's start offset and is moved forward.
 */
export async function rawCopy(src: Redis, dst: Redis, keysOf: (actor: ActorRef) => { packs: string }, logKey: (shard: number) => string, targetPrefix: string, from: number[], batchSize: number, visible?: (entries: readonly string[]) => void): Promise<RawCopyReport> {
  let packs = 0;
  let pipelines = 0;
  const lengths = (await src.pipeline(from.map((_, shard) => ['llen', logKey(shard)])).exec())!.map(([error, n]) => {
    if (error) throw error;
    return Number(n);
  });
  pipelines++;
  for (let shard = 0; shard < from.length; shard++) {
    while (from[shard]! < lengths[shard]!) {
      const start = from[shard]!;
      const end = Math.min(lengths[shard]!, start + batchSize) - 1;
      const entries = await src.lrangeBuffer(logKey(shard), start, end);
      pipelines++;
      const named = entries.map((entry) => {
        const [type, id, version] = JSON.parse(String(entry)) as [string, string, string, number];
        return { key: keysOf({ type, id }).packs, version, entry };
      });
      const read = src.pipeline();
      for (const e of named) read.hgetBuffer(e.key, e.version);
      const bytes = (await read.exec())!;
      pipelines++;
      const write = dst.pipeline();
      named.forEach((e, i) => {
        const [error, value] = bytes[i]!;
        if (error || !value) throw new Error(`raw copy: ${e.key} ${e.version} not found`);
        write.hset(`${targetPrefix}:${e.key}`, e.version, value as Buffer);
      });
      write.rpush(`${targetPrefix}:log:${shard}`, ...named.map((e) => e.entry));
      for (const [error] of (await write.exec())!) if (error) throw error;
      pipelines++;
      visible?.(named.map((e) => `${e.key}@${e.version}`));
      packs += entries.length;
      from[shard] = end + 1;
    }
  }
  return { packs, pipelines };
}

// ---------------------------------------------------------------------------------------------

/** Two throw-away redis-servers (regions A and B) and an admin client of each, for `fn`; destroyed after. */
interface Regions {
  readonly serverA: RedisServer;
  readonly serverB: RedisServer;
  readonly admin: readonly [Redis, Redis];
  readonly redisVersion: string;
}

async function withRegions<T>(fn: (regions: Regions) => Promise<T>): Promise<T | RegionsSkipped> {
  let servers: RedisServer[] = [];
  try {
    servers = [await RedisServer.start(), await RedisServer.start()];
  } catch (error) {
    await Promise.all(servers.map((s) => s.destroy()));
    return { skipped: true, reason: `could not start two redis-servers: ${(error as Error).message}` };
  }
  const [serverA, serverB] = servers as [RedisServer, RedisServer];
  const admin = [new Redis(serverA.url), new Redis(serverB.url)] as const;
  try {
    const redisVersion = /redis_version:(\S+)/.exec(await admin[0].info('server'))?.[1] ?? 'unknown';
    return await fn({ serverA, serverB, admin, redisVersion });
  } finally {
    for (const client of admin) client.disconnect();
    await Promise.all(servers.map((s) => s.destroy()));
  }
}

export function benchRegions(o: RegionsOptions, log: (text: string) => void = () => {}): Promise<RegionsResults | RegionsSkipped> {
  return withRegions(async ({ serverA, serverB, admin, redisVersion }) => {
    log(`regions: redis-server ${redisVersion} on ports ${serverA.port} (region A) and ${serverB.port} (region B)`);
    const throughput = await benchThroughput(o.throughput, serverA, serverB, admin, log);
    collectGarbage();
    const convergence: ConvergencePoint[] = [];
    if (o.convergence.actors.length > 0) {
      // Unrecorded: the first resolutions of a process run cold code (the merge path's JIT).
      await benchConvergence(convergenceWarmUpActors, serverA, serverB, (text) => log(`${text} (warm-up)`));
      collectGarbage();
    }
    for (const actors of o.convergence.actors) {
      convergence.push(await benchConvergence(actors, serverA, serverB, log));
      collectGarbage();
    }
    const lag = await benchLag(o.lag, serverA, serverB, log);
    const sample = accountPacks(new RegionWriter('eu', 1), 1, 3)[2]!;
    return { skipped: false as const, redisVersion, samplePackBytes: encodePack(sample).length, throughput, convergence, lag };
  });
}

// ---------------------------------------------------------------------------------------------
// 1. Throughput

async function benchThroughput(o: RegionsOptions['throughput'], serverA: RedisServer, serverB: RedisServer, admin: readonly [Redis, Redis], log: (text: string) => void): Promise<RegionsResults['throughput']> {
  const started = performance.now();
  const source = await connectRedisStore({ url: serverA.url, prefix: 'tp' });
  const src = new Redis(serverA.url);
  const dst = new Redis(serverB.url);
  try {
    const packs = accountPacks(new RegionWriter('eu', 1), o.actors, Math.ceil(o.packs / o.actors)).slice(0, o.packs);
    await mergeAll(source, packs);
    const setupSeconds = (performance.now() - started) / 1000;
    log(`regions: throughput: ${packs.length.toLocaleString('en-US')} packs over ${o.actors.toLocaleString('en-US')} accounts written to region A in ${setupSeconds.toFixed(1)} s`);
    // Client-side codec work of the copy, measured apart on the same packs (the bytes the store holds).
    // Each timed twice, the second time counted (the first warms the code up).
    const bytes = packs.map((p) => encodePack(p));
    let decodeMs = 0;
    let encodeMs = 0;
    for (let pass = 0; pass < 2; pass++) {
      let t = performance.now();
      for (const b of bytes) decodePack(b, 'bench');
      decodeMs = performance.now() - t;
      t = performance.now();
      for (const p of packs) encodePack(p);
      encodeMs = performance.now() - t;
    }

    const figures: ThroughputFigure[] = [];
    let copyNo = 0;
    for (const [b, batchSize] of o.batchSizes.entries()) {
      const rates = { troupe: [] as number[], raw: [] as number[] };
      const clientCpu = { troupe: [] as number[], raw: [] as number[] };
      const headsServerUs: number[] = [];
      let divergedReported = 0;
      const phases: Record<string, number[]> = {};
      const serverSums: Record<string, number[]> = {};
      const serverRawSums: Record<string, number[]> = {};
      const calls: Record<string, number[]> = {};
      // Round 0, the warm-up, before the first batch size only.
      for (let round = b === 0 ? 0 : 1; round <= o.rounds; round++) {
        const warm = round === 0;
        const order: ('troupe' | 'raw')[] = round % 2 === 0 ? ['raw', 'troupe'] : ['troupe', 'raw'];
        for (const side of order) {
          collectGarbage();
          await settle();
          const prefix = `copy${copyNo++}`;
          const before = await Promise.all(admin.map(commandUsec));
          if (side === 'troupe') {
            const target = await connectRedisStore({ url: serverB.url, prefix });
            const runtime = createRuntime({ actors: [Account], store: target, replicaId: 'us' });
            let diverged = 0;
            let reported = true;
            const times = new CallTimes({
              spans: true,
              onResult: (method, result) => {
                if (method !== 'merge') return;
                const list = (result as MergeReport).diverged;
                if (list === undefined) reported = false;
                else diverged += list.length;
              },
            });
            const replicator = new Replicator(
              { store: times.wrap(source, ['changesSince']), resolve: sourceEndpoint(source).resolve },
              { store: times.wrap(target, ['merge', 'heads']), resolve: (actor) => runtime.resolve(actor) },
              { batchSize, checkpoint: times.wrap(target.checkpoint('from-a'), ['save']) },
            );
            const cpu = process.cpuUsage();
            const start = performance.now();
            const report = await replicator.sync();
            const ms = performance.now() - start;
            const cpuMs = cpuMillis(process.cpuUsage(cpu));
            if (report.copied !== packs.length || report.resolved.length !== 0) throw new Error(`regions throughput: copied ${report.copied} of ${packs.length}, resolved ${report.resolved.length}`);
            const after = await Promise.all(admin.map(commandUsec));
            // The heads checks are a script too (EVALSHA, like merge): their server time per call,
            // measured apart on 1,000 of the accounts copied, splits EVALSHA between the two.
            const probe = await commandUsec(admin[1]);
            for (const p of packs.slice(0, headsProbeCalls)) await target.heads(p.actor);
            const headsUs = (((await commandUsec(admin[1])).get('evalsha') ?? 0) - (probe.get('evalsha') ?? 0)) / headsProbeCalls;
            if (!warm) {
              headsServerUs.push(headsUs);
              rates.troupe.push(packs.length / (ms / 1000));
              clientCpu.troupe.push(cpuMs);
              for (const name of ['changesSince', 'merge', 'heads', 'save']) (phases[name] ??= []).push(times.ms.get(name) ?? 0);
              const exposed = times.exposedMs('changesSince', ['merge', 'heads', 'save']);
              (phases.changesSinceExposed ??= []).push(exposed);
              (phases.saveExposed ??= []).push(times.exposedMs('save', ['merge', 'heads']));
              (phases.other ??= []).push(ms - times.busyMs(['changesSince', 'merge', 'heads', 'save']));
              divergedReported = reported ? Math.max(divergedReported, diverged) : -1;
              addInto(serverSums, prefixed(usecDelta(before[0]!, after[0]!), usecDelta(before[1]!, after[1]!)));
              addInto(calls, Object.fromEntries(times.calls));
            }
            log(`regions: throughput batch ${batchSize}${warm ? ' (warm-up)' : ` round ${round}/${o.rounds}`}: troupe ${Math.round(packs.length / (ms / 1000))} packs/s (changesSince ${Math.round(times.ms.get('changesSince') ?? 0)} ms, ${Math.round(times.exposedMs('changesSince', ['merge', 'heads', 'save']))} ms of it not behind a merge, merge ${Math.round(times.ms.get('merge') ?? 0)} ms, heads ${Math.round(times.ms.get('heads') ?? 0)} ms x ${times.calls.get('heads') ?? 0}, checkpoint ${Math.round(times.ms.get('save') ?? 0)} ms, ${Math.round(times.exposedMs('save', ['merge', 'heads']))} ms of it not behind a merge)`);
            await runtime.stop();
            await target.destroy();
          } else {
            const cpu = process.cpuUsage();
            const start = performance.now();
            const report = await rawCopy(src, dst, (actor) => source.keysOf(actor), (shard) => shardLog(source, shard), prefix, Array.from({ length: source.shards }, () => 0), batchSize);
            const ms = performance.now() - start;
            const cpuMs = cpuMillis(process.cpuUsage(cpu));
            if (report.packs !== packs.length) throw new Error(`regions throughput: raw copied ${report.packs} of ${packs.length}`);
            const after = await Promise.all(admin.map(commandUsec));
            if (!warm) {
              rates.raw.push(packs.length / (ms / 1000));
              clientCpu.raw.push(cpuMs);
              addInto(serverRawSums, prefixed(usecDelta(before[0]!, after[0]!), usecDelta(before[1]!, after[1]!)));
              (calls.rawPipelines ??= []).push(report.pipelines);
            }
            log(`regions: throughput batch ${batchSize}${warm ? ' (warm-up)' : ` round ${round}/${o.rounds}`}: raw ${Math.round(packs.length / (ms / 1000))} packs/s`);
            await deleteAll(dst, `${prefix}:*`);
          }
        }
      }
      figures.push({
        batchSize,
        troupe: summarize(rates.troupe),
        raw: summarize(rates.raw),
        ratio: summarize(rates.troupe.map((r, i) => r / rates.raw[i]!)),
        phases: {
          changesSinceMs: summarize(phases.changesSince ?? []),
          changesSinceExposedMs: summarize(phases.changesSinceExposed ?? []),
          mergeMs: summarize(phases.merge ?? []),
          headsMs: summarize(phases.heads ?? []),
          checkpointMs: summarize(phases.save ?? []),
          checkpointExposedMs: summarize(phases.saveExposed ?? []),
          otherMs: summarize(phases.other ?? []),
          divergedReported,
          decodeMs: Math.round(decodeMs),
          encodeMs: Math.round(encodeMs),
          serverMs: medians(serverSums),
          serverRawMs: medians(serverRawSums),
          troupeCalls: medians(calls),
          clientCpuMs: { troupe: summarize(clientCpu.troupe), raw: summarize(clientCpu.raw) },
          headsServerUs: summarize(headsServerUs),
        },
      });
    }
    return { packs: packs.length, actors: o.actors, rounds: o.rounds, setupSeconds, defaultBatchSize, figures };
  } finally {
    src.disconnect();
    dst.disconnect();
    await source.destroy();
  }
}

const prefixed = (a: Record<string, number>, b: Record<string, number>): Record<string, number> => ({
  ...Object.fromEntries(Object.entries(a).map(([k, v]) => [`A ${k}`, v])),
  ...Object.fromEntries(Object.entries(b).map(([k, v]) => [`B ${k}`, v])),
});

/** The replication log of one shard, as the store's README lays its keys out (`<prefix>:{<prefix>.<shard>}:log`). */
export const shardLog = (store: RedisStore, shard: number): string => `${store.prefix}:{${store.prefix}.${shard}}:log`;

export async function deleteAll(client: Redis, pattern: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length > 0) deleted += await client.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}

// ---------------------------------------------------------------------------------------------
// 2. Convergence after a heal

async function benchConvergence(actors: number, serverA: RedisServer, serverB: RedisServer, log: (text: string) => void): Promise<ConvergencePoint> {
  const started = performance.now();
  const prefix = `conv${actors}`;
  const a = await connectRedisStore({ url: serverA.url, prefix });
  const b = await connectRedisStore({ url: serverB.url, prefix });
  // Every store call of the heal counted and timed, per region (the runtime and the replicator into it use the same wrapper).
  const callsA = new CallTimes();
  const callsB = new CallTimes();
  const storeCalls = ['heads', 'getPacks', 'loadChain', 'saveSnapshot', 'append', 'merge', 'changesSince', 'recordMerge', 'commandVersions', 'history'];
  // liveActorsMax above K: each region loads every diverged actor once to merge it.
  const runtimeA = createRuntime({ actors: [Account], store: callsA.wrap(a, storeCalls), replicaId: 'eu', liveActorsMax: Math.max(1_000, actors) });
  const runtimeB = createRuntime({ actors: [Account], store: callsB.wrap(b, storeCalls), replicaId: 'us', liveActorsMax: Math.max(1_000, actors) });
  try {
    // Before the cut: every account opened and funded in A (2 packs), replicated to B. Both
    // regions then hold the same packs; each replicator starts at the end of its source's log.
    const eu = new RegionWriter('eu', 1);
    const us = new RegionWriter('us', 2);
    const opened = accountPacks(eu, actors, 1);
    const funded = opened.map((p) => eu.pack(p.actor, p, { type: 'deposited', data: { amount: 100_000 } }));
    const shared = [...opened, ...funded];
    await Promise.all([mergeAll(a, shared), mergeAll(b, shared)]);
    const [fromA, fromB] = await Promise.all([endCursor(a), endCursor(b)]);
    // The partition: each region spends 70,000 of the 100,000 (together they overdraw by 40,000)
    // and takes a deposit.
    const during = (w: RegionWriter, deposit: number) =>
      funded.flatMap((head) => {
        const spent = w.pack(head.actor, head, { type: 'withdrew', data: { amount: 70_000 } });
        return [spent, w.pack(head.actor, spent, { type: 'deposited', data: { amount: deposit } })];
      });
    const inA = during(eu, 1_000);
    const inB = during(us, 2_000);
    await Promise.all([mergeAll(a, inA), mergeAll(b, inB)]);
    const setupSeconds = (performance.now() - started) / 1000;
    log(`regions: convergence ${actors.toLocaleString('en-US')} actors: set up in ${setupSeconds.toFixed(1)} s (${shared.length.toLocaleString('en-US')} shared packs, ${inA.length.toLocaleString('en-US')} written in each region during the cut)`);
    collectGarbage();
    await settle();

    // The heal: each region's replicator copies the other's log and resolves, both at once (as
    // two `troupe replicate` processes would), round after round until a round moves nothing
    // (the merges each region wrote travel back in the next round: the same pack, skipped).
    const aToB = new Replicator(sourceEndpoint(callsA.wrap(a, storeCalls)), runtimeB, { cursor: fromA });
    const bToA = new Replicator(sourceEndpoint(callsB.wrap(b, storeCalls)), runtimeA, { cursor: fromB });
    callsA.ms.clear();
    callsA.calls.clear();
    callsB.ms.clear();
    callsB.calls.clear();
    const copied = { aToB: 0, bToA: 0 };
    const resolved = { a: 0, b: 0 };
    const start = performance.now();
    let rounds = 0;
    for (;;) {
      rounds++;
      const [toB, toA] = await Promise.all([aToB.sync(), bToA.sync()]);
      failOn(toB, toA);
      copied.aToB += toB.copied;
      copied.bToA += toA.copied;
      resolved.b += toB.resolved.length;
      resolved.a += toA.resolved.length;
      if (toB.copied + toA.copied + toB.resolved.length + toA.resolved.length === 0) break;
      if (rounds > 10) throw new Error('regions convergence: not quiet after 10 rounds');
    }
    const healMs = performance.now() - start;
    const storeCallsPerActor: Record<string, { calls: number; ms: number }> = {};
    for (const calls of [callsA, callsB]) {
      for (const [name, n] of calls.calls) {
        const entry = (storeCallsPerActor[name] ??= { calls: 0, ms: 0 });
        entry.calls += n / actors;
        entry.ms += (calls.ms.get(name) ?? 0) / actors;
      }
    }
    log(`regions: convergence ${actors.toLocaleString('en-US')} actors: converged in ${(healMs / 1000).toFixed(2)} s (${(healMs / actors).toFixed(3)} ms/actor), ${rounds} rounds, copied A→B ${copied.aToB}, B→A ${copied.bToA}, merges by A ${resolved.a}, by B ${resolved.b}`);

    const checkStart = performance.now();
    await checkConverged(a, b, funded.map((p) => p.actor));
    const checkSeconds = (performance.now() - checkStart) / 1000;
    return { actors, packsPerRegion: inA.length, healMs, msPerActor: healMs / actors, copied, resolved, rounds, storeCallsPerActor: rounded(storeCallsPerActor), setupSeconds, checkSeconds };
  } finally {
    await Promise.all([runtimeA.stop(), runtimeB.stop()]);
    await Promise.all([a.destroy(), b.destroy()]);
  }
}

function failOn(...reports: SyncReport[]): void {
  for (const r of reports) {
    if (r.failed.length > 0) throw new Error(`regions convergence: ${r.failed.length} resolutions failed: ${String((r.failed[0]!.error as Error)?.message ?? r.failed[0]!.error)}`);
  }
}

/** One head per actor in both regions, the same version, and that head is a merge carrying the overdraft compensation. */
async function checkConverged(a: RedisStore, b: RedisStore, actors: readonly ActorRef[]): Promise<void> {
  for (let i = 0; i < actors.length; i += 500) {
    await Promise.all(
      actors.slice(i, i + 500).map(async (actor) => {
        const [ha, hb] = await Promise.all([a.heads(actor), b.heads(actor)]);
        if (ha.length !== 1 || hb.length !== 1) throw new Error(`regions convergence: ${actorKey(actor)} has ${ha.length} heads in A, ${hb.length} in B`);
        const [va, vb] = [VC.encode(ha[0]!.version), VC.encode(hb[0]!.version)];
        if (va !== vb) throw new Error(`regions convergence: ${actorKey(actor)} at ${va} in A, ${vb} in B`);
        if (ha[0]!.kind !== 'merge' || !ha[0]!.events.some((e) => e.type === 'overdraftCharged')) throw new Error(`regions convergence: ${actorKey(actor)}'s head is not a merge with the overdraft compensation`);
      }),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Lag under a steady load

async function benchLag(o: RegionsOptions['lag'], serverA: RedisServer, serverB: RedisServer, log: (text: string) => void): Promise<RegionsResults['lag']> {
  const phases: LagPhase[] = [];
  for (const idleMs of o.idleMs) {
    phases.push(await lagPhase(o, idleMs, serverA, serverB, log));
    collectGarbage();
  }
  return { rate: o.rate, seconds: o.seconds, actors: o.actors, phases };
}

async function lagPhase(o: RegionsOptions['lag'], idleMs: number, serverA: RedisServer, serverB: RedisServer, log: (text: string) => void): Promise<LagPhase> {
  const prefix = `lag${idleMs}`;
  const a = await connectRedisStore({ url: serverA.url, prefix });
  const b = await connectRedisStore({ url: serverB.url, prefix });
  /** Keyed `<pack hash key>@<version>`: when A acknowledged the append; when B held it (troupe: its merge returned; raw: its write pipeline did); when troupe's batch callback ran. */
  const appended = new Map<string, number>();
  const visible = { troupe: new Map<string, number>(), raw: new Map<string, number>(), batch: new Map<string, number>() };
  const keyOf = (actor: ActorRef, version: string) => `${a.keysOf(actor).packs}@${version}`;
  const seen = (map: Map<string, number>, packs: readonly Pack[]) => {
    const now = performance.now();
    for (const p of packs) map.set(keyOf(p.actor, VC.encode(p.version)), now);
  };
  // B's store as the replicator and B's runtime see it: every merge noted when it returns.
  const target = new Proxy(b, {
    get: (t, name) => {
      const value = Reflect.get(t, name, t) as unknown;
      if (name === 'merge') {
        return async (packs: readonly Pack[], snapshots?: readonly ActorSnapshot[]) => {
          const report = await t.merge(packs, snapshots);
          seen(visible.troupe, packs);
          return report;
        };
      }
      return typeof value === 'function' ? value.bind(t) : value;
    },
  });
  const runtimeA = createRuntime({ actors: [Account], store: a, replicaId: 'eu' });
  const runtimeB = createRuntime({ actors: [Account], store: target, replicaId: 'us' });
  const src = new Redis(serverA.url);
  const dst = new Redis(serverB.url);
  const rawPrefix = `raw-${prefix}`;
  const accounts = Array.from({ length: o.actors }, (_, i) => account(i));
  let stopping = false;
  let service: RegionReplication | undefined;
  const counts = { batches: 0, syncs: 0, rawPolls: 0 };
  const onBatch = (packs: readonly Pack[]) => {
    counts.batches++;
    seen(visible.batch, packs);
  };
  try {
    // Open every account first (not measured), then start both copiers at the end of A's log.
    for (let i = 0; i < accounts.length; i += 200) {
      await Promise.all(accounts.slice(i, i + 200).map((ref, k) => runtimeA.send(ref, { type: 'open', payload: { owner: `Owner ${i + k}` } })));
    }
    // Both copiers take the openings first (B must hold a deposit's parent to merge it), so the
    // measured load starts with nothing to catch up.
    const replicator = new Replicator(sourceEndpoint(a), runtimeB, { checkpoint: b.checkpoint('from-eu'), onBatch: (batch) => onBatch(batch.packs) });
    await replicator.sync();
    const rawFrom = Array.from({ length: a.shards }, () => 0);
    await rawCopy(src, dst, (actor) => a.keysOf(actor), (shard) => shardLog(a, shard), rawPrefix, rawFrom, defaultBatchSize);
    visible.troupe.clear();
    visible.batch.clear();
    counts.batches = 0;
    // The troupe copier: the RegionReplication service when the store is a RegionLog, else its loop by hand.
    const copier: LagPhase['copier'] = isRegionLog(a) && isRegionLog(b) ? 'RegionReplication' : 'Replicator loop';
    let troupeLoop: Promise<void> = Promise.resolve();
    if (copier === 'RegionReplication') {
      service = new RegionReplication({
        region: 'us',
        store: target as RedisStore & RegionLog,
        resolve: (actor) => runtimeB.resolve(actor),
        sources: [{ region: 'eu', store: a as RedisStore & RegionLog }],
        idleMs,
        observer: { batch: ({ batch }) => onBatch(batch.packs), synced: () => void counts.syncs++ },
      });
      await service.start();
    } else {
      troupeLoop = (async () => {
        while (!stopping) {
          const report = await replicator.sync();
          counts.syncs++;
          if (report.copied === 0 && !stopping) await sleep(idleMs);
        }
      })();
    }
    const rawLoop = (async () => {
      while (!stopping) {
        const report = await rawCopy(src, dst, (actor) => a.keysOf(actor), (shard) => shardLog(a, shard), rawPrefix, rawFrom, defaultBatchSize, (keys) => {
          const now = performance.now();
          for (const key of keys) visible.raw.set(key, now);
        });
        counts.rawPolls++;
        if (report.packs === 0 && !stopping) await sleep(idleMs);
      }
    })();

    // The writer: an open loop, a tick every 10 ms sending what the rate asks by then (replies not awaited by the loop).
    log(`regions: lag, idle wait ${idleMs} ms (${copier}): ${o.rate} deposits/s over ${o.actors} accounts for ${o.seconds} s`);
    const sends: Promise<void>[] = [];
    const start = performance.now();
    let sent = 0;
    let failed = 0;
    while (performance.now() - start < o.seconds * 1000) {
      const due = Math.floor(((performance.now() - start) / 1000) * o.rate);
      for (; sent < due; sent++) {
        const ref = accounts[(sent * 7919) % accounts.length]!;
        sends.push(
          runtimeA.send(ref, { type: 'deposit', payload: { amount: 100 + (sent % 900) } }).then(
            (reply) => {
              if (reply.status === 'accepted') appended.set(keyOf(ref, VC.encode(reply.version)), performance.now());
              else failed++;
            },
            () => void failed++,
          ),
        );
      }
      await sleep(10);
    }
    await Promise.all(sends);
    const achievedRate = sent / ((performance.now() - start) / 1000);
    // Let both copiers take the last packs, then stop them.
    const deadline = performance.now() + 10_000;
    while ((visible.batch.size < appended.size || visible.raw.size < appended.size) && performance.now() < deadline) await sleep(20);
    stopping = true;
    await service?.stop();
    await Promise.all([troupeLoop, rawLoop]);
    if (failed > 0) throw new Error(`regions lag: ${failed} deposits not accepted`);
    const lags = (side: keyof typeof visible) => {
      const out: number[] = [];
      for (const [key, at] of appended) {
        const v = visible[side].get(key);
        if (v === undefined) throw new Error(`regions lag: ${key} never reached region B (${side}${side !== 'raw' && service ? `: ${JSON.stringify(service.status())}` : ''})`);
        out.push(v - at);
      }
      return out;
    };
    const phase: LagPhase = { idleMs, copier, commands: appended.size, achievedRate, troupe: lagStats(lags('troupe')), troupeBatch: lagStats(lags('batch')), raw: lagStats(lags('raw')), ...counts };
    log(`regions: lag, idle wait ${idleMs} ms: troupe p50 ${phase.troupe.p50.toFixed(0)} ms p99 ${phase.troupe.p99.toFixed(0)} ms, raw p50 ${phase.raw.p50.toFixed(0)} ms p99 ${phase.raw.p99.toFixed(0)} ms (${phase.commands} packs, ${achievedRate.toFixed(0)}/s)`);
    return phase;
  } finally {
    stopping = true;
    await service?.stop().catch(() => undefined);
    src.disconnect();
    dst.disconnect();
    await Promise.all([runtimeA.stop(), runtimeB.stop()]);
    await Promise.all([a.destroy(), b.destroy()]);
  }
}

// ---------------------------------------------------------------------------------------------
// Plot

export function regionPlots(r: RegionsResults | undefined, note: string): Record<string, string> {
  if (!r || r.convergence.length === 0) return {};
  const points = r.convergence;
  const chart: Chart = {
    title: 'Time to converge after a heal vs diverged actors',
    subtitle: '2 regions on 2 redis-servers, 2 packs per actor in each region during the cut; both directions at once',
    xLabel: 'diverged actors',
    yLabel: 'seconds from heal to converged',
    xLog: true,
    yLog: true,
    format: compact,
    series: [
      { name: 'troupe (Replicator + resolve)', points: points.map((p) => ({ x: p.actors, y: p.healMs / 1000 })) },
      { name: 'linear from the smallest point', points: points.map((p) => ({ x: p.actors, y: (points[0]!.msPerActor * p.actors) / 1000 })), dashed: true },
    ],
  };
  return { 'convergence-vs-actors.svg': lineChart({ ...chart, footer: note }) };
}

// ---------------------------------------------------------------------------------------------
// Alone, e.g. for a CPU profile of one part (after building the packages):
//   cd test && node --import tsx --cpu-prof --cpu-prof-dir=bench/results/profiles bench/regions.ts throughput 50000 5000 500
//   cd test && node --import tsx bench/regions.ts convergence 10000
//   cd test && node --import tsx bench/regions.ts lag 500 10 250

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [part = 'throughput', ...rest] = process.argv.slice(2);
  const n = rest.map(Number);
  const print = (text: string) => console.log(text);
  const result = await withRegions(async ({ serverA, serverB, admin }) => {
    if (part === 'throughput') return benchThroughput({ packs: n[0] || 5_000, actors: n[1] || 500, rounds: 1, batchSizes: [n[2] || defaultBatchSize] }, serverA, serverB, admin, print);
    if (part === 'convergence') return benchConvergence(n[0] || 1_000, serverA, serverB, print);
    if (part === 'lag') return benchLag({ rate: n[0] || 500, seconds: n[1] || 5, actors: 1_000, idleMs: [n[2] || 250] }, serverA, serverB, print);
    throw new Error(`unknown part '${part}' (throughput, convergence, lag)`);
  });
  const machine = { cpus: os.cpus().length, loadAvgAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100), node: process.version };
  console.log(JSON.stringify({ date: new Date().toISOString(), part, args: n, machine, result }, null, 2));
}
