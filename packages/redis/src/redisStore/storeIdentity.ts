import { randomUUID } from 'node:crypto';
import { StoreUnavailableError } from '@troupe/runtime/store';
import type { Cluster, Redis } from 'ioredis';
import { StoreDataLostError } from '../errors/index.js';
import type { CommandRunner } from './errorMapping.js';
import type { KeySchema } from './keySchema.js';
import type { Reply } from './scriptCalls.js';

/**
 * The store identity: a random id written once, when a store is first connected, into the meta
 * tag and into every shard's hash slot (`<prefix>:{<prefix>.<shard>}:identity`). Every write script
 * (append, merge, snapshot, checkpoint) compares its slot's copy with the identity this process
 * read at connect and writes nothing when it differs: a Redis that lost the data (restarted
 * without persistence, flushed, failed over to an empty node) lost the identity too, so no write
 * lands on the emptied store and no command is decided on its empty state. One key per slot
 * because Redis Cluster loses data per master: a check of one key elsewhere would miss it.
 *
 * Initialisation is safe with several processes connecting at once: the identity is decided by
 * `SET NX` on the meta key, each process copies the decided value into every shard with `SET NX`,
 * and the layout record's `identity` field ("sealed") is written only when every shard holds it.
 * Once sealed, a missing or different shard copy means data loss. Before sealing, a missing copy
 * is an initialisation in progress (or one that crashed half-way), which the next process finishes.
 *
 * What it cannot tell: a brand-new store from one whose Redis lost everything before this process
 * connected (both are empty). `RedisStore.persistence()` lets an operator refuse a Redis that would
 * lose data on a restart.
 */
export class StoreIdentity {
  private value: string | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly client: Redis | Cluster,
    private readonly keys: KeySchema,
    private readonly runner: CommandRunner,
  ) {}

  /** The identity, once established (undefined before). */
  get known(): string | undefined {
    return this.value;
  }

  /** The identity, establishing it on first use (every write script needs it). */
  current(): Promise<string> {
    if (this.value !== undefined) return Promise.resolve(this.value);
    return this.establish();
  }

  /** Decides or reads the identity and checks every shard holds it (see the class comment). */
  establish(): Promise<string> {
    this.pending ??= this.decide().then(
      (value) => {
        this.value = value;
        return value;
      },
      (error: unknown) => {
        this.pending = undefined;
        throw error;
      },
    );
    return this.pending;
  }

  /**
   * Compares every shard's copy with the known identity (after a reconnect: ioredis 'ready').
   * A mismatch marks the store lost (every later call rejects with StoreDataLostError) and is returned.
   */
  async recheck(): Promise<StoreDataLostError | undefined> {
    const value = this.value;
    if (value === undefined) return undefined;
    const found = await this.readAll();
    const meta = await this.get(this.keys.metaIdentity);
    const wrong = this.mismatches(found, value);
    if (meta !== value) wrong.unshift(`the identity key ${this.keys.metaIdentity} ${describe(meta)}`);
    if (wrong.length === 0) return undefined;
    return this.lose(wrong);
  }

  /** Marks the store lost: every later call rejects with the returned error. */
  lose(details: readonly string[]): StoreDataLostError {
    const error = new StoreDataLostError(this.keys.prefix, this.runner.endpoint, summarize(details));
    this.runner.lost ??= error;
    return this.runner.lost;
  }

  private async decide(): Promise<string> {
    const metaKey = this.keys.metaIdentity;
    let decided = await this.get(metaKey);
    if (decided === null) {
      // No identity under the meta tag: a new store (or one written before identities), unless
      // shards hold one, which means the meta slot lost its keys, or another process is
      // initialising right now (it sets the meta key before any shard: read it again).
      const found = await this.readAll();
      const held = found.findIndex((copy) => copy !== null);
      if (held >= 0) {
        decided = await this.get(metaKey);
        if (decided === null) {
          throw this.lose([`shard ${held} holds identity ${found[held]}, but ${metaKey} and the layout record are gone`]);
        }
      } else {
        await this.runner.run(() => this.client.set(metaKey, randomUUID(), 'NX'), [metaKey]);
        decided = await this.get(metaKey);
        if (decided === null) throw new StoreUnavailableError(this.runner.endpoint, `${metaKey} vanished right after it was written`);
      }
    }
    const sealed = await this.runner.run(() => this.client.hget(this.keys.layout, 'identity'), [this.keys.layout]);
    if (sealed !== null && sealed !== decided) {
      throw this.lose([`the layout record names identity ${sealed}, but ${metaKey} ${describe(decided)}`]);
    }
    if (sealed === null) {
      const value = decided;
      await Promise.all(
        Array.from({ length: this.keys.shards }, (_, shard) => this.keys.identity(shard)).map((key) =>
          this.runner.run(() => this.client.set(key, value, 'NX'), [key]),
        ),
      );
    }
    const wrong = this.mismatches(await this.readAll(), decided);
    if (wrong.length > 0) throw this.lose(wrong);
    if (sealed === null) await this.runner.run(() => this.client.hset(this.keys.layout, 'identity', decided), [this.keys.layout]);
    return decided;
  }

  private mismatches(found: readonly (string | null)[], value: string): string[] {
    return found.flatMap((copy, shard) => (copy === value ? [] : [`the identity key ${this.keys.identity(shard)} ${describe(copy)}`]));
  }

  /** Every shard's copy (one GET each, in parallel: on a Cluster the shards live in different slots). */
  private readAll(): Promise<(string | null)[]> {
    return Promise.all(Array.from({ length: this.keys.shards }, (_, shard) => this.get(this.keys.identity(shard))));
  }

  private get(key: string): Promise<string | null> {
    return this.runner.run(() => this.client.get(key), [key]);
  }
}

function describe(copy: string | null): string {
  return copy === null ? 'is missing' : `holds another store's identity (${copy})`;
}

/** The first few details and how many more: 4,096 shards would make an unreadable message. */
function summarize(details: readonly string[]): string {
  const shown = details.slice(0, 3).join('; ');
  return details.length > 3 ? `${shown}; and ${details.length - 3} more` : shown;
}

/** A write script's 'lost' reply in words: the identity key missing, or holding another store's identity. */
export function identityFound(key: string, found: Reply | undefined): string {
  const value = found === undefined || found === null ? '' : String(found);
  return value === '' ? `the identity key ${key} is missing` : `the identity key ${key} holds another store's identity (${value})`;
}

/** Throws the StoreDataLostError of a write script's `{'lost', identity found}` reply (and marks the store lost); nothing for `{'ok'}`. */
export function throwIfLost(identity: StoreIdentity, identityKey: string, reply: readonly Reply[]): void {
  if (String(reply[0]) === 'lost') throw identity.lose([identityFound(identityKey, reply[1])]);
}
