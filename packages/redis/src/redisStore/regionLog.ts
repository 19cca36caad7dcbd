/**
 * The RegionLog of the Redis store (#15): backlog and log marks over the shard logs, the frontier
 * table and the declared regions under the meta tag (the checkpoints are in meta.ts).
 */
import { type ActorRef, type FrontierTable, frontierChanges } from '@troupe/runtime/store';
import type { StoreContext } from './context.js';
import { decodeFrontier, decodeRegions, encodeRegions, frontierFields } from './frontierTable.js';
import { formatCursor, logLength, logPosition } from './logCursor.js';
import { writeMeta } from './meta.js';

/** How many packs the shard logs hold after `cursor` (undefined: all of them): one `LLEN` per shard, the cursor checked as `changesSince` checks it. */
export async function backlog(ctx: StoreContext, cursor: string | undefined): Promise<number> {
  const { offsets, lengths } = await logPosition(ctx, cursor);
  return lengths.reduce((sum, length, shard) => sum + length - offsets[shard]!, 0);
}

/**
 * A mark past every pack of `actor` held now, shaped as a cursor: the store identity, then 0 for
 * every shard but the actor's, whose offset is its log's length (one `LLEN`). Every pack of the
 * actor lies in that log before that length, so a reader's cursor at or past the mark in every
 * offset (`cursorAtOrPast`) has read them all, whatever it read of the other shards.
 */
export async function logMark(ctx: StoreContext, actor: ActorRef): Promise<string> {
  const identity = ctx.identity.known ?? (await ctx.identity.current());
  const shard = ctx.keys.shardOf(actor);
  const offsets = Array.from({ length: ctx.keys.shards }, () => 0);
  offsets[shard] = await logLength(ctx, shard);
  return formatCursor(identity, offsets);
}

/** The frontier table: one `HGETALL` of its hash. */
export async function frontier(ctx: StoreContext): Promise<FrontierTable> {
  const key = ctx.keys.frontier;
  return decodeFrontier(key, await ctx.runner.run(() => ctx.client.hgetall(key), [key]));
}

/**
 * Merges entries into the table: reads it (one `HGETALL`), keeps the entries that move it forward
 * (`frontierChanges`), and writes only those (one script, which checks the store identity first).
 * Two writers racing between the read and the write may put an entry back behind the other's:
 * each is a real checkpoint, so the table then understates progress until the next write, never
 * overstates it (what the RegionLog contract allows).
 */
export async function mergeFrontier(ctx: StoreContext, entries: FrontierTable): Promise<void> {
  // Bad input (a region id that is not one, a malformed entry) is refused before any round trip.
  frontierFields(entries);
  const changes = frontierChanges(await frontier(ctx), entries);
  const fields = frontierFields(changes);
  if (fields.length === 0) return;
  await writeMeta(ctx, 'troupeSaveFrontier', ctx.keys.frontier, fields);
}

/** The declared regions: one `GET`. */
export async function regions(ctx: StoreContext): Promise<string[]> {
  const key = ctx.keys.regions;
  return decodeRegions(key, await ctx.runner.run(() => ctx.client.get(key), [key]));
}

/** Declares the regions (replacing the list), after the store identity check. */
export async function declareRegions(ctx: StoreContext, list: readonly string[]): Promise<void> {
  await writeMeta(ctx, 'troupeSaveMetaString', ctx.keys.regions, [encodeRegions(list)]);
}
