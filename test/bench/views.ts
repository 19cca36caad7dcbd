/**
 * Views (#16 item 8): the read side, on a throw-away redis-server (`RedisServer` of
 * `@troupe/redis/testing`: nobody else talks to it, so INFO commandstats deltas are this bench's),
 * every figure next to a baseline measured in the same run:
 *
 * 1. catch-up: a view of the bank's `balancesByOwner` built from nothing over a store's log of N
 *    accounts x E events, by the runtime's `MemoryView` (`catchUp()`) and by `RedisView`
 *    (`openRedisView` + `catchUp()`: lease, batches written with their checkpoint, lease given
 *    back), vs a raw fold of the same log with plain ioredis: LRANGE of the shard logs in pages of
 *    the views' batch size, a pipeline of HGET for the packs the entries name, msgpackr unpack of
 *    each, the account's event handlers folded onto a state per account, and after each page the
 *    rows of the touched accounts recomputed with the projection's own `rows` and combined per key
 *    with its `combine` (what a hand-written projection over LRANGE would do). The three results
 *    are checked equal;
 * 2. latency: a Runtime appends deposits to the store at a fixed rate while a `MemoryView`
 *    follows it with `start()` (polling every `pollMs`, default 100 ms): from a deposit's reply to
 *    the view's subscriber being told the owner's row that holds it; baseline: a raw polling
 *    reader (the fold of 1, incremental, the same poll rule: catch up, then sleep `pollMs`)
 *    running at the same time. The poll interval is the floor of both.
 *
 * Needs `redis-server` on the PATH; without it the scenario is skipped (loud line, fails under CI=true).
 */
import { Account, type AccountState, balancesByOwner, type OwnerBalance } from '@troupe/bank';
import { connectRedisStore, openRedisView, type RedisStore } from '@troupe/redis';
import { RedisServer } from '@troupe/redis/testing';
import { type ActorRef, createRuntime, defineProjection, MemoryView, type ProjectionDefinition } from '@troupe/runtime';
import { encodePack, type Pack } from '@troupe/runtime/store';
import { Redis } from 'ioredis';
import { Unpackr } from 'msgpackr';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { packBody } from './packBody.js';
import { CallTimes, commandUsec, deleteAll, type Emitted, type LagStats, lagStats, mergeAll, RegionWriter, shardLog, sleep, usecDelta } from './regions.js';
import { collectGarbage, settle, type Summary, summarize } from './stats.js';

export interface ViewsOptions {
  readonly catchUp: {
    readonly accounts: number;
    /** Packs (one event each) per account: `opened`, then deposits and withdrawals. Below the account's snapshotEvery (100), so a view's first load of an account writes no snapshot and every round reads the same. */
    readonly eventsPerAccount: number;
    /** Owners the accounts belong to (account i to owner i mod owners): the rows of `balancesByOwner`. */
    readonly owners: number;
    /** Measured rounds, each a raw fold, a MemoryView and a RedisView catch-up (order rotating); one unrecorded warm-up round first. */
    readonly rounds: number;
    /** Packs per batch of both views (their default, 500) and per page of the raw fold. */
    readonly batchSize: number;
  };
  readonly latency: {
    /** Deposits per second (an open loop: a tick every 10 ms sends what is due, replies not awaited by the loop). */
    readonly rate: number;
    readonly seconds: number;
    /** Accounts the deposits are spread over, each its own owner (so a row names the account). */
    readonly accounts: number;
  };
}

/** The views' default batch size (`MemoryViewOptions.batchSize`, `redisViewDefaults.batchSize`). */
export const viewBatchSizeDefault = 500;
/** MemoryView's default poll interval (`MemoryViewOptions.pollMs`): the floor of the latency. */
export const memoryViewPollMsDefault = 100;

export type ViewSide = 'raw' | 'memory' | 'redis';

export interface CatchUpSide {
  /** events/s per round (one event per pack). */
  readonly rate: Summary;
  /** Node CPU (user + system) per catch-up, ms. */
  readonly cpuMs: Summary;
  /** Store calls per catch-up (medians over rounds): count and ms, awaited or in flight together (RedisView reads up to 32 actors at once). */
  readonly storeCalls: Readonly<Record<string, { readonly calls: number; readonly ms: number }>>;
  /** Redis server time per catch-up by command, ms (medians; commands inside scripts counted in the script and again on their own). */
  readonly serverMs: Readonly<Record<string, number>>;
  /** Round trips of the raw fold (pipelines), per catch-up. */
  readonly roundTrips?: number;
}

export interface ViewsCatchUpResults {
  readonly accounts: number;
  readonly events: number;
  readonly owners: number;
  readonly rounds: number;
  readonly batchSize: number;
  readonly setupSeconds: number;
  /** Encoded bytes of a bank pack (the median-sized one: a deposit). */
  readonly packBytes: number;
  readonly raw: CatchUpSide;
  readonly memory: CatchUpSide;
  readonly redis: CatchUpSide;
  /** view events/s ÷ raw events/s, per round. */
  readonly ratioMemory: Summary;
  readonly ratioRedis: Summary;
  /** Rows (owners) of the view, the same on all three sides (checked every round). */
  readonly rowKeys: number;
}

export interface ViewsLatencyResults {
  readonly rate: number;
  readonly seconds: number;
  readonly accounts: number;
  readonly pollMs: number;
  readonly deposits: number;
  readonly achievedRate: number;
  /** From the deposit's reply to the subscriber being told (MemoryView) / the raw reader having folded it, ms. */
  readonly memory: LagStats;
  readonly raw: LagStats;
  /** The same from the moment `send` was called (the append's own time included), ms. */
  readonly memoryFromSend: LagStats;
  readonly rawFromSend: LagStats;
  /** Deposit replies themselves (send to reply), ms. */
  readonly append: LagStats;
  /** Notifications the subscriber received, polls of the raw reader. */
  readonly notifications: number;
  readonly rawPolls: number;
}

export interface ViewsResults {
  readonly skipped: false;
  readonly redisVersion: string;
  readonly catchUp: ViewsCatchUpResults;
  readonly latency: ViewsLatencyResults;
}

export interface ViewsSkipped {
  readonly skipped: true;
  readonly reason: string;
}

// ---------------------------------------------------------------------------------------------
// The log: bank packs as a runtime writes them, interleaved as concurrent clients would write
// them (the first pack of every account, then the second of every account, ...), so a batch of
// the log touches as many accounts as it holds packs: the hard case for per-actor work.

const account = (i: number): ActorRef => Account.ref(`acct-${String(i).padStart(7, '0')}`);

function activity(k: number): Emitted {
  return k % 3 === 2 ? { type: 'withdrew', data: { amount: 500 + ((k * 37) % 400) } } : { type: 'deposited', data: { amount: 1_000 + ((k * 7919) % 90_000) } };
}

export function ownedAccountPacks(accounts: number, eventsPerAccount: number, owners: number): Pack[] {
  const writer = new RegionWriter('eu', 1);
  const heads: (Pack | undefined)[] = new Array(accounts);
  const packs: Pack[] = [];
  for (let k = 0; k < eventsPerAccount; k++) {
    for (let i = 0; i < accounts; i++) {
      const event: Emitted = k === 0 ? { type: 'opened', data: { owner: `owner-${String(i % owners).padStart(5, '0')}` } } : activity(k);
      const pack = writer.pack(account(i), heads[i], event);
      heads[i] = pack;
      packs.push(pack);
    }
  }
  return packs;
}

// ---------------------------------------------------------------------------------------------
// The raw reader: plain ioredis + msgpackr, the account's handlers and the projection's rows and
// combine, nothing of the runtime's hosting, resolution or view code.

type Handler = (state: AccountState, data: unknown, event: never) => AccountState;
const handlers = Account.events as unknown as Record<string, Handler>;

/** Reads a store's shard logs from its own offsets, folds every account event, keeps the view's rows. */
export class RawViewReader {
  private readonly unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: true });
  private readonly offsets: number[];
  readonly states = new Map<string, AccountState>();
  /** actor key → its rows; row key → contributing actor keys; row key → combined row. */
  private readonly contributions = new Map<string, Map<string, OwnerBalance>>();
  private readonly contributors = new Map<string, Set<string>>();
  readonly rows = new Map<string, OwnerBalance>();
  roundTrips = 0;
  events = 0;

  constructor(
    private readonly client: Redis,
    private readonly store: RedisStore,
    private readonly projection: ProjectionDefinition<OwnerBalance>,
    private readonly pageSize: number,
  ) {
    this.offsets = Array.from({ length: store.shards }, () => 0);
  }

  /** Reads every shard log to its end now, a page at a time; `onPage` after each page's rows are applied, with the accounts it touched. */
  async poll(onPage?: (touched: ReadonlyMap<string, AccountState>) => void): Promise<number> {
    const lengths = (await this.client.pipeline(this.offsets.map((_, shard) => ['llen', shardLog(this.store, shard)])).exec())!.map(([error, n]) => {
      if (error) throw error;
      return Number(n);
    });
    this.roundTrips++;
    let read = 0;
    for (let shard = 0; shard < this.offsets.length; shard++) {
      while (this.offsets[shard]! < lengths[shard]!) {
        const start = this.offsets[shard]!;
        const end = Math.min(lengths[shard]!, start + this.pageSize) - 1;
        const entries = await this.client.lrangeBuffer(shardLog(this.store, shard), start, end);
        const named = entries.map((entry) => {
          const [type, id, version] = JSON.parse(String(entry)) as [string, string, string];
          return { key: this.store.keysOf({ type, id }).packs, version };
        });
        const read_ = this.client.pipeline();
        for (const e of named) read_.hgetBuffer(e.key, e.version);
        const bytes = (await read_.exec())!;
        this.roundTrips += 2;
        const touched = new Map<string, AccountState>();
        for (const [i, [error, value]] of bytes.entries()) {
          if (error || !value) throw new Error(`raw view reader: ${named[i]!.key} ${named[i]!.version} not found`);
          // The compact pack format: [type, id, kind, version, parents, commandIds, replica, ts, events, state?], an event [id, type, data, ...].
          const pack = this.unpackr.unpack(packBody(value as Buffer)) as [string, string, unknown, unknown, unknown, unknown, unknown, unknown, [string, string, unknown][]];
          if (pack[0] !== Account.type) continue;
          const key = `${pack[0]}:${pack[1]}`;
          let state = this.states.get(key) ?? Account.initial();
          for (const event of pack[8]) {
            const handler = handlers[event[1]];
            if (!handler) throw new Error(`raw view reader: no handler for ${event[1]}`);
            state = handler(state, event[2], undefined as never);
            this.events++;
          }
          this.states.set(key, state);
          touched.set(key, state);
        }
        for (const [key, state] of touched) this.replace(key, state);
        onPage?.(touched);
        read += entries.length;
        this.offsets[shard] = end + 1;
      }
    }
    return read;
  }

  /** The actor's rows from its state, replacing its previous ones; the keys involved recombined. */
  private replace(actorKey: string, state: AccountState): void {
    const [type, ...rest] = actorKey.split(':');
    const next = new Map<string, OwnerBalance>(this.projection.rows({ type: type!, id: rest.join(':') }, state));
    const previous = this.contributions.get(actorKey);
    this.contributions.set(actorKey, next);
    const keys = new Set<string>([...(previous?.keys() ?? []), ...next.keys()]);
    for (const key of keys) {
      const holders = this.contributors.get(key) ?? new Set<string>();
      if (next.has(key)) holders.add(actorKey);
      else holders.delete(actorKey);
      this.contributors.set(key, holders);
      let row: OwnerBalance | undefined;
      for (const holder of holders) {
        const part = this.contributions.get(holder)!.get(key)!;
        row = row === undefined ? part : this.projection.combine!(row, part);
      }
      if (row === undefined) this.rows.delete(key);
      else this.rows.set(key, row);
    }
  }
}

/** A view's rows as one comparable string, keys sorted. */
const canonicalRows = (rows: ReadonlyMap<string, unknown>): string => JSON.stringify([...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

// ---------------------------------------------------------------------------------------------

async function withServer<T>(fn: (server: RedisServer, admin: Redis, redisVersion: string) => Promise<T>): Promise<T | ViewsSkipped> {
  let server: RedisServer;
  try {
    server = await RedisServer.start();
  } catch (error) {
    return { skipped: true, reason: `could not start a redis-server: ${(error as Error).message}` };
  }
  const admin = new Redis(server.url);
  try {
    const redisVersion = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? 'unknown';
    return await fn(server, admin, redisVersion);
  } finally {
    admin.disconnect();
    await server.destroy();
  }
}

export function benchViews(o: ViewsOptions, log: (text: string) => void = () => {}): Promise<ViewsResults | ViewsSkipped> {
  return withServer(async (server, admin, redisVersion) => {
    log(`views: redis-server ${redisVersion} on port ${server.port}`);
    const catchUp = await benchCatchUp(o.catchUp, server, admin, log);
    collectGarbage();
    const latency = await benchLatency(o.latency, server, log);
    return { skipped: false as const, redisVersion, catchUp, latency };
  });
}

// ---------------------------------------------------------------------------------------------
// 1. Catch-up

const viewStoreCalls = ['changesSince', 'heads', 'loadChain', 'getPacks', 'saveSnapshot'];

async function benchCatchUp(o: ViewsOptions['catchUp'], server: RedisServer, admin: Redis, log: (text: string) => void): Promise<ViewsCatchUpResults> {
  if (o.eventsPerAccount >= Account.snapshotEvery) throw new Error(`views: eventsPerAccount ${o.eventsPerAccount} must stay below the account's snapshotEvery (${Account.snapshotEvery})`);
  const started = performance.now();
  const store = await connectRedisStore({ url: server.url, prefix: 'views' });
  const client = new Redis(server.url);
  try {
    const packs = ownedAccountPacks(o.accounts, o.eventsPerAccount, o.owners);
    await mergeAll(store, packs);
    const events = packs.reduce((n, p) => n + p.events.length, 0);
    const setupSeconds = (performance.now() - started) / 1000;
    log(`views: catch-up: ${events.toLocaleString('en-US')} events of ${o.accounts.toLocaleString('en-US')} accounts (${o.owners.toLocaleString('en-US')} owners) written in ${setupSeconds.toFixed(1)} s`);

    const rates: Record<ViewSide, number[]> = { raw: [], memory: [], redis: [] };
    const cpu: Record<ViewSide, number[]> = { raw: [], memory: [], redis: [] };
    const calls: Record<'memory' | 'redis', Record<string, { calls: number[]; ms: number[] }>> = { memory: {}, redis: {} };
    const serverTimes: Record<ViewSide, Record<string, number[]>> = { raw: {}, memory: {}, redis: {} };
    const roundTrips: number[] = [];
    let rowKeys = 0;
    const orders: ViewSide[][] = [
      ['raw', 'memory', 'redis'],
      ['memory', 'redis', 'raw'],
      ['redis', 'raw', 'memory'],
    ];
    for (let round = 0; round <= o.rounds; round++) {
      const warm = round === 0;
      const results = new Map<ViewSide, string>();
      for (const side of orders[round % orders.length]!) {
        collectGarbage();
        await settle();
        const before = await commandUsec(admin);
        const times = new CallTimes();
        const cpuStart = process.cpuUsage();
        let ms: number;
        let rows: ReadonlyMap<string, unknown>;
        if (side === 'raw') {
          const reader = new RawViewReader(client, store, balancesByOwner, o.batchSize);
          const start = performance.now();
          await reader.poll();
          ms = performance.now() - start;
          if (reader.events !== events) throw new Error(`views: the raw reader folded ${reader.events} of ${events} events`);
          rows = reader.rows;
          if (!warm) roundTrips.push(reader.roundTrips);
        } else if (side === 'memory') {
          const view = new MemoryView(balancesByOwner, times.wrap(store, viewStoreCalls), { batchSize: o.batchSize });
          const start = performance.now();
          await view.catchUp();
          ms = performance.now() - start;
          rows = view.current;
        } else {
          // A new view per round (its own keys), deleted after it.
          const projection = defineProjection({ name: `bench-balances-${round}`, version: 1, from: [Account], rows: balancesByOwner.rows, combine: balancesByOwner.combine! });
          const view = await openRedisView({ store: times.wrap(store, viewStoreCalls), projection, batchSize: o.batchSize });
          const start = performance.now();
          const report = await view.catchUp();
          ms = performance.now() - start;
          if (report.packs !== packs.length) throw new Error(`views: the RedisView read ${report.packs} of ${packs.length} packs`);
          rows = await view.rows();
          await view.close();
          await deleteAll(client, `*{views.view.${projection.name}}*`);
        }
        const used = process.cpuUsage(cpuStart);
        const cpuMs = (used.user + used.system) / 1000;
        const after = await commandUsec(admin);
        results.set(side, canonicalRows(rows));
        rowKeys = rows.size;
        if (!warm) {
          rates[side].push(events / (ms / 1000));
          cpu[side].push(cpuMs);
          for (const [k, v] of Object.entries(usecDelta(before, after))) (serverTimes[side][k] ??= []).push(v);
          if (side !== 'raw') {
            for (const name of times.calls.keys()) {
              const entry = (calls[side][name] ??= { calls: [], ms: [] });
              entry.calls.push(times.calls.get(name)!);
              entry.ms.push(times.ms.get(name) ?? 0);
            }
          }
        }
        log(`views: catch-up${warm ? ' (warm-up)' : ` round ${round}/${o.rounds}`}: ${side} ${Math.round(events / (ms / 1000))} events/s (${Math.round(ms)} ms${side === 'raw' ? '' : `; store calls ${[...times.calls].map(([k, n]) => `${k} ${n} x, ${Math.round(times.ms.get(k) ?? 0)} ms`).join(', ')}`})`);
      }
      const raw = results.get('raw');
      for (const side of ['memory', 'redis'] as const) {
        if (results.get(side) !== raw) throw new Error(`views: the ${side} view's rows differ from the raw fold's (round ${round})`);
      }
    }
    const medianCalls = (side: 'memory' | 'redis') =>
      Object.fromEntries(Object.entries(calls[side]).map(([k, v]) => [k, { calls: summarize(v.calls).median, ms: Math.round(summarize(v.ms).median * 10) / 10 }]));
    const medianServer = (side: ViewSide) => Object.fromEntries(Object.entries(serverTimes[side]).map(([k, v]) => [k, Math.round(summarize(v).median * 10) / 10]));
    const sideOf = (side: ViewSide): CatchUpSide => ({
      rate: summarize(rates[side]),
      cpuMs: summarize(cpu[side]),
      storeCalls: side === 'raw' ? {} : medianCalls(side),
      serverMs: medianServer(side),
      ...(side === 'raw' ? { roundTrips: summarize(roundTrips).median } : {}),
    });
    return {
      accounts: o.accounts,
      events,
      owners: o.owners,
      rounds: o.rounds,
      batchSize: o.batchSize,
      setupSeconds,
      packBytes: encodePack(packs[o.accounts]!).length,
      raw: sideOf('raw'),
      memory: sideOf('memory'),
      redis: sideOf('redis'),
      ratioMemory: summarize(rates.memory.map((r, i) => r / rates.raw[i]!)),
      ratioRedis: summarize(rates.redis.map((r, i) => r / rates.raw[i]!)),
      rowKeys,
    };
  } finally {
    client.disconnect();
    await store.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// 2. Latency: append -> a MemoryView subscriber told

interface Deposit {
  /** The account's balance once this deposit is applied (deposits to one account are applied in send order: its mailbox). */
  readonly balance: number;
  readonly sentAt: number;
  ackAt?: number;
  toldView?: number;
  toldRaw?: number;
}

async function benchLatency(o: ViewsOptions['latency'], server: RedisServer, log: (text: string) => void): Promise<ViewsLatencyResults> {
  const store = await connectRedisStore({ url: server.url, prefix: 'viewlat' });
  const client = new Redis(server.url);
  const runtime = createRuntime({ actors: [Account], store, replicaId: 'eu' });
  const pollMs = memoryViewPollMsDefault;
  const view = new MemoryView(balancesByOwner, store);
  let stopping = false;
  try {
    // Each account its own owner: a row of the view names the account it comes from.
    const owner = (i: number) => `owner-${String(i).padStart(5, '0')}`;
    for (let i = 0; i < o.accounts; i += 200) {
      await Promise.all(Array.from({ length: Math.min(200, o.accounts - i) }, (_, k) => runtime.send(account(i + k), { type: 'open', payload: { owner: owner(i + k) } })));
    }
    const deposits: Deposit[][] = Array.from({ length: o.accounts }, () => []);
    const balances = new Array<number>(o.accounts).fill(0);
    /** Per account, the first deposit not told yet, for each side. */
    const nextView = new Array<number>(o.accounts).fill(0);
    const nextRaw = new Array<number>(o.accounts).fill(0);
    const indexOf = new Map<string, number>(Array.from({ length: o.accounts }, (_, i) => [owner(i), i]));
    const accountIndexOf = new Map<string, number>(Array.from({ length: o.accounts }, (_, i) => [`${Account.type}:${account(i).id}`, i]));
    const tell = (side: 'toldView' | 'toldRaw', next: number[], i: number, balance: number, now: number) => {
      const list = deposits[i]!;
      while (next[i]! < list.length && list[next[i]!]!.balance <= balance) list[next[i]!++]![side] = now;
    };

    let notifications = 0;
    view.subscribe((change) => {
      notifications++;
      const now = performance.now();
      for (const key of change.changed) {
        const i = indexOf.get(key);
        const row = change.rows.get(key);
        if (i !== undefined && row) tell('toldView', nextView, i, row.balance, now);
      }
    });
    view.start();
    await view.ready;
    const reader = new RawViewReader(client, store, balancesByOwner, viewBatchSizeDefault);
    await reader.poll();
    let rawPolls = 0;
    const rawLoop = (async () => {
      while (!stopping) {
        await reader.poll((touched) => {
          const now = performance.now();
          for (const [key, state] of touched) {
            const i = accountIndexOf.get(key);
            if (i !== undefined) tell('toldRaw', nextRaw, i, state.balance, now);
          }
        });
        rawPolls++;
        if (!stopping) await sleep(pollMs);
      }
    })();

    log(`views: latency: ${o.rate} deposits/s over ${o.accounts} accounts for ${o.seconds} s, MemoryView start() (pollMs ${pollMs}) and a raw polling reader`);
    const sends: Promise<void>[] = [];
    let failed = 0;
    let sent = 0;
    const start = performance.now();
    while (performance.now() - start < o.seconds * 1000) {
      const due = Math.floor(((performance.now() - start) / 1000) * o.rate);
      for (; sent < due; sent++) {
        const i = (sent * 7919) % o.accounts;
        const amount = 100 + (sent % 900);
        balances[i]! += amount;
        const deposit: Deposit = { balance: balances[i]!, sentAt: performance.now() };
        deposits[i]!.push(deposit);
        sends.push(
          runtime.send(account(i), { type: 'deposit', payload: { amount } }).then(
            (reply) => {
              if (reply.status === 'accepted') deposit.ackAt = performance.now();
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
    const all = deposits.flat();
    const deadline = performance.now() + 10_000;
    while (all.some((d) => d.toldView === undefined || d.toldRaw === undefined) && performance.now() < deadline) await sleep(20);
    stopping = true;
    await view.stop();
    await rawLoop;
    if (failed > 0) throw new Error(`views latency: ${failed} deposits not accepted`);
    const missing = all.filter((d) => d.toldView === undefined || d.toldRaw === undefined).length;
    if (missing > 0) throw new Error(`views latency: ${missing} of ${all.length} deposits never reached the view or the raw reader`);
    for (const [i, total] of balances.entries()) {
      if (view.current.get(owner(i))?.balance !== total) throw new Error(`views latency: ${owner(i)} at ${view.current.get(owner(i))?.balance} in the view, ${total} deposited`);
    }
    const result: ViewsLatencyResults = {
      rate: o.rate,
      seconds: o.seconds,
      accounts: o.accounts,
      pollMs,
      deposits: all.length,
      achievedRate,
      memory: lagStats(all.map((d) => d.toldView! - d.ackAt!)),
      raw: lagStats(all.map((d) => d.toldRaw! - d.ackAt!)),
      memoryFromSend: lagStats(all.map((d) => d.toldView! - d.sentAt)),
      rawFromSend: lagStats(all.map((d) => d.toldRaw! - d.sentAt)),
      append: lagStats(all.map((d) => d.ackAt! - d.sentAt)),
      notifications,
      rawPolls,
    };
    log(`views: latency: MemoryView p50 ${result.memory.p50.toFixed(1)} ms p99 ${result.memory.p99.toFixed(1)} ms, raw p50 ${result.raw.p50.toFixed(1)} ms p99 ${result.raw.p99.toFixed(1)} ms (${all.length} deposits, ${achievedRate.toFixed(0)}/s)`);
    return result;
  } finally {
    stopping = true;
    await view.stop();
    client.disconnect();
    await runtime.stop();
    await store.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Alone (after building the packages):
//   cd test && node --import tsx bench/views.ts catchup 1000 50 200 1
//   cd test && node --import tsx bench/views.ts latency 200 5 500
// One side's catch-up repeated, profiled from the end of the set-up to the last catch-up (side: raw | memory | redis;
// accounts, events each, owners, repetitions; the .cpuprofile goes to the directory in VIEWS_PROFILE_DIR, default bench/results/profiles):
//   cd test && node --import tsx bench/views.ts profile memory 1000 50 200 5

/** Catches up one side `repetitions` times over one log (nothing else measured): what a CPU profile of that side needs. */
async function profileSide(side: ViewSide, accounts: number, eventsPerAccount: number, owners: number, repetitions: number, server: RedisServer, print: (text: string) => void): Promise<number[]> {
  const store = await connectRedisStore({ url: server.url, prefix: 'viewprof' });
  const client = new Redis(server.url);
  try {
    await mergeAll(store, ownedAccountPacks(accounts, eventsPerAccount, owners));
    const times: number[] = [];
    // The profiler runs from here: the set-up (writing the log) is not in the profile.
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    for (let i = 0; i < repetitions; i++) {
      const start = performance.now();
      if (side === 'raw') await new RawViewReader(client, store, balancesByOwner, viewBatchSizeDefault).poll();
      else if (side === 'memory') await new MemoryView(balancesByOwner, store).catchUp();
      else {
        const projection = defineProjection({ name: `prof-${i}`, version: 1, from: [Account], rows: balancesByOwner.rows, combine: balancesByOwner.combine! });
        const view = await openRedisView({ store, projection });
        await view.catchUp();
        await view.close();
      }
      times.push(performance.now() - start);
      print(`views profile: ${side} catch-up ${i + 1}/${repetitions}: ${Math.round(times[i]!)} ms`);
    }
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    const dir = process.env.VIEWS_PROFILE_DIR ?? fileURLToPath(new URL('./results/profiles', import.meta.url));
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `views-${side}-${Date.now()}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    print(`views profile: ${file}`);
    return times;
  } finally {
    client.disconnect();
    await store.destroy();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [part = 'catchup', ...rest] = process.argv.slice(2);
  const n = rest.map(Number);
  const print = (text: string) => console.log(text);
  const result = await withServer(async (server, admin) => {
    if (part === 'catchup') {
      return benchCatchUp({ accounts: n[0] || 1_000, eventsPerAccount: n[1] || 50, owners: n[2] || 200, rounds: n[3] || 1, batchSize: viewBatchSizeDefault }, server, admin, print);
    }
    if (part === 'latency') return benchLatency({ rate: n[0] || 200, seconds: n[1] || 5, accounts: n[2] || 500 }, server, print);
    if (part === 'profile') {
      const [side = 'memory', ...sizes] = rest;
      const m = sizes.map(Number);
      return profileSide(side as ViewSide, m[0] || 1_000, m[1] || 50, m[2] || 200, m[3] || 5, server, print);
    }
    throw new Error(`unknown part '${part}' (catchup, latency, profile)`);
  });
  const machine = { cpus: os.cpus().length, loadAvgAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100), node: process.version };
  console.log(JSON.stringify({ date: new Date().toISOString(), part, args: n, machine, result }, null, 2));
}

