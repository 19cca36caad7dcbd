/**
 * The Redis store (`@troupe/redis`) against raw ioredis on the same server, in the same run:
 *
 * 1. append throughput (one actor awaited pack by pack, and 64 actors in parallel, each serial)
 *    vs a minimal conditional-append Lua script of the same work shape called with `evalsha`;
 * 2. replay of a 10,000-event chain without snapshot (`store.loadChain`) vs `LRANGE` of a list
 *    holding the same encoded packs + msgpackr `unpack` of each, and what `chainPacksPerCall` does;
 * 3. bytes per event: encoded size of a realistic pack, msgpack vs JSON, and `MEMORY USAGE` of the
 *    packs hash per pack, both ways.
 *
 * Everything goes to database 10 of the Redis at 127.0.0.1:6379 under a key prefix unique to the
 * run, deleted at the end (SCAN MATCH prefix:* + DEL). Redis not reachable: the scenario is
 * skipped (the caller prints a loud line and fails under CI=true).
 */
import { type ActorRef, defineActor, type Pack } from '@troupe/runtime';
import { commandPack, decodePack, encodePack, encodeValue, FlakeIdSource, VC } from '@troupe/runtime/store';
import { fold } from '@troupe/runtime/resolution';
import { ManualClock } from '@troupe/runtime/testkit';
import { connectRedisStore, type RedisStore, redisStoreDefaults } from '@troupe/redis';
import { deleteKeysMatching } from '@troupe/redis/testing';
import { Redis } from 'ioredis';
import { pathToFileURL } from 'node:url';
import { Packr, Unpackr } from 'msgpackr';

/** The raw baseline's encoder: msgpackr on the plain pack object, as a user of raw ioredis would. */
const rawPackr = new Packr({ useRecords: false });
import { collectGarbage, settle, type Summary, summarize } from './stats.js';
import { packBody } from './packBody.js';

/** The only server this bench talks to. */
export const redisBenchUrl = 'redis://127.0.0.1:6379/10';

export interface RedisBenchOptions {
  readonly append: {
    /** Measured rounds (plus one smaller warm-up round); each round measures raw and troupe, both shapes. */
    readonly rounds: number;
    /** Appends to one actor per round, each awaited. */
    readonly serialAppends: number;
    /** Actors appended to in parallel. */
    readonly actors: number;
    /** Appends per actor and round in the parallel shape (each actor serial). */
    readonly appendsPerActor: number;
  };
  readonly replay: {
    /** Events (single-event packs) in the chain. */
    readonly events: number;
    /** Measured iterations of every variant (after `warmup` unrecorded ones). */
    readonly iterations: number;
    readonly warmup: number;
    /** `chainPacksPerCall` values compared (the store default included). */
    readonly chainPacksPerCall: readonly number[];
  };
  readonly size: {
    /** Packs written (one actor) before `MEMORY USAGE`. */
    readonly packs: number;
  };
}

/** Server-side time of one kind of command, from `INFO commandstats` deltas around a phase. */
export interface ServerTime {
  readonly calls: number;
  /** µs per call as Redis counts it (for EVALSHA: the whole script). */
  readonly usecPerCall: number;
  /** Measured phases, and those left out because another client ran the same command meanwhile. */
  readonly phases?: number;
  readonly phasesLeftOut?: number;
}

export interface AppendFigure {
  /** appends/s, per round. */
  readonly troupe: Summary;
  readonly raw: Summary;
  /** troupe / raw, per round. */
  readonly ratio: Summary;
  readonly appendsPerRound: number;
  /** Server time per EVALSHA, whole measured phase, troupe and raw. */
  readonly serverTroupe?: ServerTime;
  readonly serverRaw?: ServerTime;
  /** CPU time of this Node process (user + system) per append, µs, per round. */
  readonly clientCpuTroupe: Summary;
  readonly clientCpuRaw: Summary;
}

export interface ReplayVariant {
  readonly chainPacksPerCall: number;
  /** ms per loadChain of the whole chain. */
  readonly ms: Summary;
  /** raw ms / troupe ms, per iteration (raw measured in the same iteration). */
  readonly ratio: Summary;
  readonly scriptCalls: number;
  /** Server time per loadChain script call (INFO commandstats delta). */
  readonly server?: ServerTime;
}

export interface RedisResults {
  readonly skipped: false;
  readonly url: string;
  readonly redisVersion: string;
  readonly prefix: string;
  readonly keysDeleted: number;
  readonly samplePack: Pack;
  readonly append: {
    readonly serial: AppendFigure;
    readonly parallel: AppendFigure & { readonly actors: number; readonly appendsPerActor: number };
  };
  readonly replay: {
    readonly events: number;
    readonly packBytes: Summary;
    /** Raw: LRANGE of the list + msgpackr unpack of each element, ms. */
    readonly raw: Summary;
    /** Raw parts: LRANGE alone, unpack alone (of the same buffers), ms. */
    readonly rawLrangeOnly: Summary;
    readonly rawUnpackOnly: Summary;
    /** Client-side decoding as the store does it (`decodePack` of each of the same buffers), ms. */
    readonly decodePackOnly: Summary;
    /** Folding the 10k loaded events (not part of the ratio), ms. */
    readonly foldOnly: Summary;
    readonly serverLrange?: ServerTime;
    readonly variants: readonly ReplayVariant[];
    readonly defaultChainPacksPerCall: number;
  };
  readonly size: {
    readonly packs: number;
    /** Encoded bytes of one pack, median over the packs written. */
    readonly msgpackBytes: Summary;
    readonly jsonBytes: Summary;
    /** The five-field event data alone (msgpack without the format byte, JSON). */
    readonly dataMsgpackBytes: Summary;
    readonly dataJsonBytes: Summary;
    /** MEMORY USAGE (SAMPLES 0) of the packs hash / packs. */
    readonly msgpackHashBytesPerPack: number;
    readonly jsonHashBytesPerPack: number;
    readonly hashEncoding: string;
    /** Everything the store keeps per pack of that actor: :p, :r, :h, :c hashes/sets and the growth of the shard log. */
    readonly troupeAllKeysBytesPerPack: number;
    readonly troupeKeyBytes: Record<string, number>;
  };
}

export interface RedisSkipped {
  readonly skipped: true;
  readonly url: string;
  readonly reason: string;
}

// ---------------------------------------------------------------------------------------------
// Realistic packs: a ledger account, one `posted` event of five fields per command, built the way
// the runtime's Entity builds them (hybrid ts, flake ids, `<replica>.<flake id>` command ids, one
// pack per command, the version incremented on the writing replica).

export interface LedgerState {
  readonly balance: number;
  readonly postings: number;
}
export interface Posted {
  readonly amount: number;
  readonly currency: string;
  readonly reference: string;
  readonly counterparty: string;
  readonly memo: string;
}

export const Ledger = defineActor({
  type: 'ledger',
  initial: (): LedgerState => ({ balance: 0, postings: 0 }),
  commands: {
    post: (_s: LedgerState, p: Posted) => [{ type: 'posted', data: p }],
  },
  events: {
    posted: (s: LedgerState, d: Posted) => ({ balance: s.balance + d.amount, postings: s.postings + 1 }),
  },
});

const replica = 'eu-west';
const memos = ['rent', 'groceries', 'salary', 'utilities', 'refund', 'transfer to savings'];

export class PackWriter {
  private readonly clock = new ManualClock(1_790_000_000_000);
  private readonly ids = new FlakeIdSource({ machineId: 17, clock: this.clock });
  private n = 0;

  /**
   * A chain of `length` single-event packs of `actor`, from the empty history; event data
   * `posting(k)` for k = `from`, `from + 1`, ... (default: continuing this writer's own count).
   */
  chain(actor: ActorRef, length: number, from?: number): Pack[] {
    const packs: Pack[] = [];
    let head: Pack | undefined;
    for (let i = 0; i < length; i++) {
      this.clock.advance(3);
      const now = this.clock.now();
      const commandId = `${replica}.${this.ids.next()}`;
      const data = posting(from === undefined ? this.n++ : from + i);
      const pack = commandPack({ actor, head, replica, commandId, now, ids: this.ids, emitted: [{ type: 'posted', data }] });
      packs.push(pack);
      head = pack;
    }
    return packs;
  }
}

/** The k-th posting: five fields; the amount has two decimals (compare sums in whole cents). */
export function posting(k: number): Posted {
  return {
    amount: Math.round(((k * 7919) % 100_000) + 1) / 100,
    currency: 'EUR',
    reference: `INV-2026-${String(k % 1_000_000).padStart(6, '0')}`,
    counterparty: `acct-${10_000 + ((k * 31) % 90_000)}`,
    memo: memos[k % memos.length]!,
  };
}

// ---------------------------------------------------------------------------------------------
// The raw baseline of an append: check the head, HSET the pack bytes, set the head, RPUSH a log
// entry. One EVALSHA, like the store's append.

export const rawAppendLua = `
local head = redis.call('GET', KEYS[2]) or ''
if head ~= ARGV[1] then return {'conflict', head} end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('RPUSH', KEYS[3], ARGV[4])
return {'ok'}
`;

/** Everything an append needs, computed before the clock starts (the same for both sides). */
interface PreparedAppend {
  readonly pack: Pack;
  /** The store's expected heads argument. */
  readonly expected: string[];
  readonly version: string;
  readonly bytes: Buffer;
  readonly entry: string;
}

function prepare(packs: readonly Pack[]): PreparedAppend[] {
  return packs.map((pack) => {
    const version = VC.encode(pack.version);
    return {
      pack,
      expected: pack.parents.map(VC.encode),
      version,
      bytes: encodePack(pack),
      entry: JSON.stringify([pack.actor.type, pack.actor.id, version, 0]),
    };
  });
}

interface RawAppender {
  append(actorIndex: number, a: PreparedAppend): Promise<void>;
}

function rawAppender(client: Redis, sha: string, prefix: string, tag: string): RawAppender {
  return {
    async append(actorIndex, a) {
      // Same hash-tag layout as the store: every key of one actor and its log share a slot.
      const shard = actorIndex % 16;
      const base = `${prefix}:raw:{${shard}}:${tag}:${actorIndex}`;
      // A raw ioredis + msgpackr user encodes the pack too (as the replay baseline decodes it).
      const bytes = rawPackr.pack(a.pack);
      const reply = (await client.evalsha(sha, 3, `${base}:p`, `${base}:h`, `${prefix}:raw:{${shard}}:log`, a.expected[0] ?? '', a.version, bytes, a.entry)) as string[];
      if (reply[0] !== 'ok') throw new Error(`raw append conflict: ${reply.join(' ')}`);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

async function commandStats(client: Redis): Promise<Map<string, { calls: number; usec: number }>> {
  const info = await client.info('commandstats');
  const stats = new Map<string, { calls: number; usec: number }>();
  for (const line of info.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (m) stats.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return stats;
}

/**
 * Server time of `command` between two `commandStats` snapshots. The server may be shared: when
 * the number of calls is not exactly the `expectedCalls` this bench made, another client ran the
 * same command meanwhile and the phase is left out (undefined).
 */
function serverTime(before: Map<string, { calls: number; usec: number }>, after: Map<string, { calls: number; usec: number }>, command: string, expectedCalls: number): ServerTime | undefined {
  const a = after.get(command);
  if (!a) return undefined;
  const b = before.get(command) ?? { calls: 0, usec: 0 };
  const calls = a.calls - b.calls;
  return calls === expectedCalls ? { calls, usecPerCall: (a.usec - b.usec) / calls } : undefined;
}

/** Accumulates server time over several phases, and counts the phases left out. */
class ServerTimeSum {
  calls = 0;
  usec = 0;
  phases = 0;
  leftOut = 0;
  add(t: ServerTime | undefined): void {
    this.phases++;
    if (!t) {
      this.leftOut++;
      return;
    }
    this.calls += t.calls;
    this.usec += t.calls * t.usecPerCall;
  }
  get(): ServerTime | undefined {
    return this.calls > 0 ? { calls: this.calls, usecPerCall: this.usec / this.calls, phases: this.phases, phasesLeftOut: this.leftOut } : undefined;
  }
}

const cpuMicros = (u: NodeJS.CpuUsage): number => u.user + u.system;

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function serial(appends: readonly PreparedAppend[], append: (a: PreparedAppend) => Promise<void>): Promise<number> {
  const ms = await timed(async () => {
    for (const a of appends) await append(a);
  });
  return appends.length / (ms / 1000);
}

async function parallel(chains: readonly (readonly PreparedAppend[])[], append: (actorIndex: number, a: PreparedAppend) => Promise<void>): Promise<number> {
  const ms = await timed(() =>
    Promise.all(
      chains.map(async (chain, i) => {
        for (const a of chain) await append(i, a);
      }),
    ),
  );
  return chains.reduce((n, c) => n + c.length, 0) / (ms / 1000);
}

// ---------------------------------------------------------------------------------------------

/** A plain ioredis client on the bench's Redis, fail-fast; not reachable: RedisSkipped. */
export async function connectBenchRedis(): Promise<Redis | RedisSkipped> {
  const client = new Redis(redisBenchUrl, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  let connectionError: string | undefined;
  client.on('error', (error: Error) => {
    connectionError = error.message; // reported below if connecting fails
  });
  try {
    await client.connect();
    await client.ping();
    return client;
  } catch (error) {
    client.disconnect();
    return { skipped: true, url: redisBenchUrl, reason: connectionError ?? (error as Error).message };
  }
}

export async function benchRedis(o: RedisBenchOptions, log: (text: string) => void = () => {}): Promise<RedisResults | RedisSkipped> {
  const client = await connectBenchRedis();
  if (!(client instanceof Redis)) return client;
  const prefix = `troupe-bench-${Date.now().toString(36)}-${process.pid}`;
  const stores: RedisStore[] = [];
  const connect = async (chainPacksPerCall?: number) => {
    const store = await connectRedisStore({ url: redisBenchUrl, prefix, ...(chainPacksPerCall === undefined ? {} : { chainPacksPerCall }) });
    stores.push(store);
    return store;
  };
  try {
    const redisVersion = /redis_version:(\S+)/.exec(await client.info('server'))?.[1] ?? 'unknown';
    const store = await connect();
    const writer = new PackWriter();
    const sha = (await client.script('LOAD', rawAppendLua)) as string;
    // One full GC before the scenario (earlier scenarios leave a large heap), none while measuring:
    // a forced full GC right before a phase of a few thousand appends slowed the next phase down
    // (raw +16 %, store +44 % wall time per append, interleaved A/B on this machine).
    collectGarbage();

    // 3 first: it reads the growth of a shard log, which nothing else must touch meanwhile.
    log(`redis: bytes per event, ${o.size.packs} packs msgpack and JSON`);
    const size = await benchSize(client, store, writer, prefix, o.size.packs);

    log(`redis: appends, ${o.append.rounds} rounds (+1 warm-up): 1 actor x ${o.append.serialAppends}, ${o.append.actors} actors x ${o.append.appendsPerActor}`);
    const append = await benchAppend(client, store, writer, sha, prefix, o.append);

    log(`redis: replay of ${o.replay.events} events, chainPacksPerCall ${o.replay.chainPacksPerCall.join(', ')}, ${o.replay.iterations} iterations`);
    const replay = await benchReplay(client, store, writer, prefix, o.replay, connect);

    const samplePack = writer.chain({ type: Ledger.type, id: 'acct-sample' }, 1)[0]!;
    for (const s of stores.splice(0)) await s.close();
    const keysDeleted = await deleteKeysMatching(client, `${prefix}:*`);
    return { skipped: false, url: redisBenchUrl, redisVersion, prefix, keysDeleted, samplePack, append, replay, size };
  } finally {
    for (const s of stores) await s.close();
    // Also after a failure: leave nothing behind.
    await deleteKeysMatching(client, `${prefix}:*`).catch(() => 0);
    await client.quit().catch(() => client.disconnect());
  }
}

async function benchAppend(client: Redis, store: RedisStore, writer: PackWriter, sha: string, prefix: string, o: RedisBenchOptions['append']) {
  const serialRuns = { troupe: [] as number[], raw: [] as number[], troupeCpu: [] as number[], rawCpu: [] as number[] };
  const parallelRuns = { troupe: [] as number[], raw: [] as number[], troupeCpu: [] as number[], rawCpu: [] as number[] };
  const server = { serialTroupe: new ServerTimeSum(), serialRaw: new ServerTimeSum(), parallelTroupe: new ServerTimeSum(), parallelRaw: new ServerTimeSum() };

  for (let round = 0; round <= o.rounds; round++) {
    const record = round > 0;
    const scale = record ? 1 : 0.25;
    const rawOne = rawAppender(client, sha, prefix, `s${round}`);
    const rawMany = rawAppender(client, sha, prefix, `p${round}`);
    // Both sides write the same packs (the raw side their bytes, pre-encoded) to their own keys.
    const one = prepare(writer.chain({ type: Ledger.type, id: `acct-s${round}` }, Math.ceil(o.serialAppends * scale)));
    const many = Array.from({ length: o.actors }, (_, i) => prepare(writer.chain({ type: Ledger.type, id: `acct-p${round}-${i}` }, Math.ceil(o.appendsPerActor * scale))));
    // Alternate which side goes first, so a drift of the machine does not favour one side.
    const order: ('troupe' | 'raw')[] = round % 2 === 0 ? ['raw', 'troupe'] : ['troupe', 'raw'];

    for (const side of order) {
      await settle();
      const before = await commandStats(client);
      const cpu = process.cpuUsage();
      const rate = side === 'raw' ? await serial(one, (a) => rawOne.append(0, a)) : await serial(one, (a) => store.append(a.pack, a.expected));
      const cpuUs = cpuMicros(process.cpuUsage(cpu)) / one.length;
      const t = serverTime(before, await commandStats(client), 'evalsha', one.length);
      if (record) {
        serialRuns[side].push(rate);
        serialRuns[`${side}Cpu`].push(cpuUs);
        (side === 'raw' ? server.serialRaw : server.serialTroupe).add(t);
      }
    }
    for (const side of order) {
      await settle();
      const before = await commandStats(client);
      const cpu = process.cpuUsage();
      const rate = side === 'raw' ? await parallel(many, (i, a) => rawMany.append(i, a)) : await parallel(many, (_i, a) => store.append(a.pack, a.expected));
      const cpuUs = cpuMicros(process.cpuUsage(cpu)) / (many.length * many[0]!.length);
      const t = serverTime(before, await commandStats(client), 'evalsha', many.length * many[0]!.length);
      if (record) {
        parallelRuns[side].push(rate);
        parallelRuns[`${side}Cpu`].push(cpuUs);
        (side === 'raw' ? server.parallelRaw : server.parallelTroupe).add(t);
      }
    }
  }
  // Everything arrived: the store's head of each actor is its last pack.
  const heads = await store.heads({ type: Ledger.type, id: `acct-p${o.rounds}-0` });
  if (heads.length !== 1 || heads[0]!.version[replica] !== o.appendsPerActor) throw new Error('redis append bench: unexpected head after the parallel round');

  const figure = (runs: typeof serialRuns, appendsPerRound: number, serverTroupe: ServerTimeSum, serverRaw: ServerTimeSum): AppendFigure => {
    const st = serverTroupe.get();
    const sr = serverRaw.get();
    return {
      troupe: summarize(runs.troupe),
      raw: summarize(runs.raw),
      ratio: summarize(runs.troupe.map((t, i) => t / runs.raw[i]!)),
      appendsPerRound,
      clientCpuTroupe: summarize(runs.troupeCpu),
      clientCpuRaw: summarize(runs.rawCpu),
      ...(st ? { serverTroupe: st } : {}),
      ...(sr ? { serverRaw: sr } : {}),
    };
  };
  return {
    serial: figure(serialRuns, o.serialAppends, server.serialTroupe, server.serialRaw),
    parallel: { ...figure(parallelRuns, o.actors * o.appendsPerActor, server.parallelTroupe, server.parallelRaw), actors: o.actors, appendsPerActor: o.appendsPerActor },
  };
}

async function benchReplay(
  client: Redis,
  store: RedisStore,
  writer: PackWriter,
  prefix: string,
  o: RedisBenchOptions['replay'],
  connect: (chainPacksPerCall?: number) => Promise<RedisStore>,
) {
  const defaultChainPacksPerCall = redisStoreDefaults.chainPacksPerCall;
  const actor: ActorRef = { type: Ledger.type, id: 'acct-replay' };
  const packs = writer.chain(actor, o.events);
  const encoded = packs.map(encodePack);
  // The chain, stored the way a replica receives it (merge: same keys and values as appends, fewer round trips).
  for (let i = 0; i < packs.length; i += 500) await store.merge(packs.slice(i, i + 500));
  const headKey = VC.encode(packs[packs.length - 1]!.version);
  // The raw list: the same bytes, oldest first.
  const listKey = `${prefix}:raw:{replay}:list`;
  for (let i = 0; i < encoded.length; i += 500) await client.rpush(listKey, ...encoded.slice(i, i + 500));

  const variants = new Map<number, RedisStore>();
  for (const n of o.chainPacksPerCall) variants.set(n, n === defaultChainPacksPerCall ? store : await connect(n));

  // Correctness first: every variant returns the whole chain, oldest first, with no base.
  for (const [n, s] of variants) {
    const chain = await s.loadChain(actor, headKey);
    if (chain.base !== undefined || chain.packs.length !== o.events || VC.encode(chain.packs[0]!.version) !== VC.encode(packs[0]!.version)) {
      throw new Error(`redis replay bench: loadChain with chainPacksPerCall ${n} returned ${chain.packs.length} packs`);
    }
  }

  const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: true });
  const rawLoad = async () => {
    const list = await client.lrangeBuffer(listKey, 0, -1);
    const out: unknown[] = new Array(list.length);
    for (let i = 0; i < list.length; i++) out[i] = unpackr.unpack(packBody(list[i]!));
    return out;
  };
  const check = await rawLoad();
  if (check.length !== o.events) throw new Error(`redis replay bench: LRANGE returned ${check.length} packs`);

  const raw: number[] = [];
  const lrangeOnly: number[] = [];
  const unpackOnly: number[] = [];
  const decodeOnly: number[] = [];
  const foldOnly: number[] = [];
  const perVariant = new Map<number, number[]>(o.chainPacksPerCall.map((n) => [n, []]));
  const ratios = new Map<number, number[]>(o.chainPacksPerCall.map((n) => [n, []]));
  const server = new Map<number, ServerTimeSum>(o.chainPacksPerCall.map((n) => [n, new ServerTimeSum()]));
  const serverLrange = new ServerTimeSum();
  let sink = 0;

  for (let it = 0; it < o.warmup + o.iterations; it++) {
    const record = it >= o.warmup;
    await settle();
    let before = await commandStats(client);
    const rawMs = await timed(rawLoad);
    if (record) serverLrange.add(serverTime(before, await commandStats(client), 'lrange', 1));

    // Rotate the order of the variants from one iteration to the next.
    const order = [...o.chainPacksPerCall];
    for (let r = 0; r < it % order.length; r++) order.push(order.shift()!);
    for (const n of order) {
      await settle();
      before = await commandStats(client);
      const ms = await timed(async () => {
        sink += (await variants.get(n)!.loadChain(actor, headKey)).packs.length;
      });
      const t = serverTime(before, await commandStats(client), 'evalsha', Math.ceil(o.events / n));
      if (record) {
        perVariant.get(n)!.push(ms);
        ratios.get(n)!.push(rawMs / ms);
        server.get(n)!.add(t);
      }
    }

    // The parts, to see where the time goes.
    await settle();
    let list: Buffer[] = [];
    const lr = await timed(async () => {
      list = await client.lrangeBuffer(listKey, 0, -1);
    });
    // Both keep what they decode, as a load does.
    let decoded: unknown[] = [];
    const up = await timed(async () => {
      decoded = list.map((b) => unpackr.unpack(packBody(b)));
    });
    sink += decoded.length;
    const dp = await timed(async () => {
      decoded = list.map((b) => decodePack(b, 'bench'));
    });
    sink += decoded.length;
    let state: { balance: number } = Ledger.initial();
    const fo = await timed(async () => {
      state = fold(Ledger, Ledger.initial(), packs.flatMap((p) => p.events));
    });
    sink += state.balance;
    if (record) (raw.push(rawMs), lrangeOnly.push(lr), unpackOnly.push(up), decodeOnly.push(dp), foldOnly.push(fo));
  }
  if (sink === 0) throw new Error('unreachable');

  const sl = serverLrange.get();
  return {
    events: o.events,
    packBytes: summarize(encoded.map((b) => b.length)),
    raw: summarize(raw),
    rawLrangeOnly: summarize(lrangeOnly),
    rawUnpackOnly: summarize(unpackOnly),
    decodePackOnly: summarize(decodeOnly),
    foldOnly: summarize(foldOnly),
    ...(sl ? { serverLrange: sl } : {}),
    variants: o.chainPacksPerCall.map((n): ReplayVariant => {
      const t = server.get(n)!.get();
      return {
        chainPacksPerCall: n,
        ms: summarize(perVariant.get(n)!),
        ratio: summarize(ratios.get(n)!),
        scriptCalls: Math.ceil(o.events / n),
        ...(t ? { server: t } : {}),
      };
    }),
    defaultChainPacksPerCall,
  };
}

async function benchSize(client: Redis, store: RedisStore, writer: PackWriter, prefix: string, count: number) {
  const actor: ActorRef = { type: Ledger.type, id: 'acct-size' };
  const packs = prepare(writer.chain(actor, count));
  const keys = store.keysOf(actor);
  const memory = async (key: string) => Number((await client.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
  const logBefore = await memory(keys.log);
  for (const a of packs) await store.append(a.pack, a.expected);
  const logAfter = await memory(keys.log);
  // JSON baseline: the same packs as JSON strings, in a plain hash of the same shape (field = version key).
  const jsonKey = `${prefix}:json:{size}:ledger:acct-size:p`;
  const json = packs.map((a) => JSON.stringify(a.pack));
  for (let i = 0; i < packs.length; i += 500) {
    await client.hset(jsonKey, ...packs.slice(i, i + 500).flatMap((a, j) => [a.version, json[i + j]!]));
  }
  const troupeKeyBytes: Record<string, number> = {
    p: await memory(keys.packs),
    r: await memory(keys.parents),
    h: await memory(keys.heads),
    c: await memory(keys.commands),
    // The linear-run index (a list per actor) is part of what the store keeps per pack.
    l: await memory(keys.runs),
    logGrowth: logAfter - logBefore,
  };
  return {
    packs: count,
    msgpackBytes: summarize(packs.map((a) => a.bytes.length)),
    jsonBytes: summarize(json.map((j) => Buffer.byteLength(j))),
    dataMsgpackBytes: summarize(packs.map((a) => encodeValue(a.pack.events[0]!.data).length - 1)),
    dataJsonBytes: summarize(packs.map((a) => Buffer.byteLength(JSON.stringify(a.pack.events[0]!.data)))),
    msgpackHashBytesPerPack: troupeKeyBytes.p! / count,
    jsonHashBytesPerPack: (await memory(jsonKey)) / count,
    hashEncoding: String(await client.object('ENCODING', keys.packs)),
    troupeAllKeysBytesPerPack: Object.values(troupeKeyBytes).reduce((a, b) => a + b, 0) / count,
    troupeKeyBytes,
  };
}

// ---------------------------------------------------------------------------------------------
// Profiling aid (not part of `npm run bench`): one side of one scenario alone, so `node --cpu-prof`
// sees nothing else.
//
//   cd test && node --import tsx --cpu-prof --cpu-prof-dir=bench/results/profiles bench/redis.ts append troupe|raw [appends]
//   cd test && node --import tsx --cpu-prof --cpu-prof-dir=bench/results/profiles bench/redis.ts replay troupe|raw [loads]

async function profile(mode: string, side: string, count: number): Promise<void> {
  const client = new Redis(redisBenchUrl);
  const prefix = `troupe-bench-profile-${Date.now().toString(36)}-${process.pid}`;
  const store = await connectRedisStore({ url: redisBenchUrl, prefix });
  const writer = new PackWriter();
  try {
    const cpu = process.cpuUsage();
    const start = performance.now();
    if (mode === 'append') {
      const actors = 64;
      const sha = (await client.script('LOAD', rawAppendLua)) as string;
      const chains = Array.from({ length: actors }, (_, i) => prepare(writer.chain({ type: Ledger.type, id: `acct-${i}` }, Math.ceil(count / actors))));
      const raw = rawAppender(client, sha, prefix, 'profile');
      const t = performance.now();
      const cpuAppends = process.cpuUsage();
      const rate = side === 'raw' ? await parallel(chains, (i, a) => raw.append(i, a)) : await parallel(chains, (_i, a) => store.append(a.pack, a.expected));
      const appends = actors * chains[0]!.length;
      console.log(`append ${side}: ${appends} appends, ${actors} actors in parallel: ${Math.round(rate)} appends/s, Node CPU ${(cpuMicros(process.cpuUsage(cpuAppends)) / appends).toFixed(1)} µs/append (${(performance.now() - t).toFixed(0)} ms)`);
    } else if (mode === 'replay') {
      const actor: ActorRef = { type: Ledger.type, id: 'acct-replay' };
      const packs = writer.chain(actor, 10_000);
      for (let i = 0; i < packs.length; i += 500) await store.merge(packs.slice(i, i + 500));
      const listKey = `${prefix}:raw:{replay}:list`;
      for (let i = 0; i < packs.length; i += 500) await client.rpush(listKey, ...packs.slice(i, i + 500).map(encodePack));
      const headKey = VC.encode(packs[packs.length - 1]!.version);
      const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: true });
      const times: number[] = [];
      let kept: readonly unknown[] = [];
      for (let i = 0; i < count; i++) {
        times.push(
          await timed(async () => {
            // Both keep every decoded pack until the end, as a load does.
            if (side === 'raw') kept = (await client.lrangeBuffer(listKey, 0, -1)).map((b) => unpackr.unpack(packBody(b)));
            else kept = (await store.loadChain(actor, headKey)).packs;
          }),
        );
      }
      if (kept.length !== packs.length) throw new Error(`loaded ${kept.length} packs`);
      console.log(`replay ${side}: ${count} loads of 10,000 packs, median ${summarize(times).median.toFixed(1)} ms`);
    } else {
      throw new Error(`unknown mode '${mode}' (append | replay)`);
    }
    console.log(`total ${(performance.now() - start).toFixed(0)} ms, Node CPU ${(cpuMicros(process.cpuUsage(cpu)) / 1000).toFixed(0)} ms`);
  } finally {
    await store.close();
    await deleteKeysMatching(client, `${prefix}:*`);
    client.disconnect();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [mode = 'append', side = 'troupe', count] = process.argv.slice(2);
  await profile(mode, side, Number(count ?? (mode === 'append' ? 64_000 : 20)));
}
