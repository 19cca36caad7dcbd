/**
 * Peers, same run, same workload (the peers are dev dependencies of the bench only):
 *
 * 1. **Emmett** (`@event-driven-io/emmett`, `getInMemoryEventStore` + `DeciderCommandHandler`)
 *    against the embedded troupe runtime (`createRuntime` on a `MemoryStore`, `runtime.send`),
 *    both running the SAME decide and evolve functions (the bench's counter, `counter.ts`; the
 *    Emmett decider calls the troupe definition's handlers, see `peerWorkload.ts`). Baseline: the
 *    raw in-process fold of those functions, as in `throughput.ts`.
 * 2. **eventstore** (the `eventstore` package, its Redis backend on `redis@3`) against
 *    `@troupe/redis`, append and load. Baseline: raw ioredis as in `redis.ts` (EVALSHA of a
 *    minimal conditional append; LRANGE + msgpackr unpack).
 *
 * Every figure is a ratio against the peer and against the baseline measured in the same round.
 * Medians and quartiles; warm-up first; several rounds; the order of the sides rotates every round.
 * Every round is checked (final states equal the expected sums), so a broken run fails instead of
 * producing a figure.
 *
 * NOT LIKE FOR LIKE (see also `notes` in the results, which are measured in the run):
 * - Emmett's in-memory event store is a test double: it keeps event objects in arrays (no
 *   encoding), and its command handler re-reads and re-folds the whole stream on every command
 *   (no cache of the state), copies the stream's array on every append, and counts every event of
 *   every stream on every append (its global position). Its cost per command therefore grows with
 *   the stream's length and with the store's size. troupe keeps the folded state of a live actor in
 *   memory, and its MemoryStore keeps packs decoded and deep-frozen (the pack the runtime built,
 *   not a copy; since #17, before that every pack was msgpack-encoded), but it keeps vector clocks,
 *   heads, command ids, snapshots (encoded, every 100 events) and a replication log, and runs every
 *   command through the actor's mailbox (a turn of the event loop every 64 messages). The long
 *   workload (one stream of 10,000 commands) is where Emmett's re-read of the stream dominates.
 * - Emmett does not serialize commands to one stream: concurrent commands to one stream conflict
 *   (ExpectedVersionConflictError, no retry by default); troupe queues them in the actor's mailbox.
 *   Only shapes where no two commands to one stream are in flight are timed.
 * - eventstore's Redis backend stores each event as its own JSON string key, twice (an
 *   "undispatched" copy), assigns revisions with INCR and has no conditional append: two writers
 *   that read the same revision both commit. troupe's append is one Lua script that checks the
 *   heads (optimistic concurrency on a set of version vectors), records command ids, parent links
 *   and a log entry, on msgpack packs. eventstore reads a stream by SCANning the whole database
 *   (MATCH on the stream's key pattern, COUNT default 10), sorting the keys, then MGET: its load
 *   time depends on the number of keys in the database, not only on the stream.
 * - The eventstore streams for the load phase are seeded through its own Redis backend
 *   (`store.addEvents`, the write `commit` does) with one event per commit and one millisecond
 *   apart, because commits in the same millisecond or with more than 10 events sort wrongly
 *   (see the probe in the notes) and 10,000 real commits take several seconds.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { getInMemoryEventStore, isExpectedVersionConflictError } from '@event-driven-io/emmett';
import { connectRedisStore, type RedisStore } from '@troupe/redis';
import { deleteKeysMatching } from '@troupe/redis/testing';
import { type ActorRef, AppendConflictError, createRuntime, MemoryStore, type Pack } from '@troupe/runtime';
import { encodePack, VC } from '@troupe/runtime/store';
import { fold } from '@troupe/runtime/resolution';
import { Redis } from 'ioredis';
import { Packr } from 'msgpackr';
import { Counter, type CounterState, rawFoldOne } from './counter.js';
import { emmettCounter, evolveLedger, Ledger, LedgerPackWriter, type LedgerState, packageVersion, type Posted, posting, postingCents } from './peerWorkload.js';
import { rawAppendLua, redisBenchUrl } from './redis.js';
import { collectGarbage, settle, type Summary, summarize } from './stats.js';

// ---------------------------------------------------------------------------------------------
// Interface

export interface PeerConfig {
  readonly embedded: {
    /** Measured rounds. */
    readonly rounds: number;
    /** Unrecorded warm-up rounds first, at full size (the runtime's command path needs ~10,000 commands to be optimized by V8). */
    readonly warmupRounds: number;
    /** Short streams, one after another, each command awaited. */
    readonly shortStreams: number;
    readonly shortLength: number;
    /** One long stream, each command awaited. */
    readonly longLength: number;
    /** Many streams: `manyCommands` waves of one command per stream, each wave all in flight. */
    readonly manyStreams: number;
    readonly manyCommands: number;
    /** At least this many folds per raw-baseline measurement (so it lasts a few ms). */
    readonly rawMinFolds: number;
    /** Commands sent at once to one stream in the concurrency probe (not timed). */
    readonly probeConcurrent: number;
  };
  readonly redis: {
    /** Measured append rounds, after one unrecorded warm-up round at a quarter of the sizes. */
    readonly rounds: number;
    /** Appends to one stream per round, each awaited. */
    readonly serialAppends: number;
    /** Streams appended to in parallel, each serial. */
    readonly streams: number;
    readonly appendsPerStream: number;
    /** Events of the stream loaded back. */
    readonly loadEvents: number;
    /** Events after the snapshot in the "with snapshot" load. */
    readonly snapshotTail: number;
    readonly loadIterations: number;
    /** Unrecorded iterations first (every load path also runs once, untimed, in the correctness check before). */
    readonly loadWarmup: number;
  };
}

export const peerConfig: { readonly quick: PeerConfig; readonly full: PeerConfig } = {
  quick: {
    embedded: { rounds: 3, warmupRounds: 1, shortStreams: 40, shortLength: 100, longLength: 10_000, manyStreams: 1_000, manyCommands: 3, rawMinFolds: 300_000, probeConcurrent: 100 },
    redis: { rounds: 3, serialAppends: 400, streams: 64, appendsPerStream: 10, loadEvents: 10_000, snapshotTail: 100, loadIterations: 3, loadWarmup: 0 },
  },
  full: {
    embedded: { rounds: 11, warmupRounds: 2, shortStreams: 40, shortLength: 100, longLength: 10_000, manyStreams: 1_000, manyCommands: 5, rawMinFolds: 1_000_000, probeConcurrent: 100 },
    redis: { rounds: 7, serialAppends: 1_500, streams: 64, appendsPerStream: 30, loadEvents: 10_000, snapshotTail: 100, loadIterations: 9, loadWarmup: 1 },
  },
};

export interface PeerFigure {
  readonly measured: string;
  /** rate = per second (higher is better), ms = milliseconds per operation (lower is better). */
  readonly unit: 'rate' | 'ms';
  readonly troupe: Summary;
  readonly peer: { readonly name: string; readonly summary: Summary };
  /** Raw fold / raw ioredis, measured in the same rounds. */
  readonly baseline: { readonly name: string; readonly summary: Summary };
  /** troupe / peer for rates, peer / troupe for ms (> 1: troupe faster), per round. */
  readonly ratioVsPeer: Summary;
  /** troupe vs baseline, same convention, per round. */
  readonly ratioVsBaseline: Summary;
  /** The peer vs the same baseline, same convention, per round (where the peer's own overhead lies). */
  readonly peerVsBaseline: Summary;
}

export interface PeerResults {
  readonly skipped?: false;
  readonly figures: readonly PeerFigure[];
  readonly versions: Record<string, string>;
  readonly notes: readonly string[];
  /** Why the Redis part was not measured (Redis not reachable); the embedded figures are still there. */
  readonly redisSkipped?: string;
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

let sink = 0;

async function timedMs(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Rotates `sides` by `round`, so each side goes first, second and last equally often. */
function rotation<T>(sides: readonly T[], round: number): T[] {
  const k = round % sides.length;
  return [...sides.slice(k), ...sides.slice(0, k)];
}

function figure(
  measured: string,
  unit: 'rate' | 'ms',
  runs: { readonly troupe: readonly number[]; readonly peer: readonly number[]; readonly baseline: readonly number[] },
  peerName: string,
  baselineName: string,
): PeerFigure {
  // rates: a / b; ms: b / a (so > 1 always means the first is faster).
  const better = (a: number, b: number) => (unit === 'rate' ? a / b : b / a);
  return {
    measured,
    unit,
    troupe: summarize(runs.troupe),
    peer: { name: peerName, summary: summarize(runs.peer) },
    baseline: { name: baselineName, summary: summarize(runs.baseline) },
    ratioVsPeer: summarize(runs.troupe.map((t, i) => better(t, runs.peer[i]!))),
    ratioVsBaseline: summarize(runs.troupe.map((t, i) => better(t, runs.baseline[i]!))),
    peerVsBaseline: summarize(runs.peer.map((p, i) => better(p, runs.baseline[i]!))),
  };
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`peers bench: ${what}`);
}

// ---------------------------------------------------------------------------------------------
// 1. Embedded: troupe runtime vs Emmett in-memory, counter workload

type Side = 'troupe' | 'peer' | 'baseline';
const sides: readonly Side[] = ['baseline', 'troupe', 'peer'];

/** One timed shape: `streams` streams of `length` commands (`add {by: 1}`). */
interface EmbeddedShape {
  readonly streams: number;
  readonly length: number;
  /** serial: stream after stream, each command awaited; waves: one command per stream per wave, a wave all in flight. */
  readonly mode: 'serial' | 'waves';
}

const emmettName = 'Emmett in-memory event store + DeciderCommandHandler';

/** Raw fold of the same shape, repeated until at least `minFolds` folds; folds/s. */
function rawShape(shape: EmbeddedShape, minFolds: number): number {
  const perRep = shape.streams * shape.length;
  const reps = Math.max(1, Math.ceil(minFolds / perRep));
  const keys = Array.from({ length: shape.streams }, (_, i) => `counter:w${i}`);
  let total = 0;
  const start = performance.now();
  for (let rep = 0; rep < reps; rep++) {
    if (shape.mode === 'serial') {
      for (let s = 0; s < shape.streams; s++) {
        let state: CounterState = Counter.initial();
        for (let i = 0; i < shape.length; i++) state = rawFoldOne(state, 1);
        total += state.value;
      }
    } else {
      const states = new Map<string, CounterState>();
      for (let w = 0; w < shape.length; w++) {
        for (const key of keys) states.set(key, rawFoldOne(states.get(key) ?? Counter.initial(), 1));
      }
      for (const s of states.values()) total += s.value;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  check(total === reps * perRep, `raw fold summed ${total}, expected ${reps * perRep}`);
  sink ^= total;
  return (reps * perRep) / seconds;
}

async function troupeShape(shape: EmbeddedShape, tag: string): Promise<number> {
  const runtime = createRuntime({ actors: [Counter], store: new MemoryStore() });
  try {
    const refs = Array.from({ length: shape.streams }, (_, i) => Counter.ref(`${tag}-${i}`));
    const accepted = (status: string) => {
      if (status !== 'accepted') throw new Error(`peers bench: troupe command was ${status}`);
    };
    const ms = await timedMs(async () => {
      if (shape.mode === 'serial') {
        for (const ref of refs) for (let i = 0; i < shape.length; i++) accepted((await runtime.send(ref, { type: 'add', payload: { by: 1 } })).status);
      } else {
        for (let w = 0; w < shape.length; w++) {
          const replies = await Promise.all(refs.map((ref) => runtime.send(ref, { type: 'add', payload: { by: 1 } })));
          for (const r of replies) accepted(r.status);
        }
      }
    });
    // Not timed: every stream holds exactly its commands.
    for (const ref of refs) {
      const view = await runtime.inspect<CounterState>(ref);
      check(view.state.value === shape.length, `troupe ${ref.id} is ${view.state.value}, expected ${shape.length}`);
    }
    return (shape.streams * shape.length) / (ms / 1000);
  } finally {
    await runtime.stop();
  }
}

async function emmettShape(shape: EmbeddedShape, tag: string): Promise<number> {
  const store = getInMemoryEventStore();
  const ids = Array.from({ length: shape.streams }, (_, i) => `counter-${tag}-${i}`);
  const ms = await timedMs(async () => {
    if (shape.mode === 'serial') {
      for (const id of ids) for (let i = 0; i < shape.length; i++) await emmettCounter(store, id, { type: 'add', data: { by: 1 } });
    } else {
      for (let w = 0; w < shape.length; w++) await Promise.all(ids.map((id) => emmettCounter(store, id, { type: 'add', data: { by: 1 } })));
    }
  });
  // Not timed: read every stream back and fold it with the same evolve.
  for (const id of ids) {
    const { state, currentStreamVersion } = await store.aggregateStream(id, {
      evolve: (s: CounterState, e: { type: string; data: { by: number } }) => rawEvolveCounter(s, e.data.by),
      initialState: () => Counter.initial(),
    });
    check(state.value === shape.length && currentStreamVersion === BigInt(shape.length), `Emmett ${id} is ${state.value} at version ${currentStreamVersion}, expected ${shape.length}`);
  }
  return (shape.streams * shape.length) / (ms / 1000);
}

const rawEvolveCounter = (s: CounterState, by: number): CounterState => (Counter.events.added as (s: CounterState, d: { by: number }) => CounterState)(s, { by });

/** Concurrency probe, not timed: `n` commands to one fresh stream at once, on each side. */
async function concurrencyProbe(n: number): Promise<string[]> {
  const store = getInMemoryEventStore();
  const outcomes = await Promise.allSettled(Array.from({ length: n }, () => emmettCounter(store, 'counter-probe', { type: 'add', data: { by: 1 } })));
  const ok = outcomes.filter((o) => o.status === 'fulfilled').length;
  const conflicts = outcomes.filter((o) => o.status === 'rejected' && isExpectedVersionConflictError(o.reason)).length;
  const { state } = await store.aggregateStream('counter-probe', {
    evolve: (s: CounterState, e: { type: string; data: { by: number } }) => rawEvolveCounter(s, e.data.by),
    initialState: () => Counter.initial(),
  });

  const runtime = createRuntime({ actors: [Counter] });
  const replies = await Promise.all(Array.from({ length: n }, () => runtime.send(Counter.ref('probe'), { type: 'add', payload: { by: 1 } })));
  const accepted = replies.filter((r) => r.status === 'accepted').length;
  const view = await runtime.inspect<CounterState>(Counter.ref('probe'));
  await runtime.stop();
  return [
    `measured: ${n} commands sent at once to one new stream: Emmett (default options, no retry) accepted ${ok}, ${conflicts} failed with ExpectedVersionConflictError, ` +
      `${n - ok - conflicts} otherwise; the stream's state is ${state.value}. troupe accepted ${accepted} (queued in the actor's mailbox); its state is ${view.state.value}. ` +
      'The timed shapes never have two commands to one stream in flight, so Emmett needs no retries there.',
  ];
}

async function benchEmbedded(o: PeerConfig['embedded'], log: (line: string) => void): Promise<PeerFigure[]> {
  const shapes = [
    { key: 'short', measured: `embedded, ${o.shortStreams} streams of ${o.shortLength} commands, one after another, each awaited` },
    { key: 'long', measured: `embedded, 1 stream of ${o.longLength.toLocaleString('en-US')} commands, each awaited` },
    { key: 'many', measured: `embedded, ${o.manyStreams.toLocaleString('en-US')} streams x ${o.manyCommands} commands, ${o.manyStreams.toLocaleString('en-US')} in flight (one per stream)` },
  ] as const;
  const shapeOf = (key: (typeof shapes)[number]['key']): EmbeddedShape => {
    if (key === 'short') return { streams: o.shortStreams, length: o.shortLength, mode: 'serial' };
    if (key === 'long') return { streams: 1, length: o.longLength, mode: 'serial' };
    return { streams: o.manyStreams, length: o.manyCommands, mode: 'waves' };
  };
  const runs = new Map(shapes.map((s) => [s.key, { troupe: [] as number[], peer: [] as number[], baseline: [] as number[] }]));

  // One full GC before the part, none while measuring: a forced full GC right before a timed pass
  // made the next pass slower on both sides, and more so for troupe (two A/B runs on this machine,
  // 12 rounds of 2,000 commands on one stream: median per-round troupe/Emmett 1.6 and 1.6 with a
  // GC before every pass, 3.1 and 2.8 without), so it would bias the ratio. The order of the sides rotates every round
  // instead, so the garbage a side leaves behind is billed to each other side equally often.
  collectGarbage();
  for (let round = 0; round < o.warmupRounds + o.rounds; round++) {
    const record = round >= o.warmupRounds;
    for (const { key } of shapes) {
      const shape = shapeOf(key);
      const rates: Partial<Record<Side, number>> = {};
      for (const side of rotation(sides, round)) {
        await settle();
        const tag = `${key}-r${round}`;
        rates[side] = side === 'baseline' ? rawShape(shape, o.rawMinFolds) : side === 'troupe' ? await troupeShape(shape, tag) : await emmettShape(shape, tag);
      }
      if (record) {
        const r = runs.get(key)!;
        r.troupe.push(rates.troupe!);
        r.peer.push(rates.peer!);
        r.baseline.push(rates.baseline!);
      }
    }
    if (record) {
      const last = (key: (typeof shapes)[number]['key']) => {
        const r = runs.get(key)!;
        return `${key} ${(r.troupe.at(-1)! / r.peer.at(-1)!).toFixed(2)}`;
      };
      log(`peers: embedded round ${round - o.warmupRounds + 1}/${o.rounds}: troupe/Emmett ${shapes.map((s) => last(s.key)).join(', ')}`);
    }
  }
  return shapes.map((s) => figure(s.measured, 'rate', runs.get(s.key)!, emmettName, 'raw fold of the same decide/evolve'));
}

// ---------------------------------------------------------------------------------------------
// 2. Redis: eventstore (redis backend) vs @troupe/redis vs raw ioredis

/** The parts of the `eventstore` package this bench uses (CommonJS, untyped). */
interface EsEvent {
  streamRevision: number;
  id: string;
  commitId: string;
  commitSequence: number;
  commitStamp: Date;
  restInCommitStream: number;
  payload: { readonly type: string; readonly data: Posted };
}
interface EsStream {
  events: EsEvent[];
  uncommittedEvents: EsEvent[];
  lastRevision: number;
  addEvent(event: unknown): void;
  commit(callback: (error: Error | null) => void): void;
}
interface EsSnapshot {
  readonly revision: number;
  readonly data: LedgerState;
}
type EsQuery = { readonly aggregateId: string; readonly aggregate: string; readonly context: string };
interface Eventstore {
  init(callback: (error: Error | null) => void): void;
  getEventStream(query: EsQuery, callback: (error: Error | null, stream: EsStream) => void): void;
  getFromSnapshot(query: EsQuery, callback: (error: Error | null, snapshot: EsSnapshot | null, stream: EsStream) => void): void;
  createSnapshot(snapshot: EsQuery & { revision: number; version: number; data: LedgerState }, callback: (error: Error | null) => void): void;
  readonly store: {
    addEvents(events: EsEvent[], callback: (error: Error | null) => void): void;
    disconnect(): void;
  };
}

const require = createRequire(import.meta.url);

function openEventstore(prefix: string): Promise<Eventstore> {
  const create = require('eventstore') as (options: object) => Eventstore;
  const url = new URL(redisBenchUrl);
  // The redis backend takes host/port/db; `prefix` is its key prefix (it also keeps `nextItemId:<prefix>`).
  const es = create({ type: 'redis', host: url.hostname, port: Number(url.port), db: Number(url.pathname.slice(1)), prefix });
  return new Promise((resolve, reject) => es.init((error) => (error ? reject(error) : resolve(es))));
}

/**
 * An empty stream object, as `getEventStream` returns for a stream with no events. Built directly
 * (the package's own class) because `getEventStream` SCANs the whole database even for a new
 * stream, which is not part of an append.
 */
function newEsStream(es: Eventstore, query: EsQuery): EsStream {
  const EventStream = require('eventstore/lib/eventStream') as new (es: Eventstore, query: EsQuery, events: EsEvent[]) => EsStream;
  return new EventStream(es, query, []);
}

const esCommit = (stream: EsStream) => new Promise<void>((resolve, reject) => stream.commit((e) => (e ? reject(e) : resolve())));
const esGetStream = (es: Eventstore, q: EsQuery) => new Promise<EsStream>((resolve, reject) => es.getEventStream(q, (e, s) => (e ? reject(e) : resolve(s))));
const esFromSnapshot = (es: Eventstore, q: EsQuery) =>
  new Promise<{ snapshot: EsSnapshot | null; stream: EsStream }>((resolve, reject) => es.getFromSnapshot(q, (e, snapshot, stream) => (e ? reject(e) : resolve({ snapshot, stream }))));
const esCreateSnapshot = (es: Eventstore, q: EsQuery, revision: number, data: LedgerState) =>
  new Promise<void>((resolve, reject) => es.createSnapshot({ ...q, revision, version: revision, data }, (e) => (e ? reject(e) : resolve())));
const esAddEvents = (es: Eventstore, events: EsEvent[]) => new Promise<void>((resolve, reject) => es.store.addEvents(events, (e) => (e ? reject(e) : resolve())));

const esQuery = (aggregateId: string): EsQuery => ({ aggregateId, aggregate: 'ledger', context: 'bench' });

/** The raw baseline's encoder, as in redis.ts: msgpackr on the plain object. */
const rawPackr = new Packr({ useRecords: false });

interface Prepared {
  readonly pack: Pack;
  readonly expected: string[];
  readonly version: string;
  readonly entry: string;
}

function prepare(packs: readonly Pack[]): Prepared[] {
  return packs.map((pack) => {
    const version = VC.encode(pack.version);
    return { pack, expected: pack.parents.map(VC.encode), version, entry: JSON.stringify([pack.actor.type, pack.actor.id, version, 0]) };
  });
}

/** redis.ts's raw append: msgpackr `pack` of the pack object + EVALSHA of `rawAppendLua` (check the head, HSET, SET head, RPUSH a log entry). */
async function rawAppend(client: Redis, sha: string, base: string, log: string, a: Prepared): Promise<void> {
  const reply = (await client.evalsha(sha, 3, `${base}:p`, `${base}:h`, log, a.expected[0] ?? '', a.version, rawPackr.pack(a.pack), a.entry)) as string[];
  if (reply[0] !== 'ok') throw new Error(`peers bench: raw append conflict: ${reply.join(' ')}`);
}

/** Calls of the named commands eventstore's own Redis client (node_redis) makes while `fn` runs (other clients of the server are not counted). */
async function esClientCalls(es: Eventstore, names: readonly string[], fn: () => Promise<unknown>): Promise<Map<string, number>> {
  const esClient = (es.store as unknown as { client: Record<string, unknown> }).client;
  const counts = new Map<string, number>();
  for (const name of names) {
    const original = esClient[name] as (...args: unknown[]) => unknown;
    esClient[name] = function (this: unknown, ...args: unknown[]) {
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return original.apply(this, args);
    };
  }
  try {
    await fn();
  } finally {
    for (const name of names) delete esClient[name];
  }
  return counts;
}

async function commandStats(client: Redis): Promise<Map<string, { calls: number; usec: number }>> {
  const stats = new Map<string, { calls: number; usec: number }>();
  for (const line of (await client.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (m) stats.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return stats;
}

function ledgerCents(state: LedgerState): number {
  return Math.round(state.balance * 100);
}

function foldPayloads(state: LedgerState, events: readonly EsEvent[]): LedgerState {
  let s = state;
  for (const e of events) s = evolveLedger(s, e.payload.data);
  return s;
}

interface RedisContext {
  readonly client: Redis;
  readonly prefix: string;
  readonly log: (line: string) => void;
  readonly notes: string[];
}

async function benchRedisAppend(ctx: RedisContext, o: PeerConfig['redis'], es: Eventstore, store: RedisStore, sha: string): Promise<PeerFigure[]> {
  const { client, prefix } = ctx;
  const writer = new LedgerPackWriter();
  const serialRuns = { troupe: [] as number[], peer: [] as number[], baseline: [] as number[] };
  const parallelRuns = { troupe: [] as number[], peer: [] as number[], baseline: [] as number[] };
  const rawLog = `${prefix}:raw:{s}:log`;
  let k = 0;
  let lastSerialFrom = 0;

  for (let round = 0; round <= o.rounds; round++) {
    const record = round > 0;
    const scale = record ? 1 : 0.25;
    const serialN = Math.ceil(o.serialAppends * scale);
    const perStream = Math.ceil(o.appendsPerStream * scale);
    // Every side writes the same postings to its own fresh streams.
    const from = k;
    lastSerialFrom = from;
    k += serialN;
    const one = prepare(writer.chain({ type: Ledger.type, id: `s${round}` }, serialN, from));
    const manyFrom = k;
    k += o.streams * perStream;
    const many = Array.from({ length: o.streams }, (_, i) => prepare(writer.chain({ type: Ledger.type, id: `p${round}-${i}` }, perStream, manyFrom + i * perStream)));
    const esOne = newEsStream(es, esQuery(`s${round}`));
    const esMany = Array.from({ length: o.streams }, (_, i) => newEsStream(es, esQuery(`p${round}-${i}`)));

    const rates: Partial<Record<Side, number>> = {};
    for (const side of rotation(sides, round)) {
      await settle();
      const ms = await timedMs(async () => {
        if (side === 'baseline') for (const a of one) await rawAppend(client, sha, `${prefix}:raw:{s}:s${round}`, rawLog, a);
        else if (side === 'troupe') for (const a of one) await store.append(a.pack, a.expected);
        else
          for (let i = 0; i < serialN; i++) {
            esOne.addEvent({ type: 'posted', data: posting(from + i) });
            await esCommit(esOne);
          }
      });
      rates[side] = serialN / (ms / 1000);
    }
    if (record) (serialRuns.troupe.push(rates.troupe!), serialRuns.peer.push(rates.peer!), serialRuns.baseline.push(rates.baseline!));

    for (const side of rotation(sides, round)) {
      await settle();
      const ms = await timedMs(() =>
        Promise.all(
          many.map(async (chain, i) => {
            if (side === 'baseline') for (const a of chain) await rawAppend(client, sha, `${prefix}:raw:{${i % 16}}:p${round}-${i}`, `${prefix}:raw:{${i % 16}}:log`, a);
            else if (side === 'troupe') for (const a of chain) await store.append(a.pack, a.expected);
            else
              for (let j = 0; j < perStream; j++) {
                esMany[i]!.addEvent({ type: 'posted', data: posting(manyFrom + i * perStream + j) });
                await esCommit(esMany[i]!);
              }
          }),
        ),
      );
      rates[side] = (o.streams * perStream) / (ms / 1000);
    }
    if (record) (parallelRuns.troupe.push(rates.troupe!), parallelRuns.peer.push(rates.peer!), parallelRuns.baseline.push(rates.baseline!));
    if (record) {
      ctx.log(
        `peers: redis append round ${round}/${o.rounds}: troupe/eventstore serial ${(serialRuns.troupe.at(-1)! / serialRuns.peer.at(-1)!).toFixed(2)}, ` +
          `parallel ${(parallelRuns.troupe.at(-1)! / parallelRuns.peer.at(-1)!).toFixed(2)}`,
      );
    }

    // Not timed: every side holds every append of this round.
    const head = await store.heads({ type: Ledger.type, id: `s${round}` });
    check(head.length === 1 && head[0]!.version['eu-west'] === serialN, `troupe s${round} head ${JSON.stringify(head.map((h) => h.version))}`);
    check((await client.get(`${prefix}:raw:{s}:s${round}:h`)) === one.at(-1)!.version, `raw s${round} head`);
    const revisionKey = (id: string) => `${prefix}:es:events:bench:ledger:${id}:revision`;
    check(Number(await client.get(revisionKey(`s${round}`))) === serialN, `eventstore s${round} revision`);
    const esRevisions = await client.mget(...many.map((_, i) => revisionKey(`p${round}-${i}`)));
    check(esRevisions.every((r) => Number(r) === perStream), `eventstore p${round}-* revisions ${esRevisions.join(',')}`);
    const troupeHeads = await Promise.all(many.map((_, i) => store.heads({ type: Ledger.type, id: `p${round}-${i}` })));
    check(troupeHeads.every((h) => h.length === 1 && h[0]!.version['eu-west'] === perStream), `troupe p${round}-* heads`);
  }

  // Not timed: the last serial stream read back through each side's own read path, folded.
  const lastRound = o.rounds;
  const expectedCents = postingCents(lastSerialFrom, o.serialAppends);
  const esStream = await esGetStream(es, esQuery(`s${lastRound}`));
  check(esStream.events.length === o.serialAppends && ledgerCents(foldPayloads(Ledger.initial(), esStream.events)) === expectedCents, 'eventstore read back of the last serial stream');
  const troupeActor = { type: Ledger.type, id: `s${lastRound}` };
  const chain = await store.loadChain(troupeActor, VC.encode((await store.heads(troupeActor))[0]!.version));
  const troupeState = fold<LedgerState>(Ledger, chain.base ? (chain.base.state as LedgerState) : Ledger.initial(), chain.packs.flatMap((p) => p.events));
  check(troupeState.postings === o.serialAppends && ledgerCents(troupeState) === expectedCents, 'troupe read back of the last serial stream');

  const raw = 'raw ioredis: msgpackr pack + EVALSHA (conditional append)';
  const esName = 'eventstore, redis backend: addEvent + commit';
  return [
    figure(`redis append, 1 stream, ${o.serialAppends.toLocaleString('en-US')} appends each awaited (appends/s)`, 'rate', serialRuns, esName, raw),
    figure(`redis append, ${o.streams} streams in parallel, ${o.appendsPerStream} appends each, each stream serial (appends/s)`, 'rate', parallelRuns, esName, raw),
  ];
}

async function benchRedisLoad(ctx: RedisContext, o: PeerConfig['redis'], es: Eventstore, store: RedisStore): Promise<PeerFigure[]> {
  const { client, prefix } = ctx;
  const setupStart = performance.now();
  const writer = new LedgerPackWriter();
  const n = o.loadEvents;
  const cut = n - o.snapshotTail;
  const expectedCents = postingCents(0, n);
  const stateAtCut = (() => {
    let s = Ledger.initial();
    for (let i = 0; i < cut; i++) s = evolveLedger(s, posting(i));
    return s;
  })();

  // troupe: one actor without snapshot, one with a snapshot at `cut` (stored as a replica receives packs).
  const plain: ActorRef = { type: Ledger.type, id: 'load' };
  const snapped: ActorRef = { type: Ledger.type, id: 'load-snap' };
  let rawPacks: Pack[] = [];
  for (const actor of [plain, snapped]) {
    const packs = writer.chain(actor, n, 0);
    for (let i = 0; i < packs.length; i += 1_000) await store.merge(packs.slice(i, i + 1_000));
    if (actor === snapped) await store.saveSnapshot(actor, { version: packs[cut - 1]!.version, state: stateAtCut });
    else rawPacks = packs;
  }
  // raw: a list of the same packs as the plain actor's (msgpackr), and a snapshot key for the other case.
  const rawList = `${prefix}:raw:{load}:list`;
  const rawSnap = `${prefix}:raw:{load}:snap`;
  for (let i = 0; i < n; i += 500) await client.rpush(rawList, ...rawPacks.slice(i, i + 500).map((p) => rawPackr.pack(p)));
  await client.set(rawSnap, rawPackr.pack({ version: rawPacks[cut - 1]!.version, state: stateAtCut }));
  // eventstore: one stream, written through its own write path (`store.addEvents`, as `commit`
  // calls it), one event per commit, commit stamps one ms apart (see the header: same-ms commits
  // sort wrongly), then a snapshot at `cut`. getEventStream ignores snapshots, so the same stream
  // serves both loads (and the database holds only this stream's keys, which its SCAN walks).
  const t0 = Date.now() - n - 60_000;
  for (let i = 0; i < n; i += 500) {
    const stream = newEsStream(es, esQuery('load'));
    for (let j = i; j < Math.min(n, i + 500); j++) stream.addEvent({ type: 'posted', data: posting(j) });
    stream.uncommittedEvents.forEach((e, j) => {
      e.id = `${1_000_000 + i + j}0`;
      e.commitId = `${1_000_000 + i + j}`;
      e.commitSequence = 0;
      e.restInCommitStream = 0;
      e.commitStamp = new Date(t0 + i + j);
    });
    await esAddEvents(es, stream.uncommittedEvents);
  }
  await esCreateSnapshot(es, esQuery('load'), cut - 1, stateAtCut);
  ctx.log(`peers: load data written in ${((performance.now() - setupStart) / 1000).toFixed(1)} s`);

  const loads = {
    plain: {
      baseline: async () => {
        const list = await client.lrangeBuffer(rawList, 0, -1);
        let s = Ledger.initial();
        for (const b of list) s = fold(Ledger, s, (rawPackr.unpack(b) as Pack).events);
        return s;
      },
      troupe: async () => {
        const heads = await store.heads(plain);
        const chain = await store.loadChain(plain, VC.encode(heads[0]!.version));
        return fold<LedgerState>(Ledger, chain.base ? (chain.base.state as LedgerState) : Ledger.initial(), chain.packs.flatMap((p) => p.events));
      },
      peer: async () => foldPayloads(Ledger.initial(), (await esGetStream(es, esQuery('load'))).events),
    },
    snapshot: {
      baseline: async () => {
        const [snap, tail] = await Promise.all([client.getBuffer(rawSnap), client.lrangeBuffer(rawList, -o.snapshotTail, -1)]);
        let s = (rawPackr.unpack(snap!) as { state: LedgerState }).state;
        for (const b of tail) s = fold(Ledger, s, (rawPackr.unpack(b) as Pack).events);
        return s;
      },
      troupe: async () => {
        const heads = await store.heads(snapped);
        const chain = await store.loadChain(snapped, VC.encode(heads[0]!.version));
        return fold<LedgerState>(Ledger, chain.base ? (chain.base.state as LedgerState) : Ledger.initial(), chain.packs.flatMap((p) => p.events));
      },
      peer: async () => {
        const { snapshot, stream } = await esFromSnapshot(es, esQuery('load'));
        check(snapshot !== null && snapshot.revision === cut - 1 && stream.events.length === o.snapshotTail, `eventstore getFromSnapshot: snapshot ${snapshot?.revision}, ${stream.events.length} events`);
        return foldPayloads(snapshot!.data, stream.events);
      },
    },
  } as const;

  // Not timed: the Redis commands an eventstore load sends, counted on its own client (immune to
  // other clients of the server), and Redis's time for its SCANs (INFO commandstats delta, kept
  // only when the server counted exactly this load's SCANs, i.e. no other client scanned meanwhile).
  const esCalls = async (load: () => Promise<LedgerState>) => {
    const before = await commandStats(client);
    let state: LedgerState | undefined;
    const counts = await esClientCalls(es, ['scan', 'mget', 'get'], async () => {
      state = await load();
    });
    const after = await commandStats(client);
    const scans = counts.get('scan') ?? 0;
    const serverScans = (after.get('scan')?.calls ?? 0) - (before.get('scan')?.calls ?? 0);
    const scanMs = ((after.get('scan')?.usec ?? 0) - (before.get('scan')?.usec ?? 0)) / 1000;
    const text =
      `${[...counts].map(([name, c]) => `${c} ${name.toUpperCase()}`).join(' + ')} round trips` +
      (serverScans === scans ? ` (SCANs: ${scanMs.toFixed(1)} ms in Redis)` : ' (other clients scanned meanwhile: no server time)');
    return { state: state!, text };
  };

  // Correctness first (not timed; it also warms every load path up): every side folds to the same state.
  const esCallTexts: Record<string, string> = {};
  for (const name of ['plain', 'snapshot'] as const) {
    for (const side of sides) {
      let s: LedgerState;
      if (side === 'peer') {
        const counted = await esCalls(loads[name].peer);
        esCallTexts[name] = counted.text;
        s = counted.state;
      } else {
        s = await loads[name][side]();
      }
      check(s.postings === n && ledgerCents(s) === expectedCents, `load ${name}/${side}: ${s.postings} postings, ${ledgerCents(s)} cents, expected ${n} / ${expectedCents}`);
    }
  }
  const troupeSnapChain = await store.loadChain(snapped, VC.encode((await store.heads(snapped))[0]!.version));
  check(troupeSnapChain.base !== undefined && troupeSnapChain.packs.length === o.snapshotTail, 'troupe snapshot chain');
  ctx.log(`peers: load data checked on every side after ${((performance.now() - setupStart) / 1000).toFixed(1)} s`);
  ctx.notes.push(
    `measured: Redis commands of one eventstore load of the ${n.toLocaleString('en-US')}-event stream (${2 * n} keys of its own in the database): getEventStream ${esCallTexts.plain}; ` +
      `getFromSnapshot ${esCallTexts.snapshot}. troupe's load is 1 EVALSHA for the heads plus 1 per 2,000 packs walked (loadChain, default chainPacksPerCall): 6 without snapshot, 2 with; raw is 1 LRANGE (+ 1 GET with snapshot).`,
  );

  const runs = {
    plain: { troupe: [] as number[], peer: [] as number[], baseline: [] as number[] },
    snapshot: { troupe: [] as number[], peer: [] as number[], baseline: [] as number[] },
  };
  const dbSizes: number[] = [];
  for (let it = 0; it < o.loadWarmup + o.loadIterations; it++) {
    const record = it >= o.loadWarmup;
    for (const name of ['plain', 'snapshot'] as const) {
      for (const side of rotation(sides, it)) {
        await settle();
        if (side === 'peer') dbSizes.push(await client.dbsize());
        let state: LedgerState | undefined;
        const ms = await timedMs(async () => {
          state = await loads[name][side]();
        });
        check(state!.postings === n && ledgerCents(state!) === expectedCents, `load ${name}/${side} in iteration ${it}`);
        if (record) runs[name][side].push(ms);
      }
    }
    if (record) {
      ctx.log(
        `peers: redis load iteration ${it - o.loadWarmup + 1}/${o.loadIterations}: eventstore/troupe ms ${(runs.plain.peer.at(-1)! / runs.plain.troupe.at(-1)!).toFixed(2)}, ` +
          `with snapshot ${(runs.snapshot.peer.at(-1)! / runs.snapshot.troupe.at(-1)!).toFixed(2)}`,
      );
    }
  }
  const db = summarize(dbSizes);
  ctx.notes.push(
    `measured: keys in Redis database 10 while eventstore loaded (its SCAN walks all of them): median ${db.median}, ${db.min} – ${db.max} ` +
      `(this run's load phase: ${2 * n} eventstore keys for the stream (every event twice: the event and its "undispatched" copy) and its snapshot, troupe's keys of 2 actors, the raw list; plus whatever other clients kept in database 10).`,
  );
  const raw = 'raw ioredis: LRANGE + msgpackr unpack + fold';
  return [
    figure(`redis load + fold of 1 stream of ${n.toLocaleString('en-US')} events, no snapshot (ms per load)`, 'ms', runs.plain, 'eventstore, redis backend: getEventStream + fold', raw),
    figure(
      `redis load + fold of 1 stream of ${n.toLocaleString('en-US')} events, snapshot at ${cut.toLocaleString('en-US')} + ${o.snapshotTail} events (ms per load)`,
      'ms',
      runs.snapshot,
      'eventstore, redis backend: getFromSnapshot + fold',
      'raw ioredis: GET snapshot + LRANGE of the tail + unpack + fold',
    ),
  ];
}

/** Behaviour probes (not timed), each stated as measured. */
async function redisProbes(ctx: RedisContext, es: Eventstore, store: RedisStore): Promise<void> {
  const { client, prefix, notes } = ctx;
  // 1. Two writers that read the same (empty) revision, each commits one event.
  const a = newEsStream(es, esQuery('probe-race'));
  const b = newEsStream(es, esQuery('probe-race'));
  a.addEvent({ type: 'posted', data: posting(1) });
  b.addEvent({ type: 'posted', data: posting(2) });
  const outcomes = await Promise.allSettled([esCommit(a), esCommit(b)]);
  const committed = outcomes.filter((x) => x.status === 'fulfilled').length;
  const revision = await client.get(`${prefix}:es:events:bench:ledger:probe-race:revision`);
  const writer = new LedgerPackWriter();
  const actor: ActorRef = { type: Ledger.type, id: 'probe-race' };
  const [p1] = writer.chain(actor, 1, 1);
  const [p2] = writer.chain(actor, 1, 2);
  const troupeOutcomes = await Promise.allSettled([store.append(p1!, []), store.append(p2!, [])]);
  const troupeOk = troupeOutcomes.filter((x) => x.status === 'fulfilled').length;
  const troupeConflicts = troupeOutcomes.filter((x) => x.status === 'rejected' && x.reason instanceof AppendConflictError).length;
  notes.push(
    `measured: two writers append one event each to the same stream, both having read it empty: eventstore committed ${committed} of 2 (no conditional append; ` +
      `the stream's revision counter is now ${revision}, both events kept); @troupe/redis accepted ${troupeOk}, ${troupeConflicts} AppendConflictError (the runtime then re-reads and re-decides).`,
  );

  // 2. Round trips of one commit of one event.
  const single = newEsStream(es, esQuery('probe-commit'));
  single.addEvent({ type: 'posted', data: posting(3) });
  const commitCalls = await esClientCalls(es, ['incr', 'multi', 'mset', 'set', 'eval', 'evalsha', 'watch'], () => esCommit(single));
  notes.push(
    `measured: one eventstore commit of one event calls ${[...commitCalls].map(([name, c]) => `${c} ${name.toUpperCase()}`).join(', ')} on its client ` +
      '(INCR of the commit id, MULTI/EXEC of one INCR per event for the revisions, MSET of the event and its "undispatched" copy: 3 round trips); ' +
      "troupe's append is 1 EVALSHA, raw's 1 EVALSHA.",
  );

  // 3. One commit of 12 events, a snapshot at revision 5, then getFromSnapshot.
  const batch = newEsStream(es, esQuery('probe-batch'));
  for (let i = 0; i < 12; i++) batch.addEvent({ type: 'posted', data: posting(i) });
  await esCommit(batch);
  let s = Ledger.initial();
  for (let i = 0; i <= 5; i++) s = evolveLedger(s, posting(i));
  await esCreateSnapshot(es, esQuery('probe-batch'), 5, s);
  const { snapshot, stream } = await esFromSnapshot(es, esQuery('probe-batch'));
  const revisions = stream.events.map((e) => e.streamRevision);
  notes.push(
    `measured: eventstore, one commit of 12 events (revisions 0–11), a snapshot at revision ${snapshot?.revision}, then getFromSnapshot returned the events of revisions ` +
      `[${revisions.join(', ')}] (expected [6, 7, 8, 9, 10, 11]): the redis backend slices the stream's keys sorted as strings, and the commit sequence ` +
      `("0", "1", "10", "11", "2", ...) or two commits in one millisecond break that order. A full getEventStream re-sorts by revision and is not affected.`,
  );

  // 4. Bytes per event as stored.
  const esKeys: string[] = [];
  let cursor = '0';
  do {
    const [next, batchKeys] = await client.scan(cursor, 'MATCH', `${prefix}:es:events:*:probe-race:*`, 'COUNT', 1000);
    esKeys.push(...batchKeys.filter((key) => !key.endsWith(':revision')));
    cursor = next;
  } while (cursor !== '0');
  const esBytes = esKeys.length > 0 ? await client.strlen(esKeys[0]!) : 0;
  notes.push(
    `measured: one posted event (5 data fields) as stored: eventstore ${esBytes} B of JSON per key, 2 keys per event (the event and its "undispatched" copy, ` +
      `each with the key itself ~${esKeys[0]?.length ?? 0} B long); troupe ${encodePack(p1!).length} B per single-event pack (compact msgpack, one hash field, plus parent link, ` +
      `command id and log entry); raw msgpackr of the pack object ${rawPackr.pack(p1!).length} B.`,
  );
}

async function benchRedisPeers(o: PeerConfig['redis'], log: (line: string) => void, notes: string[], versions: Record<string, string>): Promise<PeerFigure[] | string> {
  const client = new Redis(redisBenchUrl, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  let connectionError: string | undefined;
  client.on('error', (error: Error) => {
    connectionError = error.message;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    return `${redisBenchUrl} is not reachable (${connectionError ?? (error as Error).message})`;
  }
  const prefix = `troupe-bench-peers-${Date.now().toString(36)}-${process.pid}`;
  const stores: RedisStore[] = [];
  let es: Eventstore | undefined;
  const cleanup = async () => (await deleteKeysMatching(client, `${prefix}:*`)) + (await deleteKeysMatching(client, `nextItemId:${prefix}:*`));
  try {
    versions.redisServer = /redis_version:(\S+)/.exec(await client.info('server'))?.[1] ?? 'unknown';
    const ctx: RedisContext = { client, prefix, log, notes };
    const sha = (await client.script('LOAD', rawAppendLua)) as string;

    // Append phase.
    let store = await connectRedisStore({ url: redisBenchUrl, prefix });
    stores.push(store);
    es = await openEventstore(`${prefix}:es`);
    collectGarbage(); // once before the Redis part, none while measuring (as redis.ts)
    log(`peers: redis append, ${o.rounds} rounds (+1 warm-up): 1 stream x ${o.serialAppends}, ${o.streams} streams x ${o.appendsPerStream}`);
    const appendFigures = await benchRedisAppend(ctx, o, es, store, sha);
    await redisProbes(ctx, es, store);

    // Load phase, on a database without the append phase's keys (eventstore's load SCANs all keys).
    const deleted = await cleanup();
    log(`peers: deleted the append phase's ${deleted} keys; redis load of ${o.loadEvents} events, ${o.loadIterations} iterations (+${o.loadWarmup} warm-up)`);
    store = await connectRedisStore({ url: redisBenchUrl, prefix });
    stores.push(store);
    const loadFigures = await benchRedisLoad(ctx, o, es, store);
    return [...appendFigures, ...loadFigures];
  } finally {
    es?.store.disconnect();
    for (const s of stores) await s.close().catch(() => undefined);
    // Also after a failure: leave nothing behind.
    const deleted = await cleanup().catch(() => -1);
    log(`peers: deleted the run's remaining ${deleted} keys (${prefix}:*, nextItemId:${prefix}:*)`);
    await client.quit().catch(() => client.disconnect());
  }
}

// ---------------------------------------------------------------------------------------------

export async function benchPeers(config: PeerConfig, log: (line: string) => void, options: { readonly embeddedOnly?: boolean } = {}): Promise<PeerResults> {
  const versions: Record<string, string> = {
    '@event-driven-io/emmett': packageVersion('@event-driven-io/emmett'),
    eventstore: packageVersion('eventstore'),
    redis: packageVersion('redis'),
    ioredis: packageVersion('ioredis'),
    msgpackr: packageVersion('msgpackr'),
    node: process.version,
  };
  const notes: string[] = [];
  log(`peers: embedded (Emmett ${versions['@event-driven-io/emmett']}), ${config.embedded.rounds} rounds (+${config.embedded.warmupRounds} warm-up); load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  notes.push(...(await concurrencyProbe(config.embedded.probeConcurrent)));
  const figures = await benchEmbedded(config.embedded, log);
  if (options.embeddedOnly) return { figures, versions, notes, redisSkipped: 'not asked for (--embedded-only)' };
  const redis = await benchRedisPeers(config.redis, log, notes, versions);
  if (sink === 0.5) log('unreachable');
  if (typeof redis === 'string') {
    log(`peers: REDIS PART SKIPPED: ${redis}`);
    return { figures, versions, notes, redisSkipped: redis };
  }
  return { figures: [...figures, ...redis], versions, notes };
}
