/**
 * Scale curves, every point measured in this run next to a same-run baseline where one exists:
 *
 * 1. end-to-end throughput vs concurrency: the bus scenario's figure 1 (bus.ts: `bus.send` ->
 *    RabbitMQ -> worker -> Runtime -> Redis store -> reply) with the client's in-flight window at
 *    1, 2, 4, ... 256 commands over as many actors, vs raw amqplib publish -> consume -> ack with
 *    the same window;
 * 2. load time vs history length (Redis store): `heads` + `loadChain` + fold of an actor of N
 *    events, without snapshot, then with the snapshot the runtime would have written last (50
 *    events before the head), vs raw LRANGE + msgpackr unpack of the same N encoded packs + a fold
 *    of their events with the same handlers (what a raw user does to get the state);
 * 3. resolution time vs history length: the resolution scenario (resolution.ts) at 1k, 10k, 100k
 *    events before the common ancestor (configured in run.ts; only plotted here);
 * 4. memory of the embedded runtime after 100k, 500k, 1M distinct actors (rss.ts, one child
 *    process per point) vs the raw fold's Map of as many states.
 *
 * The plots are drawn by plot.ts from these results (`curvePlots`).
 */
import { connectRedisStore } from '@troupe/redis';
import { deleteKeysMatching } from '@troupe/redis/testing';
import type { ActorRef } from '@troupe/runtime';
import { type ActorSnapshot, encodePack, VC } from '@troupe/runtime/store';
import { fold } from '@troupe/runtime/resolution';
import { workerDefaults } from '@troupe/rabbitmq';
import { Unpackr } from 'msgpackr';
import { type BusBenchOptions, type BusSkipped, throughputRound, type ThroughputSample, withBusBench, withWorker } from './bus.js';
import { type Chart, compact, lineChart, type Series } from './plot.js';
import { connectBenchRedis, Ledger, type LedgerState, PackWriter, redisBenchUrl, type RedisSkipped, timed } from './redis.js';
import type { ResolutionResults } from './resolution.js';
import { benchRss, type RssOptions, type RssResults } from './rss.js';
import { collectGarbage, settle, type Summary, summarize } from './stats.js';
import { packBody } from './packBody.js';

export interface CurvesOptions {
  readonly concurrency: {
    /** In-flight windows; each point uses as many actors as its window (one command in flight per actor). */
    readonly windows: readonly number[];
    /** Measured rounds; every round runs every window once, in an order rotated from round to round. */
    readonly rounds: number;
    /** Commands per point and side: windows x perActor, clamped to [min, max]. */
    readonly commandsPerActor: number;
    readonly minCommands: number;
    readonly maxCommands: number;
  };
  readonly load: {
    readonly histories: readonly { readonly events: number; readonly iterations: number }[];
    /** Unrecorded iterations before each point's (1 for histories over 10,000 events). */
    readonly warmup: number;
  };
  readonly rss: RssOptions;
}

export interface ConcurrencyPoint {
  readonly window: number;
  readonly actors: number;
  readonly commands: number;
  /** commands/s (troupe), messages/s (raw), per round. */
  readonly troupe: Summary;
  readonly raw: Summary;
  /** troupe / raw, per round. */
  readonly ratio: Summary;
}

export interface ConcurrencyCurve {
  readonly skipped: false;
  readonly prefetch: number;
  readonly shards: number;
  readonly rounds: number;
  readonly points: readonly ConcurrencyPoint[];
  readonly cleanup: { readonly queues: number; readonly exchanges: number; readonly redisKeys: number; readonly deadLettered: number };
}

export interface LoadPoint {
  readonly events: number;
  readonly iterations: number;
  /** Raw LRANGE + unpack of the N encoded packs, ms (a block of them in each phase). */
  readonly raw: Summary;
  /** Troupe load without snapshot: ms, raw ms / troupe ms per iteration, packs read. */
  readonly plain: { readonly ms: Summary; readonly ratio: Summary; readonly packsRead: number };
  /** With the snapshot the runtime would have written last (snapshotEvery 100: 50 events before the head). */
  readonly snapshot: { readonly ms: Summary; readonly ratio: Summary; readonly packsRead: number };
  /** Seconds to write both chains and the raw list (not measured figures). */
  readonly writeSeconds: number;
}

export interface LoadCurve {
  readonly skipped: false;
  readonly snapshotEvery: number;
  readonly points: readonly LoadPoint[];
  readonly keysDeleted: number;
}

export interface CurvesResults {
  readonly concurrency: ConcurrencyCurve | BusSkipped;
  readonly load: LoadCurve | RedisSkipped;
  readonly rss: RssResults;
}

// ---------------------------------------------------------------------------------------------
// 1. Throughput vs concurrency

/** The bus options the concurrency curve needs (window and actors are set per point). */
const busShape = (rounds: number): BusBenchOptions => ({
  shards: 16,
  actors: 1,
  window: 1,
  throughput: { rounds, commands: 0 },
  childProcess: { rounds: 0, commands: 0 },
  serial: { rounds: 0, commands: 0, warmup: 0 },
  sweep: { prefetches: [], rounds: 0, commands: 0 },
});

export async function benchConcurrency(o: CurvesOptions['concurrency'], log: (text: string) => void): Promise<ConcurrencyCurve | BusSkipped> {
  const commandsAt = (w: number) => Math.min(o.maxCommands, Math.max(o.minCommands, w * o.commandsPerActor));
  const prefetch = workerDefaults.prefetch;
  const result = await withBusBench(busShape(o.rounds), async ({ ctx }) => {
    collectGarbage();
    const samples = new Map<number, ThroughputSample[]>(o.windows.map((w) => [w, []]));
    // Round 0: an unrecorded warm-up at the largest window (JIT, connections, the worker's channels).
    for (let round = 0; round <= o.rounds; round++) {
      const windows = round === 0 ? [o.windows[o.windows.length - 1]!] : [...o.windows];
      for (let r = 0; r < round % windows.length; r++) windows.push(windows.shift()!);
      // One worker per round, shared by its points (starting one per point would cost more than a small point).
      await withWorker(ctx, prefetch, async (worker) => {
        for (const [k, w] of windows.entries()) {
          const commands = round === 0 ? o.minCommands : commandsAt(w);
          const order: ('troupe' | 'raw')[] = (round + k) % 2 === 0 ? ['raw', 'troupe'] : ['troupe', 'raw'];
          const s = await throughputRound(ctx, prefetch, `k${round}w${w}`, commands, order, worker, { window: w, actors: w });
          if (round > 0) {
            samples.get(w)!.push(s);
            log(`curves: concurrency round ${round}/${o.rounds}, window ${w}: troupe ${Math.round(s.troupe)}/s, raw ${Math.round(s.raw)}/s, ratio ${(s.troupe / s.raw).toFixed(2)}`);
          }
        }
      });
    }
    return o.windows.map((w): ConcurrencyPoint => {
      const s = samples.get(w)!;
      return {
        window: w,
        actors: w,
        commands: commandsAt(w),
        troupe: summarize(s.map((x) => x.troupe)),
        raw: summarize(s.map((x) => x.raw)),
        ratio: summarize(s.map((x) => x.troupe / x.raw)),
      };
    });
  });
  if (result.skipped) return result;
  return { skipped: false, prefetch, shards: 16, rounds: o.rounds, points: result.value, cleanup: result.cleanup };
}

// ---------------------------------------------------------------------------------------------
// 2. Load time vs history length

/** What a runtime's load does (Entity.load -> stateAt), without the snapshot a long replay then saves. */
async function loadActor(store: Awaited<ReturnType<typeof connectRedisStore>>, actor: ActorRef): Promise<{ state: LedgerState; packsRead: number }> {
  const heads = await store.heads(actor);
  if (heads.length !== 1) throw new Error(`load curve: ${heads.length} heads`);
  const chain = await store.loadChain(actor, VC.encode(heads[0]!.version));
  const state = fold(Ledger, chain.base ? (chain.base.state as LedgerState) : Ledger.initial(), chain.packs.flatMap((p) => p.events)) as LedgerState;
  return { state, packsRead: chain.packs.length };
}

/**
 * The raw side's fold: what a user of plain ioredis + msgpackr does with the packs it read, the
 * same event handlers (`Ledger.events`) applied in list order to each pack's event tuples
 * (`[id, type, data, ...]` at index 8 of the codec's pack array). Without it the raw side read and
 * decoded but built no state, and the ratio billed troupe's fold against nothing.
 */
function rawFold(packs: readonly unknown[]): LedgerState {
  let state = Ledger.initial();
  for (const pack of packs) {
    for (const event of (pack as unknown[])[8] as unknown[][]) {
      const handler = Ledger.events[event[1] as keyof typeof Ledger.events] as (s: LedgerState, data: unknown) => LedgerState;
      state = handler(state, event[2]);
    }
  }
  return state;
}

export async function benchLoad(o: CurvesOptions['load'], log: (text: string) => void): Promise<LoadCurve | RedisSkipped> {
  const client = await connectBenchRedis();
  if ('skipped' in client) return client;
  const prefix = `troupe-bench-load-${Date.now().toString(36)}-${process.pid}`;
  // One store per point (its keys, the store identity included, are deleted before the next).
  let open: Awaited<ReturnType<typeof connectRedisStore>> | undefined;
  const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: true });
  const every = Ledger.snapshotEvery;
  let keysDeleted = 0;
  try {
    const points: LoadPoint[] = [];
    for (const { events, iterations } of o.histories) {
      const store = await connectRedisStore({ url: redisBenchUrl, prefix });
      open = store;
      const writer = new PackWriter();
      const started = performance.now();
      const actor: ActorRef = { type: Ledger.type, id: `load-${events}` };
      const listKey = `${prefix}:raw:{load-${events}}:list`;
      // The snapshot the runtime would have written last: 50 events before the head.
      let snapshot: ActorSnapshot | undefined;
      {
        // Scoped so the packs can be collected once written.
        const packs = writer.chain(actor, events);
        let state: LedgerState = Ledger.initial();
        for (let i = 0; i < packs.length; i += 500) {
          const batch = packs.slice(i, i + 500);
          await store.merge(batch);
          await client.rpush(listKey, ...batch.map(encodePack));
          for (const [j, pack] of batch.entries()) {
            state = fold(Ledger, state, pack.events) as LedgerState;
            if (i + j + 1 === Math.max(1, events - every / 2)) snapshot = { actor, version: pack.version, state };
          }
        }
      }
      const writeSeconds = (performance.now() - started) / 1000;
      log(`curves: load, ${events.toLocaleString('en-US')} events written in ${writeSeconds.toFixed(1)} s; ${iterations} iterations (+${events > 10_000 ? 1 : o.warmup} warm-up) per phase`);
      collectGarbage();

      const warmup = events > 10_000 ? 1 : o.warmup;
      const times = { raw: [] as number[], plain: [] as number[], snap: [] as number[] };
      const ratios = { plain: [] as number[], snap: [] as number[] };
      const packsRead = { plain: 0, snap: 0 };
      let sink = 0;
      // Phase 1 without snapshot; then the snapshot is saved (as the runtime would have) and phase 2
      // loads the same actor with it: one chain written instead of two. Raw is measured in both phases.
      for (const phase of ['plain', 'snap'] as const) {
        if (phase === 'snap') await store.saveSnapshot(actor, snapshot!);
        const check = await loadActor(store, actor);
        if (check.state.postings !== events) throw new Error(`load curve: loaded ${check.state.postings} events of ${events} (${phase})`);
        const rawCheck = rawFold((await client.lrangeBuffer(listKey, 0, -1)).map((bytes) => unpackr.unpack(packBody(bytes))));
        if (rawCheck.postings !== events) throw new Error(`load curve: the raw fold counted ${rawCheck.postings} events of ${events}`);
        packsRead[phase] = check.packsRead;
        // Warm-up: `warmup` iterations, and for short histories at least 300 ms of them (a load of
        // 100 events takes a millisecond: a few iterations leave the code cold).
        const warmUntil = performance.now() + (events > 10_000 ? 0 : 300);
        let warm = 0;
        while (warm < warmup || performance.now() < warmUntil) {
          await loadActor(store, actor);
          await client.lrangeBuffer(listKey, 0, -1);
          warm++;
        }
        // Each side in a block of its own (a GC before each block): interleaved one by one, the
        // garbage of a raw load (up to 100,000 decoded packs) was collected inside the troupe load
        // after it (by hand at 100,000 events, a snapshot load alone took 0.8 ms, next to raw loads
        // 5 ms, p25 - p75 3.7 - 8.7), and a forced GC before every load made the short loads slower in a
        // quick try (100 events: raw 0.7 -> 2.9 ms). The block
        // order alternates between the phases; ratios pair the i-th load of each block.
        const block = async (side: 'raw' | 'troupe'): Promise<number[]> => {
          collectGarbage();
          await settle();
          const ms: number[] = [];
          for (let it = 0; it < iterations; it++) {
            ms.push(
              await timed(async () => {
                if (side === 'raw') {
                  const list = await client.lrangeBuffer(listKey, 0, -1);
                  sink += rawFold(list.map((bytes) => unpackr.unpack(packBody(bytes)))).postings;
                } else {
                  sink += (await loadActor(store, actor)).state.postings;
                }
              }),
            );
          }
          return ms;
        };
        const first = phase === 'plain' ? 'raw' : 'troupe';
        const a = await block(first);
        const b = await block(first === 'raw' ? 'troupe' : 'raw');
        const [rawMs, troupeMs] = first === 'raw' ? [a, b] : [b, a];
        times.raw.push(...rawMs);
        times[phase].push(...troupeMs);
        ratios[phase].push(...rawMs.map((r, i) => r / troupeMs[i]!));
      }
      if (sink === 0) throw new Error('unreachable');
      points.push({
        events,
        iterations,
        raw: summarize(times.raw),
        plain: { ms: summarize(times.plain), ratio: summarize(ratios.plain), packsRead: packsRead.plain },
        snapshot: { ms: summarize(times.snap), ratio: summarize(ratios.snap), packsRead: packsRead.snap },
        writeSeconds,
      });
      const p = points[points.length - 1]!;
      log(`curves: load ${events}: raw ${p.raw.median.toFixed(2)} ms, no snapshot ${p.plain.ms.median.toFixed(2)} ms, snapshots ${p.snapshot.ms.median.toFixed(2)} ms`);
      // Each point's keys go before the next is written (Redis stays small).
      await store.close();
      open = undefined;
      keysDeleted += await deleteKeysMatching(client, `${prefix}:*`);
    }
    return { skipped: false, snapshotEvery: every, points, keysDeleted };
  } finally {
    await open?.close().catch(() => undefined);
    await deleteKeysMatching(client, `${prefix}:*`).catch(() => 0);
    await client.quit().catch(() => client.disconnect());
  }
}

// ---------------------------------------------------------------------------------------------

export async function benchCurves(o: CurvesOptions, log: (text: string) => void): Promise<CurvesResults> {
  log(`curves: throughput vs concurrency, windows ${o.concurrency.windows.join(', ')}, ${o.concurrency.rounds} rounds (+1 warm-up)`);
  const concurrency = await benchConcurrency(o.concurrency, log);
  log(`curves: load time vs history, ${o.load.histories.map((h) => h.events).join(', ')} events, Redis store`);
  const load = await benchLoad(o.load, log);
  log(`curves: memory after ${o.rss.actors.join(', ')} distinct actors, one child process per point`);
  const rss = await benchRss(o.rss, log);
  return { concurrency, load, rss };
}

// ---------------------------------------------------------------------------------------------
// Plots

const spread = (x: number, s: Summary) => ({ x, y: s.median, lo: s.p25, hi: s.p75 });
const ms = (n: number) => (n >= 1 ? `${compact(n)} ms` : `${compact(n * 1000)} µs`);

/** SVG plots of the curves measured in this run, by file name. */
export function curvePlots(curves: CurvesResults | undefined, resolution: ResolutionResults | undefined, note: string): Record<string, string> {
  const plots: Record<string, string> = {};
  const chart = (name: string, c: Chart) => (plots[`${name}.svg`] = lineChart({ ...c, footer: note }));
  const c = curves?.concurrency;
  if (c && !c.skipped) {
    chart('throughput-vs-concurrency', {
      title: 'End-to-end throughput vs commands in flight',
      subtitle: `RabbitMQ + worker + Redis, prefetch ${c.prefetch}, ${c.shards} shards; median, p25–p75`,
      xLabel: 'commands in flight (= actors)',
      yLabel: 'per second',
      xLog: true,
      series: [
        { name: 'troupe bus.send (cmd/s)', points: c.points.map((p) => spread(p.window, p.troupe)) },
        { name: 'raw amqplib pub→ack (msg/s)', points: c.points.map((p) => spread(p.window, p.raw)), dashed: true },
      ],
    });
    chart('throughput-ratio-vs-concurrency', {
      title: 'troupe / raw amqplib vs commands in flight',
      subtitle: 'ratio per round; median, p25–p75; goal ≥ 0.5',
      xLabel: 'commands in flight (= actors)',
      yLabel: 'troupe cmd/s ÷ raw msg/s',
      xLog: true,
      series: [
        { name: 'troupe / raw', points: c.points.map((p) => spread(p.window, p.ratio)) },
        { name: 'goal 0.5', points: c.points.map((p) => ({ x: p.window, y: 0.5 })), dashed: true },
      ],
    });
  }
  const l = curves?.load;
  if (l && !l.skipped) {
    chart('load-vs-history', {
      title: 'Actor load time vs history length (Redis store)',
      subtitle: `heads + loadChain + fold; with a snapshot 50 events before the head; median, p25–p75`,
      xLabel: 'events in the history',
      yLabel: 'ms per load',
      xLog: true,
      yLog: true,
      format: compact,
      series: [
        { name: 'troupe, no snapshot', points: l.points.map((p) => spread(p.events, p.plain.ms)) },
        { name: 'troupe, snapshots', points: l.points.map((p) => spread(p.events, p.snapshot.ms)) },
        { name: 'raw LRANGE + unpack + fold', points: l.points.map((p) => spread(p.events, p.raw)), dashed: true },
      ],
    });
  }
  if (resolution) {
    const role = (r: 'origin' | 'copy') => resolution.cases.filter((x) => x.role === r).map((x) => spread(x.history, x.ms));
    chart('resolution-vs-history', {
      title: 'Resolution time vs history before the common ancestor',
      subtitle: `heads + computeMerge, ${resolution.divergence} events per branch; median, p25–p75`,
      xLabel: 'events before the common ancestor',
      yLabel: 'time per resolution',
      xLog: true,
      format: (n) => ms(n),
      series: [
        { name: 'origin replica', points: role('origin') },
        { name: 'replicated copy', points: role('copy') },
      ],
    });
  }
  const r = curves?.rss;
  if (r && r.points.length > 0) {
    const mib = (n: number) => n / 2 ** 20;
    const withMemory = r.points.filter((p) => p.memory);
    const series: Series[] = [
      { name: 'runtime: RSS', points: r.points.map((p) => ({ x: p.actors, y: mib(p.runtime.rss) })) },
      { name: 'runtime: heap held by it', points: r.points.map((p) => ({ x: p.actors, y: mib(p.runtime.runtimeBytes) })) },
      ...(withMemory.length ? [{ name: 'MemoryStore: heap held by it', points: withMemory.map((p) => ({ x: p.actors, y: mib(p.memory!.storeBytes) })) }] : []),
      { name: 'raw fold: RSS', points: r.points.map((p) => ({ x: p.actors, y: mib(p.raw.rss) })), dashed: true },
      { name: 'raw fold: heap of its Map', points: r.points.map((p) => ({ x: p.actors, y: mib(p.raw.mapBytes) })), dashed: true },
    ];
    chart('memory-vs-actors', {
      title: 'Memory after N distinct actors (one command each)',
      subtitle: `embedded runtime on a store that keeps nothing, default passivation (${compact(r.liveActorsMax)} live max); after full GC`,
      xLabel: 'distinct actors',
      yLabel: 'MiB',
      xLog: true,
      series,
    });
  }
  return plots;
}
