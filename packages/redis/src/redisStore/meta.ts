import { type Checkpoint, InvalidOptionError } from '@troupe/runtime';
import type { StoreContext } from './context.js';
import { throwIfLost } from './storeIdentity.js';
import type { FixedKeyScript, Reply } from './scriptCalls.js';

/**
 * Checks that the data under this prefix was written with the same shard count, recording it the
 * first time (HSETNX, then HGET: two stores connecting at once agree on the first value), then
 * establishes the store identity every write checks (see storeIdentity.ts): a Redis whose data
 * was partly lost since the store was first connected is a StoreDataLostError here.
 */
export async function verifyLayout(ctx: StoreContext): Promise<void> {
  const key = ctx.keys.layout;
  const { shards, prefix } = ctx.keys;
  await ctx.runner.run(() => ctx.client.hsetnx(key, 'shards', String(shards)), [key]);
  const recorded = Number(await ctx.runner.run(() => ctx.client.hget(key, 'shards'), [key]));
  if (recorded !== shards) {
    throw new InvalidOptionError(
      'shards',
      `the data under prefix '${prefix}' was written with shards=${recorded}, but this store has ${shards}: ` +
        `changing it would move actors to other keys`,
    );
  }
  await ctx.identity.establish();
}

/**
 * A replication checkpoint kept as a string under the store's meta tag, saved by a script that
 * checks the store identity first: a cursor saved into an emptied Redis would make the replicator
 * skip what was lost.
 */
export function checkpoint(ctx: StoreContext, name: string): Checkpoint {
  const key = ctx.keys.checkpoint(name);
  return {
    load: async () => (await ctx.runner.run(() => ctx.client.get(key), [key])) ?? undefined,
    save: (cursor) => writeMeta(ctx, 'troupeSaveMetaString', key, [cursor]),
  };
}

/**
 * A write under the meta tag (`key`) by a script that checks the meta slot's store identity first:
 * StoreDataLostError when the Redis lost the store's data, and nothing written.
 */
export async function writeMeta(ctx: StoreContext, script: FixedKeyScript, key: string, args: readonly string[]): Promise<void> {
  const identity = ctx.identity.known ?? (await ctx.identity.current());
  const reply = (await ctx.scripts.fixed(script)(ctx.keys.metaIdentity, key, identity, ...args)) as Reply[];
  throwIfLost(ctx.identity, ctx.keys.metaIdentity, reply);
}
