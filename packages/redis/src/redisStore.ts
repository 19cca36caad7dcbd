import {
  type ActorRef,
  type ActorSnapshot,
  AppendConflictError,
  type Chain,
  type Checkpoint,
  type Changes,
  CorruptDataError,
  decodePack,
  decodeValue,
  encodePack,
  encodeValue,
  type EventStore,
  InvalidDefinitionError,
  LimitExceededError,
  type MergeReport,
  MissingAncestorError,
  type Pack,
  type Snapshot,
  StoreUnavailableError,
  VC,
  type VectorClock,
  actorKey,
  fnv1a32,
  packFingerprint,
  VersionCollisionError,
} from '@troupe/runtime';
import type { Cluster, Redis } from 'ioredis';
import { appendLua, commonLua, headsLua, loadChainLua, mergeLua } from './scripts/index.js';

export interface RedisStoreOptions {
  /** An ioredis client: `Redis` or `Cluster`. See `connectRedis` for options that fail fast. */
  readonly client: Redis | Cluster;
  /** First part of every key. Default 'troupe'. Two stores with different prefixes share nothing. */
  readonly prefix?: string;
  /**
   * Number of log shards. Actors are spread over shards by a hash of `type:id`; all keys of one
   * actor and its shard's replication log share the hash tag `{<prefix>.<shard>}`, so every script touches
   * one Cluster slot. Fixed for the life of the data: opening a store with another value fails.
   * Default 16.
   */
  readonly shards?: number;
  /** Largest encoded pack accepted, bytes. Default 8 MiB. */
  readonly packBytesMax?: number;
  /** Packs returned per `loadChain` script call (a longer chain takes more calls). Default 2,000. */
  readonly chainPacksPerCall?: number;
  /** Close the client on `close()`. Default false (true from `connectRedisStore`). */
  readonly ownsClient?: boolean;
  /** Names the server in errors. Default: taken from the client's options. */
  readonly endpoint?: string;
}

export const redisStoreDefaults = {
  prefix: 'troupe',
  shards: 16,
  packBytesMax: 8 * 1024 * 1024,
  chainPacksPerCall: 2_000,
} as const;

type Reply = Buffer | Reply[] | number | null;

/** Packs per merge script call: bounds the arguments of one call and how long it blocks Redis. */
const mergePacksPerCall = 500;
type ScriptCall = (...args: (string | Buffer | number)[]) => Promise<Reply>;

const scripts = {
  troupeAppend: { numberOfKeys: 7, lua: appendLua },
  troupeLoadChain: { numberOfKeys: 4, lua: loadChainLua },
  troupeHeads: { numberOfKeys: 2, lua: headsLua },
} as const;

interface ActorKeys {
  readonly tag: string;
  readonly packs: string;
  readonly parents: string;
  readonly heads: string;
  readonly snapshots: string;
  readonly commands: string;
  /** The linear-run index: a list of the actor's packs in the order this store wrote them (see README). */
  readonly runs: string;
  readonly log: string;
}

/**
 * EventStore on Redis. Per actor: a hash of packs by version key (`:p`), a hash of parent links
 * (`:r`), the set of heads (`:h`), a hash of snapshots (`:s`), a hash of applied command ids
 * (`:c`) and the linear-run index, a list of its packs in write order (`:l`); per shard, a
 * replication log list (`:log`). Packs and snapshots are msgpack behind a
 * format byte. Every write is one Lua script: atomic, one round trip.
 */
export class RedisStore implements EventStore {
  readonly prefix: string;
  readonly shards: number;
  private readonly client: Redis | Cluster;
  private readonly packBytesMax: number;
  private readonly chainPacksPerCall: number;
  private readonly ownsClient: boolean;
  private readonly endpoint: string;
  private readonly scriptCalls: Record<keyof typeof scripts | 'troupeMerge', ScriptCall>;
  /** Per shard: the hash tag prefix `<prefix>:{<prefix>.<shard>}` and the log key. */
  private readonly tags: string[];
  private readonly logKeys: string[];

  constructor(options: RedisStoreOptions) {
    this.client = options.client;
    this.prefix = options.prefix ?? redisStoreDefaults.prefix;
    this.shards = options.shards ?? redisStoreDefaults.shards;
    this.packBytesMax = options.packBytesMax ?? redisStoreDefaults.packBytesMax;
    this.chainPacksPerCall = options.chainPacksPerCall ?? redisStoreDefaults.chainPacksPerCall;
    this.ownsClient = options.ownsClient ?? false;
    this.endpoint = options.endpoint ?? describeEndpoint(options.client);
    if (!Number.isInteger(this.shards) || this.shards < 1 || this.shards > 4096) {
      throw new InvalidDefinitionError(`option 'shards' must be an integer in 1..4096, got ${this.shards}`);
    }
    if (!Number.isInteger(this.chainPacksPerCall) || this.chainPacksPerCall < 1) {
      throw new InvalidDefinitionError(`option 'chainPacksPerCall' must be a positive integer, got ${this.chainPacksPerCall}`);
    }
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(this.prefix)) {
      throw new InvalidDefinitionError(`option 'prefix' must be 1-64 characters of [A-Za-z0-9_.-], got '${this.prefix}'`);
    }
    this.tags = Array.from({ length: this.shards }, (_, shard) => `${this.prefix}:{${this.prefix}.${shard}}`);
    this.logKeys = this.tags.map((tag) => `${tag}:log`);
    const calls: Partial<Record<keyof typeof scripts, ScriptCall>> = {};
    for (const [name, definition] of Object.entries(scripts) as [keyof typeof scripts, (typeof scripts)[keyof typeof scripts]][]) {
      this.client.defineCommand(name, { numberOfKeys: definition.numberOfKeys, lua: commonLua + definition.lua });
      calls[name] = (this.client as unknown as Record<string, ScriptCall>)[`${name}Buffer`]!.bind(this.client);
    }
    // The merge script declares a variable number of keys (6 per pack): its first argument says how many.
    this.client.defineCommand('troupeMerge', { lua: commonLua + mergeLua });
    this.scriptCalls = {
      ...(calls as Record<keyof typeof scripts, ScriptCall>),
      troupeMerge: (this.client as unknown as Record<string, ScriptCall>)['troupeMergeBuffer']!.bind(this.client),
    };
  }

  /**
   * Checks that the data under this prefix was written with the same shard count (recording it
   * the first time). Called by `connectRedisStore`; call it yourself when you build the client.
   */
  async verifyLayout(): Promise<void> {
    const key = `${this.prefix}:{${this.prefix}.meta}:layout`;
    await this.run(() => this.client.hsetnx(key, 'shards', String(this.shards)), [key]);
    const recorded = Number(await this.run(() => this.client.hget(key, 'shards'), [key]));
    if (recorded !== this.shards) {
      throw new InvalidDefinitionError(
        `the data under prefix '${this.prefix}' was written with shards=${recorded}, but option 'shards' is ${this.shards}: ` +
          `changing it would move actors to other keys`,
      );
    }
  }

  /**
   * A replication checkpoint kept in this store's Redis (give it to the Replicator whose target is
   * this store): `new Replicator(source, target, { checkpoint: targetStore.checkpoint('from-eu') })`.
   */
  checkpoint(name: string): Checkpoint {
    const key = `${this.prefix}:{${this.prefix}.meta}:cursor:${name}`;
    return {
      load: async () => (await this.run(() => this.client.get(key), [key])) ?? undefined,
      save: async (cursor) => {
        await this.run(() => this.client.set(key, cursor), [key]);
      },
    };
  }

  async append(pack: Pack, expectedHeads: readonly string[], snapshot?: Snapshot): Promise<void> {
    const keys = this.keysOf(pack.actor);
    const version = VC.encode(pack.version);
    const bytes = this.encodePack(pack, version);
    const snapshotBytes = snapshot && VC.encode(snapshot.version) === version ? encodeValue(snapshot.state) : '';
    const firstParent = pack.parents.length > 0 ? VC.encode(pack.parents[0]!) : '';
    const dominates = dominatesAll(pack, expectedHeads);
    const reply = (await this.script('troupeAppend')(
      keys.log, keys.packs, keys.parents, keys.heads, keys.snapshots, keys.commands, keys.runs,
      logEntry(pack.actor, version, snapshotBytes !== ''),
      version, bytes, parentInfo(pack, bytes, firstParent), snapshotBytes,
      // Dominance, run-index flag and head count in one argument (see the script).
      (dominates ? '1' : '0') + (pack.kind === 'merge' ? 'm' : dominates && expectedHeads.length === 1 && expectedHeads[0] === firstParent ? 'c' : 's') + expectedHeads.length,
      ...expectedHeads, ...pack.commandIds,
    )) as Buffer[];
    if (String(reply[0]) === 'conflict') {
      throw new AppendConflictError(actorKey(pack.actor), expectedHeads, reply.slice(1).map(String).sort());
    }
    if (snapshot && snapshotBytes === '') await this.saveSnapshot(pack.actor, snapshot);
  }

  async heads(actor: ActorRef): Promise<Pack[]> {
    const keys = this.keysOf(actor);
    const reply = (await this.script('troupeHeads')(keys.packs, keys.heads)) as Buffer[];
    const heads: { key: string; bytes: Buffer }[] = [];
    for (let i = 0; i < reply.length; i += 2) heads.push({ key: String(reply[i]), bytes: reply[i + 1]! });
    // Sorted here, in code-unit order: Lua's order depends on the server's locale.
    heads.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    return heads.map(({ key, bytes }) => {
      if (bytes.length === 0) throw new CorruptDataError(`${keys.packs} field ${key}`, `the heads set ${keys.heads} names a pack that is not stored`);
      return this.decodePack(bytes, keys.packs, key);
    });
  }

  async getPacks(actor: ActorRef, versionKeys: readonly string[]): Promise<(Pack | undefined)[]> {
    if (versionKeys.length === 0) return [];
    const keys = this.keysOf(actor);
    const reply = await this.run(() => this.client.hmgetBuffer(keys.packs, ...versionKeys), [keys.packs]);
    return reply.map((bytes, i) => (bytes ? this.decodePack(bytes, keys.packs, versionKeys[i]!) : undefined));
  }

  async loadChain(actor: ActorRef, versionKey: string): Promise<Chain> {
    try {
      return await this.walkChain(actor, versionKey, true);
    } catch (error) {
      // The run index is advisory (see the scripts): a chain read through it that does not match
      // the packs' own parents (a pack written by a store without the index, damage to the list)
      // is read again along the parent links alone, whose result or error stands.
      if (error instanceof BrokenChainError || error instanceof MissingAncestorError) return this.walkChain(actor, versionKey, false);
      throw error;
    }
  }

  private async walkChain(actor: ActorRef, versionKey: string, useIndex: boolean): Promise<Chain> {
    const keys = this.keysOf(actor);
    const call = (from: string): Promise<Buffer[]> => {
      const reply = this.script('troupeLoadChain')(keys.packs, keys.parents, keys.snapshots, keys.runs, from, this.chainPacksPerCall, useIndex ? '1' : '0') as Promise<Buffer[]>;
      reply.catch(() => {}); // awaited below; a rejection before then is not unhandled
      return reply;
    };
    // Per script call: the version keys of its packs (newest first), then their bytes with a plain
    // HMGET. The next script call is sent before this batch is decoded, so Redis walks the next
    // batch while this process decodes the current one.
    // Each pack's first parent must be the next older one (and the oldest one's, the base): the
    // walk trusts the parent links and the run index; this turns any damage to them into an error
    // instead of a wrong chain.
    const newestFirst: Pack[] = [];
    // The first parent of the pack decoded last (compared as clocks: no encoding per pack).
    let parent: VectorClock | undefined;
    let next = call(versionKey);
    for (;;) {
      const reply = await next;
      const status = String(reply[0]);
      const baseKey = String(reply[1]);
      if (status === 'missing') throw new MissingAncestorError(actorKey(actor), baseKey);
      // As strings: ioredis writes a command of string arguments several times faster than one of
      // Buffers (a replay of 10,000 packs spent ~17 ms writing its HMGETs with Buffer arguments).
      const versions: string[] = new Array(reply.length - 3);
      for (let i = 3; i < reply.length; i++) versions[i - 3] = reply[i]!.toString('utf8', 1); // after the index flag
      const bytes = versions.length > 0 ? this.run(() => this.client.hmgetBuffer(keys.packs, ...versions), [keys.packs]) : Promise.resolve([]);
      if (status === 'more') next = call(baseKey);
      const found = await bytes;
      for (let i = 0; i < versions.length; i++) {
        const field = versions[i]!;
        const pack = found[i];
        if (!pack) throw new MissingAncestorError(actorKey(actor), field);
        const decoded = this.decodePack(pack, keys.packs, field);
        if (newestFirst.length === 0 ? field !== versionKey : !(parent && sameClock(parent, decoded.version))) {
          throw this.brokenChain(keys, newestFirst.length === 0 ? versionKey : parent ? VC.encode(parent) : '', field);
        }
        // A chain stops at a merge pack (its base): one inside it means the walk missed that stop
        // (an index element of a merge pack flagged as a command pack's).
        if (decoded.kind === 'merge') throw new BrokenChainError(`${keys.parents}, ${keys.runs}`, `the walk went past the merge pack ${field}`);
        newestFirst.push(decoded);
        parent = decoded.parents[0];
      }
      if (status === 'more') continue;
      const oldestParent = newestFirst.length === 0 ? versionKey : parent ? VC.encode(parent) : '';
      if (oldestParent !== (status === 'root' ? '' : baseKey)) throw this.brokenChain(keys, oldestParent, status === 'root' ? '(none)' : baseKey);
      const packs = newestFirst.reverse();
      switch (status) {
        case 'root':
          return { packs };
        case 'snapshot':
          return { base: { version: VC.decode(baseKey), state: decodeValue(reply[2]!, `${keys.snapshots} field ${baseKey}`) }, packs };
        case 'merge': {
          const merge = this.decodePack(reply[2]!, keys.packs, baseKey);
          // The walk stopped at a pack the index or the parent links call a merge pack: it must be one.
          if (merge.kind !== 'merge') throw new BrokenChainError(`${keys.parents}, ${keys.runs}`, `the walk stopped at ${baseKey} as at a merge pack, but it is a command pack`);
          return { base: { version: merge.version, state: merge.state }, packs };
        }
        default:
          throw new CorruptDataError(keys.packs, `unexpected loadChain status '${status}'`);
      }
    }
  }

  private brokenChain(keys: ActorKeys, parent: string, found: string): CorruptDataError {
    return new BrokenChainError(
      `${keys.parents}, ${keys.runs}`,
      `the parent links or the run index lead to ${found} where the chain's pack has first parent ${parent || '(none)'}`,
    );
  }

  async saveSnapshot(actor: ActorRef, snapshot: Snapshot): Promise<void> {
    const keys = this.keysOf(actor);
    await this.run(() => this.client.hset(keys.snapshots, VC.encode(snapshot.version), encodeValue(snapshot.state)), [keys.snapshots]);
  }

  async commandVersions(actor: ActorRef, commandId: string): Promise<VectorClock[]> {
    const keys = this.keysOf(actor);
    const versions = await this.run(() => this.client.hget(keys.commands, commandId), [keys.commands]);
    if (versions === null) return [];
    try {
      return versions.split('|').map(VC.decode);
    } catch (error) {
      throw new CorruptDataError(`${keys.commands} field ${commandId}`, (error as Error).message, error);
    }
  }

  async changesSince(cursor: string | undefined, limit: number): Promise<Changes> {
    const offsets = this.parseCursor(cursor);
    const lengths = await Promise.all(offsets.map((_, shard) => this.run(() => this.client.llen(this.logKey(shard)), [this.logKey(shard)])));
    const packs: Pack[] = [];
    const snapshots: ActorSnapshot[] = [];
    let remaining = limit;
    // Start at a shard that moves with the cursor, so a busy shard cannot starve the others.
    const first = offsets.reduce((sum, n) => sum + n, 0) % this.shards;
    for (let step = 0; step < this.shards && remaining > 0; step++) {
      const shard = (first + step) % this.shards;
      const available = lengths[shard]! - offsets[shard]!;
      if (available <= 0) continue;
      const count = Math.min(available, remaining);
      const page = await this.readLogPage(shard, offsets[shard]!, count);
      packs.push(...page.packs);
      snapshots.push(...page.snapshots);
      offsets[shard] = offsets[shard]! + page.packs.length;
      remaining -= page.packs.length;
    }
    return { packs, snapshots, cursor: offsets.join('.') };
  }

  /**
   * Entries [start, start + count) of one shard's log with their packs and shipped snapshots: the
   * log range, then the packs (one pipeline; every key shares the shard's tag, so one slot).
   */
  private async readLogPage(shard: number, start: number, count: number): Promise<{ packs: Pack[]; snapshots: ActorSnapshot[] }> {
    const logKey = this.logKey(shard);
    const entries = await this.run(() => this.client.lrangeBuffer(logKey, start, start + count - 1), [logKey]);
    const parsed = entries.map((entry) => {
      const [type, id, version, withSnapshot] = this.parseLogEntry(entry, shard);
      const actor = { type, id };
      return { actor, version, withSnapshot, keys: this.keysOf(actor) };
    });
    if (parsed.length === 0) return { packs: [], snapshots: [] };
    const pipeline = this.client.pipeline();
    for (const e of parsed) {
      pipeline.hgetBuffer(e.keys.packs, e.version);
      if (e.withSnapshot) pipeline.hgetBuffer(e.keys.snapshots, e.version);
    }
    const results = (await this.run(() => pipeline.exec(), () => parsed.flatMap((e) => [e.keys.packs, e.keys.snapshots]))) ?? [];
    const packs: Pack[] = [];
    const snapshots: ActorSnapshot[] = [];
    let r = 0;
    const next = (): Buffer | null => {
      const [error, value] = results[r++] ?? [new Error('missing pipeline reply'), null];
      if (error) throw error;
      return value as Buffer | null;
    };
    for (const e of parsed) {
      const bytes = next();
      if (!bytes) throw new CorruptDataError(`${e.keys.packs} field ${e.version}`, `the log ${logKey} names a pack that is not stored`);
      packs.push(this.decodePack(bytes, e.keys.packs, e.version));
      if (e.withSnapshot) {
        const snapshot = next();
        if (snapshot) snapshots.push({ actor: e.actor, version: VC.decode(e.version), state: decodeValue(snapshot, `${e.keys.snapshots} field ${e.version}`) });
      }
    }
    return { packs, snapshots };
  }

  async merge(packs: readonly Pack[], snapshots: readonly ActorSnapshot[] = []): Promise<MergeReport> {
    const snapshotByKey = new Map(snapshots.map((s) => [`${actorKey(s.actor)}@${VC.encode(s.version)}`, s]));
    let added = 0;
    let skipped = 0;
    // One script call per run of consecutive packs of one shard (at most mergePacksPerCall), in
    // order: a missing parent or a collision stops it. Runs merged before an error stay merged.
    let i = 0;
    while (i < packs.length) {
      const shard = this.shardOf(packs[i]!.actor);
      const keys: string[] = [this.logKey(shard)];
      const args: (string | Buffer)[] = [];
      let j = i;
      for (; j < packs.length && j - i < mergePacksPerCall && this.shardOf(packs[j]!.actor) === shard; j++) {
        const pack = packs[j]!;
        const actorKeys = this.keysOf(pack.actor);
        keys.push(actorKeys.packs, actorKeys.parents, actorKeys.heads, actorKeys.snapshots, actorKeys.commands, actorKeys.runs);
        const version = VC.encode(pack.version);
        const snapshot = snapshotByKey.get(`${actorKey(pack.actor)}@${version}`);
        const bytes = this.encodePack(pack, version);
        args.push(
          pack.actor.type, pack.actor.id, version, bytes, parentInfo(pack, bytes),
          JSON.stringify(pack.parents.map(VC.encode)), JSON.stringify(pack.commandIds),
          snapshot ? encodeValue(snapshot.state) : '',
        );
      }
      const call = this.scriptCalls.troupeMerge;
      const reply = (await this.run(() => call(keys.length, ...keys, ...args), keys)) as Reply[];
      added += Number(reply[0]);
      skipped += Number(reply[1]);
      if (reply.length > 2) {
        if (String(reply[2]) === 'collision') throw new VersionCollisionError(String(reply[3]), String(reply[4]));
        throw new MissingAncestorError(String(reply[3]), String(reply[4]));
      }
      i = j;
    }
    return { added, skipped };
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.client.quit().catch(() => this.client.disconnect());
  }

  /** The shard an actor's keys live in. */
  shardOf(actor: ActorRef): number {
    return fnv1a32(actorKey(actor)) % this.shards;
  }

  /** The Redis keys of one actor (all with the same hash tag). */
  keysOf(actor: ActorRef): ActorKeys {
    const shard = this.shardOf(actor);
    const tag = this.tag(shard);
    const base = `${tag}:${actor.type}:${actor.id}`;
    return {
      tag,
      packs: `${base}:p`,
      parents: `${base}:r`,
      heads: `${base}:h`,
      snapshots: `${base}:s`,
      commands: `${base}:c`,
      runs: `${base}:l`,
      log: this.logKey(shard),
    };
  }

  private tag(shard: number): string {
    return this.tags[shard]!;
  }

  private logKey(shard: number): string {
    return this.logKeys[shard]!;
  }

  private parseCursor(cursor: string | undefined): number[] {
    if (cursor === undefined) return Array.from({ length: this.shards }, () => 0);
    const offsets = cursor.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : Number.NaN));
    if (offsets.length !== this.shards || offsets.some((n) => !Number.isSafeInteger(n) || n < 0)) {
      throw new InvalidDefinitionError(`'${cursor}' is not a cursor of this store (${this.shards} shards)`);
    }
    return offsets;
  }

  private parseLogEntry(bytes: Buffer, shard: number): [string, string, string, boolean] {
    try {
      const entry = JSON.parse(String(bytes)) as unknown;
      if (Array.isArray(entry) && entry.length === 4 && entry.slice(0, 3).every((x) => typeof x === 'string') && (entry[3] === 0 || entry[3] === 1)) {
        return [entry[0], entry[1], entry[2], entry[3] === 1];
      }
    } catch {
      // reported below
    }
    throw new CorruptDataError(this.logKey(shard), `log entry '${String(bytes).slice(0, 80)}' is not [type, id, version, snapshot]`);
  }

  private encodePack(pack: Pack, version: string): Buffer {
    const bytes = encodePack(pack);
    if (bytes.length > this.packBytesMax) {
      throw new LimitExceededError(
        'packBytesMax',
        `pack ${actorKey(pack.actor)}@${version} is ${bytes.length} bytes, more than ${this.packBytesMax}`,
      );
    }
    return bytes;
  }

  private decodePack(bytes: Buffer, key: string, field: string): Pack {
    return decodePack(bytes, `${key} field ${field}`);
  }

  /** A script call; `touches` adds keys it reaches besides its declared KEYS (named in type errors). */
  /** A script call; `touches` lists (lazily, for error reports only) keys it reaches beyond its declared ones. */
  private script(name: keyof typeof scripts, touches: readonly string[] | (() => readonly string[]) = []): ScriptCall {
    const call = this.scriptCalls[name];
    const numberOfKeys = scripts[name].numberOfKeys;
    return (...args) =>
      this.run(
        () => call(...args),
        () => [...args.slice(0, numberOfKeys).map(String), ...(typeof touches === 'function' ? touches() : touches)],
      );
  }

  /**
   * Runs a command, turning connection failures into StoreUnavailableError, and a WRONGTYPE reply
   * (foreign data under troupe's keys) into CorruptDataError naming the offending key among `keys`.
   */
  private async run<T>(command: () => Promise<T>, keys: readonly string[] | (() => readonly string[]) = []): Promise<T> {
    try {
      return await command();
    } catch (error) {
      if (isConnectionError(error)) throw new StoreUnavailableError(this.endpoint, (error as Error).message, error);
      if (error instanceof Error && /WRONGTYPE/.test(error.message)) {
        throw await this.wrongTypeError(typeof keys === 'function' ? keys() : keys, error);
      }
      throw error;
    }
  }

  private async wrongTypeError(keys: readonly string[], error: Error): Promise<CorruptDataError> {
    const unique = [...new Set(keys)];
    const types = await Promise.all(unique.map((key) => this.client.type(key).catch(() => 'unknown')));
    const foreign = unique.filter((key, i) => types[i] !== 'none' && types[i] !== expectedTypeOf(key));
    if (foreign.length === 0) {
      return new CorruptDataError(unique.join(', ') || this.prefix, `a key holds another type of value than troupe writes there (${error.message})`, error);
    }
    const detail = foreign.map((key) => `${foreign.length > 1 ? `${key} ` : ''}holds a ${types[unique.indexOf(key)]} where troupe keeps a ${expectedTypeOf(key)}`);
    return new CorruptDataError(foreign.join(', '), `${detail.join('; ')} (${error.message})`, error);
  }
}

/** Characters JSON writes as they are: names made of them need no JSON.stringify (~1 µs per append). */
const plainJson = /^[A-Za-z0-9_.:,@ -]*$/;

/** The shard log entry of a pack: JSON [type, id, version, 0 | 1 (ships a snapshot)]. */
function logEntry(actor: ActorRef, version: string, withSnapshot: boolean): string {
  if (plainJson.test(actor.type) && plainJson.test(actor.id) && plainJson.test(version)) {
    return `["${actor.type}","${actor.id}","${version}",${withSnapshot ? 1 : 0}]`;
  }
  return JSON.stringify([actor.type, actor.id, version, withSnapshot ? 1 : 0]);
}

/** Equal vector clocks (canonical: no zero entries), without encoding them. */
function sameClock(a: VectorClock, b: VectorClock): boolean {
  let entries = 0;
  for (const replica in a) {
    if (a[replica] !== b[replica]) return false;
    entries++;
  }
  for (const _replica in b) entries--;
  return entries === 0;
}

/** A chain whose packs' parents do not match the walk that found them: damage to parent links or the run index. */
class BrokenChainError extends CorruptDataError {}

/** True when the pack's version is at or after every expected head: the append makes it the only head. */
function dominatesAll(pack: Pack, expectedHeads: readonly string[]): boolean {
  if (expectedHeads.length === 0) return true;
  // The usual case, a command on its one head, is checked against the parent without parsing.
  const parent = pack.parents[0];
  if (pack.kind === 'command' && expectedHeads.length === 1 && parent && expectedHeads[0] === VC.encode(parent)) {
    return VC.dominatedBy(parent, pack.version);
  }
  try {
    return expectedHeads.every((head) => VC.dominatedBy(VC.decode(head), pack.version));
  } catch {
    return false; // not a version key: the script finds the heads differ and reports a conflict
  }
}

/** Kind ('c' or 'm'), the pack's 8-hex fingerprint, then (command packs) the first parent's key. */
function parentInfo(pack: Pack, encoded: Buffer, firstParent = pack.parents[0] ? VC.encode(pack.parents[0]) : ''): string {
  const fingerprint = packFingerprint(pack, encoded);
  if (pack.kind === 'merge') return `m${fingerprint}`;
  return `c${fingerprint}${firstParent}`;
}

/** The Redis type troupe keeps at a key: sets of heads, list logs, string cursors, hashes otherwise. */
function expectedTypeOf(key: string): string {
  if (/\.meta\}:cursor:/.test(key)) return 'string';
  if (key.endsWith(':h')) return 'set';
  if (key.endsWith(':log') || key.endsWith(':l')) return 'list';
  return 'hash';
}

const connectionErrorPatterns = [
  /Stream isn't writeable/i,
  /Connection is closed/i,
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|EPIPE/,
  /Command timed out/i,
  /Reached the max retries per request limit/i,
  /Failed to refresh slots cache|Cluster(AllFailed| isn't ready)/i,
  /None of startup nodes is available/i,
  // Server replies that mean "not now" (loading a dump, a replica or a failing-over master, a
  // script running too long, out of memory, a resharding or failing cluster): retry later.
  /(^|ReplyError )(LOADING|READONLY|BUSY|OOM|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|NOREPLICAS) /,
];

function isConnectionError(error: unknown): boolean {
  const message = error instanceof Error ? `${error.name} ${error.message}` : String(error);
  return connectionErrorPatterns.some((pattern) => pattern.test(message));
}

function describeEndpoint(client: Redis | Cluster): string {
  if ('isCluster' in client && client.isCluster) {
    const nodes = (client as Cluster).nodes('master').map((n) => `${n.options.host ?? '127.0.0.1'}:${n.options.port ?? 6379}`);
    return `redis cluster ${nodes.join(',') || '(not connected)'}`;
  }
  const options = (client as Redis).options;
  return `redis://${options.host ?? '127.0.0.1'}:${options.port ?? 6379}/${options.db ?? 0}`;
}
