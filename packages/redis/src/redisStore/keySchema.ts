import { type ActorRef, actorKey, fnv1a32 } from '@troupe/runtime/store';

/** The Redis keys of one actor: all carry its shard's hash tag, so they live in one Cluster slot. */
export interface ActorKeys {
  /** `<prefix>:{<prefix>.<shard>}`. */
  readonly tag: string;
  /** Hash: version key → pack (format byte + msgpack). */
  readonly packs: string;
  /** Hash: version key → kind, fingerprint, first parent, and `@<position>` in `runs` (the chain loadChain walks). */
  readonly parents: string;
  /** Set: the head version keys. */
  readonly heads: string;
  /** Hash: version key → snapshot state. */
  readonly snapshots: string;
  /** Hash: command id → '|'-separated versions of the packs that applied it. */
  readonly commands: string;
  /** The linear-run index: a list of the actor's packs in the order this store wrote them (see README). */
  readonly runs: string;
  /** List: the records of the merges this store's region wrote for the actor, newest first (`recordMerge`). */
  readonly merges: string;
  /** The replication log of the actor's shard. */
  readonly log: string;
  /** The store identity of the actor's shard (a string), which every write script checks first. */
  readonly identity: string;
}

/**
 * Every key name a store uses, in one place (the README's "Data layout" describes them):
 *
 * - per actor, `<prefix>:{<prefix>.<shard>}:<type>:<id>:<p|r|h|s|c|l|m>` (see `ActorKeys`);
 * - per shard, the replication log `<prefix>:{<prefix>.<shard>}:log`;
 * - per shard, the store identity `<prefix>:{<prefix>.<shard>}:identity` (a string);
 * - per store, under the `{<prefix>.meta}` tag: the layout record `…:layout` (the shard count the
 *   data was written with, and the identity once every shard holds it), the identity `…:identity`,
 *   replication checkpoints `…:cursor:<name>`, the frontier table `…:frontier` (a hash) and the
 *   declared regions `…:regions` (a string);
 * - per view (`RedisView`, see view/viewKeys.ts), under the `{<prefix>.view.<name>}` tag: the
 *   view's rows, contributions, parts and meta (hashes), its cursor, lease and fence (strings).
 *
 * `<shard>` is `fnv1a32('type:id') % shards`. Every key starts with `<prefix>:{<prefix>.`, which
 * `pattern` matches and nothing of another prefix does (a prefix holds no ':', '{' or glob characters).
 */
export class KeySchema {
  /** Per shard: the hash tag prefix `<prefix>:{<prefix>.<shard>}`. */
  private readonly tags: readonly string[];
  private readonly logs: readonly string[];
  private readonly identities: readonly string[];
  private readonly meta: string;

  constructor(
    readonly prefix: string,
    readonly shards: number,
  ) {
    this.tags = Array.from({ length: shards }, (_, shard) => `${prefix}:{${prefix}.${shard}}`);
    this.logs = this.tags.map((tag) => `${tag}:log`);
    this.identities = this.tags.map((tag) => `${tag}:identity`);
    this.meta = `${prefix}:{${prefix}.meta}`;
  }

  /** The shard an actor's keys live in. */
  shardOf(actor: ActorRef): number {
    return fnv1a32(actorKey(actor)) % this.shards;
  }

  /** The Redis keys of one actor (all with the same hash tag). */
  actor(actor: ActorRef): ActorKeys {
    const shard = this.shardOf(actor);
    const tag = this.tags[shard]!;
    const base = `${tag}:${actor.type}:${actor.id}`;
    return {
      tag,
      packs: `${base}:p`,
      parents: `${base}:r`,
      heads: `${base}:h`,
      snapshots: `${base}:s`,
      commands: `${base}:c`,
      runs: `${base}:l`,
      merges: `${base}:m`,
      log: this.logs[shard]!,
      identity: this.identities[shard]!,
    };
  }

  /** The replication log of one shard (a list of JSON `[type, id, version, 0 | 1]`). */
  log(shard: number): string {
    return this.logs[shard]!;
  }

  /**
   * The store identity key of one shard (a string): written once when the store is first
   * connected, checked by every write script (see storeIdentity.ts).
   */
  identity(shard: number): string {
    return this.identities[shard]!;
  }

  /** The store identity under the meta tag (a string), decided first when a store is initialised. */
  get metaIdentity(): string {
    return `${this.meta}:identity`;
  }

  /** The hash recording the shard count the data under this prefix was written with. */
  get layout(): string {
    return `${this.meta}:layout`;
  }

  /** The string holding a replicator checkpoint (`store.checkpoint(name)`). */
  checkpoint(name: string): string {
    return `${this.meta}:cursor:${name}`;
  }

  /** The frontier table: a hash, field `<reader>/<source>` → `{"cursor":…,"at":…}` (see frontierTable.ts). */
  get frontier(): string {
    return `${this.meta}:frontier`;
  }

  /** The regions of the deployment as its replicator declared them: a string, a JSON array of region ids. */
  get regions(): string {
    return `${this.meta}:regions`;
  }

  /** A `SCAN MATCH` pattern for every key of this store and no other's. */
  get pattern(): string {
    return `${this.prefix}:{${this.prefix}.*`;
  }

  /**
   * The Redis type troupe keeps at one of these keys: sets of heads; lists of logs, run indexes
   * and merge records; strings of checkpoints, identities, the declared regions and a view's
   * cursor, lease and fence; hashes otherwise.
   */
  static expectedTypeOf(key: string): string {
    if (/\.view\.[^}]*\}:[^:]+:(cursor|lease|fence)$/.test(key)) return 'string';
    if (/\.meta\}:(cursor:|regions$)/.test(key) || key.endsWith(':identity')) return 'string';
    if (key.endsWith(':h')) return 'set';
    if (key.endsWith(':log') || key.endsWith(':l') || key.endsWith(':m')) return 'list';
    return 'hash';
  }
}
