import { redactUrl } from '@troupe/runtime/store';
import type { Cluster, Redis } from 'ioredis';
import { openClient, type ServerOptions } from '../openClient.js';
import { type Checkpoint, InvalidOptionError } from '@troupe/runtime';
import { cursorAtOrPast } from '@troupe/runtime/store';
import type { ActorRef, ActorSnapshot, Chain, Changes, EventStore, FrontierTable, HistoryOptions, MergeLog, MergeRecord, MergeReport, Pack, RegionLog, Snapshot, VectorClock } from '@troupe/runtime/store';
import { commandVersions, getPacks, heads } from './actorReads.js';
import { append, saveSnapshot } from './append.js';
import { loadChain } from './chainWalk.js';
import type { StoreContext } from './context.js';
import { deleteStoreKeys } from './destroy.js';
import { CommandRunner, describeEndpoint } from './errorMapping.js';
import { history } from './history.js';
import { type ActorKeys, KeySchema } from './keySchema.js';
import { changesSince } from './logPaging.js';
import { merge } from './merge.js';
import { merges, recordMerge } from './mergeRecords.js';
import { checkpoint, verifyLayout } from './meta.js';
import { type RedisStoreOptions, resolveOptions } from './options.js';
import { type PersistenceReport, readPersistence } from './persistence.js';
import { backlog, declareRegions, frontier, logMark, mergeFrontier, regions } from './regionLog.js';
import { ScriptCalls } from './scriptCalls.js';
import { StoreIdentity } from './storeIdentity.js';

/**
 * What `RedisStore.destroyPrefix` deletes: every key of `prefix`, through a client of the
 * caller's (left open) or one it connects like `connectRedisStore` (`url` / `cluster`,
 * `redisOptions`) and closes.
 */
export type DestroyPrefixOptions = { readonly prefix: string } & ({ readonly client: Redis | Cluster } | (ServerOptions & { readonly client?: undefined }));

/**
 * EventStore on Redis. Per actor: a hash of packs by version key (`:p`), a hash of parent links
 * (`:r`), the set of heads (`:h`), a hash of snapshots (`:s`), a hash of applied command ids
 * (`:c`) and the linear-run index, a list of its packs in write order (`:l`); per shard, a
 * replication log list (`:log`). Packs and snapshots are msgpack behind a format byte. Every
 * write is one Lua script: atomic, one round trip. It takes part in region replication
 * (`RegionLog`: checkpoints, the frontier table and the declared regions under the meta tag) and
 * keeps merge records (`MergeLog`: a list per actor, `:m`).
 *
 * This class only wires the parts together; each operation lives in its own module of this folder
 * (key names in `keySchema`, error mapping in `errorMapping`, the chain walk in `chainWalk`, log
 * paging in `logPaging`, ...).
 */
export class RedisStore implements EventStore, RegionLog, MergeLog {
  readonly prefix: string;
  readonly shards: number;
  private readonly ctx: StoreContext;
  private readonly ownsClient: boolean;
  private readonly onReady: () => void;

  constructor(options: RedisStoreOptions) {
    const resolved = resolveOptions(options);
    const client = options.client;
    const runner = new CommandRunner(client, redactUrl(options.endpoint ?? describeEndpoint(client)), resolved.prefix);
    const keys = new KeySchema(resolved.prefix, resolved.shards);
    const identity = new StoreIdentity(client, keys, runner);
    this.ctx = { client, keys, runner, scripts: new ScriptCalls(client, runner), options: resolved, identity };
    this.prefix = resolved.prefix;
    this.shards = resolved.shards;
    this.ownsClient = resolved.ownsClient;
    // After a reconnect, check at once that the Redis still holds the store's data, so that reads
    // fail too (writes check it in their scripts anyway). A failed check is retried at the next one.
    this.onReady = () => {
      identity.recheck().catch(() => {});
    };
    client.on('ready', this.onReady);
  }

  /** The server, as errors name it (credentials redacted). */
  get endpoint(): string {
    return this.ctx.runner.endpoint;
  }

  /**
   * Checks that the data under this prefix was written with the same shard count (recording it
   * the first time), and establishes the store identity every write checks (StoreDataLostError
   * when the Redis lost part of the store's data). Called by `connectRedisStore`; call it yourself
   * when you build the client (otherwise the first write does).
   */
  verifyLayout(): Promise<void> {
    return verifyLayout(this.ctx);
  }

  /**
   * The persistence settings of the server (of every master of a Cluster): whether an append-only
   * file or RDB snapshots protect the data across a restart (`CONFIG GET`, or `INFO persistence`
   * where CONFIG is disabled). `protection: 'none'` means a restart empties the store.
   */
  persistence(): Promise<PersistenceReport> {
    return readPersistence(this.ctx.client, this.ctx.runner);
  }

  /**
   * A replication checkpoint kept in this store's Redis (give it to the Replicator whose target is
   * this store): `new Replicator(source, target, { checkpoint: targetStore.checkpoint('from-eu') })`.
   */
  checkpoint(name: string): Checkpoint {
    return checkpoint(this.ctx, name);
  }

  /** How many packs the shard logs hold after `cursor` (undefined: all); a cursor `changesSince` would refuse is refused the same way (InvalidCursorError). */
  backlog(cursor: string | undefined): Promise<number> {
    return backlog(this.ctx, cursor);
  }

  /** A mark past every pack of `actor` held now: `<identity>:<offsets>`, 0 except in the actor's shard, whose log length it holds. */
  logMark(actor: ActorRef): Promise<string> {
    return logMark(this.ctx, actor);
  }

  /** Whether `cursor` is at or past `mark` in every shard log (`cursorAtOrPast`); false for a cursor of another store. */
  markReached(cursor: string, mark: string): boolean {
    return cursorAtOrPast(cursor, mark);
  }

  /** The frontier table kept in this Redis (empty before any replicator wrote one). */
  frontier(): Promise<FrontierTable> {
    return frontier(this.ctx);
  }

  /** Writes the entries that move the table forward (`laterEntry`); see the README for the race it allows. */
  mergeFrontier(entries: FrontierTable): Promise<void> {
    return mergeFrontier(this.ctx, entries);
  }

  /** The regions of the deployment as this region's replicator declared them (empty before). */
  regions(): Promise<string[]> {
    return regions(this.ctx);
  }

  /** Declares the regions of the deployment (replacing the list). */
  declareRegions(list: readonly string[]): Promise<void> {
    return declareRegions(this.ctx, list);
  }

  /** Keeps the record of a merge this region wrote (at most `mergeRecordsMax` per actor, the oldest dropped). */
  recordMerge(record: MergeRecord): Promise<void> {
    return recordMerge(this.ctx, record);
  }

  /** The actor's merge records, newest first, at most `limit` (default 100). */
  merges(actor: ActorRef, options: { readonly limit?: number } = {}): Promise<MergeRecord[]> {
    return merges(this.ctx, actor, options);
  }

  append(pack: Pack, expectedHeads: readonly string[], snapshot?: Snapshot): Promise<void> {
    return append(this.ctx, pack, expectedHeads, snapshot);
  }

  heads(actor: ActorRef): Promise<Pack[]> {
    return heads(this.ctx, actor);
  }

  getPacks(actor: ActorRef, versionKeys: readonly string[]): Promise<(Pack | undefined)[]> {
    return getPacks(this.ctx, actor, versionKeys);
  }

  loadChain(actor: ActorRef, versionKey: string): Promise<Chain> {
    return loadChain(this.ctx, actor, versionKey);
  }

  saveSnapshot(actor: ActorRef, snapshot: Snapshot): Promise<void> {
    return saveSnapshot(this.ctx, actor, snapshot);
  }

  commandVersions(actor: ActorRef, commandId: string): Promise<VectorClock[]> {
    return commandVersions(this.ctx, actor, commandId);
  }

  changesSince(cursor: string | undefined, limit: number): Promise<Changes> {
    return changesSince(this.ctx, cursor, limit);
  }

  merge(packs: readonly Pack[], snapshots: readonly ActorSnapshot[] = []): Promise<MergeReport> {
    return merge(this.ctx, packs, snapshots);
  }

  /**
   * Every pack of the actor held here, each after its parents (ties broken by version key), at
   * most `limit` (default 10,000; more throws LimitExceededError naming `limit`).
   */
  history(actor: ActorRef, options: HistoryOptions = {}): Promise<Pack[]> {
    return history(this.ctx, actor, options);
  }

  async close(): Promise<void> {
    this.ctx.client.off('ready', this.onReady);
    if (this.ownsClient) await this.ctx.client.quit().catch(() => this.ctx.client.disconnect());
  }

  /**
   * Deletes every key of this store (all shards, merge records included, the layout record, the
   * checkpoints, the frontier table, the declared regions; on each master of a Cluster), then
   * closes it, and returns how many keys it deleted. For tests, benchmarks, simulations and
   * decommissioning: the data is gone for every store of this prefix. Works on a store that lost
   * its data (StoreDataLostError): that is how it starts over; when the store cannot even
   * connect, use `RedisStore.destroyPrefix`.
   */
  async destroy(): Promise<number> {
    try {
      return await deleteStoreKeys(this.ctx);
    } finally {
      await this.close();
    }
  }

  /**
   * Deletes every key of a store by its prefix without opening the store (no layout check, no
   * identity check), and returns how many: how to start over when `connectRedisStore` refuses a
   * Redis that lost part of the store's data (StoreDataLostError), so there is no store to
   * `destroy()`. `RedisStore.destroyPrefix({ url, prefix })`, or `{ client, prefix }` with a client
   * of yours (left open). Stop every process using the store first; then connect again.
   */
  static async destroyPrefix(options: DestroyPrefixOptions): Promise<number> {
    const { prefix } = options;
    // The prefix is checked before anything connects (the store's constructor checks it again).
    if (typeof prefix !== 'string') throw new InvalidOptionError('prefix', 'destroyPrefix needs the prefix of the store to delete');
    resolveOptions({ client: undefined as never, prefix });
    if (options.client) return new RedisStore({ client: options.client, prefix }).destroy();
    const { client, endpoint } = await openClient(options);
    let store: RedisStore;
    try {
      store = new RedisStore({ client, prefix, ownsClient: true, endpoint });
    } catch (error) {
      client.disconnect();
      throw error;
    }
    return store.destroy();
  }

  /** The shard an actor's keys live in. */
  shardOf(actor: ActorRef): number {
    return this.ctx.keys.shardOf(actor);
  }

  /** The Redis keys of one actor (all with the same hash tag). */
  keysOf(actor: ActorRef): ActorKeys {
    return this.ctx.keys.actor(actor);
  }
}
