import { type Checkpoint, InvalidOptionError } from '@troupe/runtime';
import type { StoreContext } from './context.js';

/**
 * Checks that the data under this prefix was written with the same shard count, recording it the
 * first time (HSETNX, then HGET: two stores connecting at once agree on the first value).
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
}

/** A replication checkpoint kept as a string under the store's meta tag. */
export function checkpoint(ctx: StoreContext, name: string): Checkpoint {
  const key = ctx.keys.checkpoint(name);
  return {
    load: async () => (await ctx.runner.run(() => ctx.client.get(key), [key])) ?? undefined,
    save: async (cursor) => {
      await ctx.runner.run(() => ctx.client.set(key, cursor), [key]);
    },
  };
}
