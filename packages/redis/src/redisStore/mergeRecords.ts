/**
 * The MergeLog of the Redis store: per actor a list of merge records under the actor's hash tag
 * (`:m`), newest first, trimmed to `mergeRecordsMax` by the script that pushes (which checks the
 * shard's store identity first, like every write).
 */
import { InvalidOptionError } from '@troupe/runtime';
import { type ActorRef, type MergeRecord, mergeRecordsMax } from '@troupe/runtime/store';
import type { StoreContext } from './context.js';
import { decodeMergeRecord, encodeMergeRecord } from './mergeRecordCodec.js';
import { throwIfLost } from './storeIdentity.js';
import type { Reply } from './scriptCalls.js';

/** Records read when `merges` is given no limit. */
export const mergesLimitDefault = 100;

/** Keeps the record: one script (`LPUSH`, `LTRIM` to `mergeRecordsMax`), after the store identity check. */
export async function recordMerge(ctx: StoreContext, record: MergeRecord): Promise<void> {
  const keys = ctx.keys.actor(record.actor);
  const bytes = encodeMergeRecord(record);
  const identity = ctx.identity.known ?? (await ctx.identity.current());
  const reply = (await ctx.scripts.fixed('troupeRecordMerge')(keys.identity, keys.merges, identity, bytes, mergeRecordsMax)) as Reply[];
  throwIfLost(ctx.identity, keys.identity, reply);
}

/** The actor's records, newest first, at most `limit` (one `LRANGE`). */
export async function merges(ctx: StoreContext, actor: ActorRef, options: { readonly limit?: number } = {}): Promise<MergeRecord[]> {
  const limit = options.limit ?? mergesLimitDefault;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new InvalidOptionError('limit', `must be a positive integer, got ${String(limit)}`);
  const key = ctx.keys.actor(actor).merges;
  const entries = await ctx.runner.run(() => ctx.client.lrangeBuffer(key, 0, limit - 1), [key]);
  return entries.map((bytes, index) => decodeMergeRecord(bytes, key, index));
}
