import { InvalidCursorError } from '@troupe/runtime/store';
import type { StoreContext } from './context.js';

/**
 * Log cursors: `<identity>:<n0>.<n1>.…`, the store identity (see storeIdentity.ts) and one offset
 * per shard log, in shard order. `changesSince` reads from one, `backlog` counts what lies after
 * one, `logMark` is written as one; all of them validate a cursor here.
 *
 * The identity makes a cursor of another store, or of this prefix before its data was lost and
 * the store started over (destroy, connect again: a new identity), an InvalidCursorError naming
 * both identities: bare offsets would read the new logs from the old positions and skip what lies
 * before them without a sign. A cursor of offsets only (the previous release's format) is still
 * read, checked against the log lengths alone; every cursor handed out carries the identity.
 */

/** A validated cursor: the store's identity, the cursor's offsets and the length of every shard log when it was checked. */
export interface LogPosition {
  readonly identity: string;
  readonly offsets: number[];
  readonly lengths: readonly number[];
}

/** A cursor: the store identity, ':', then one offset per shard, in shard order, joined with '.'. */
export function formatCursor(identity: string, offsets: readonly number[]): string {
  return `${identity}:${offsets.join('.')}`;
}

/**
 * Checks a cursor against the store (undefined: the start of every log) and reads the length of
 * every shard log (`LLEN` each, in parallel): InvalidCursorError for a cursor that is not one of
 * this store's shape, of another identity, or ahead of a log.
 */
export async function logPosition(ctx: StoreContext, cursor: string | undefined): Promise<LogPosition> {
  const identity = ctx.identity.known ?? (await ctx.identity.current());
  const { offsets, identity: cursorIdentity } = parseCursor(cursor, ctx.keys.shards);
  if (cursorIdentity !== undefined && cursorIdentity !== identity) {
    throw new InvalidCursorError(
      cursor!,
      `it was handed out by the store of identity ${cursorIdentity}, but this store under prefix '${ctx.keys.prefix}' has identity ${identity} ` +
        `(a cursor of another store, or of this one before it lost its data and started over: read again from the start, with no cursor)`,
    );
  }
  const lengths = await logLengths(ctx);
  // Logs only grow: an offset past the end of its log was not handed out by this store (another
  // deployment's cursor, or this one's before it lost data, as after restoring an older backup).
  const ahead = offsets.findIndex((offset, shard) => offset > lengths[shard]!);
  if (ahead >= 0) {
    throw new InvalidCursorError(
      cursor!,
      `it is at entry ${offsets[ahead]} of shard ${ahead}, whose log ${ctx.keys.log(ahead)} holds ${lengths[ahead]} (a cursor of another store, or of this one before it lost data?)`,
    );
  }
  return { identity, offsets, lengths };
}

/** The length of every shard log (`LLEN` each, in parallel: on a Cluster the shards live in different slots). */
export function logLengths(ctx: StoreContext): Promise<number[]> {
  return Promise.all(Array.from({ length: ctx.keys.shards }, (_, shard) => logLength(ctx, shard)));
}

/** The length of one shard's log. */
export function logLength(ctx: StoreContext, shard: number): Promise<number> {
  const key = ctx.keys.log(shard);
  return ctx.runner.run(() => ctx.client.llen(key), [key]);
}

/**
 * The identity (undefined in the previous release's format, offsets only) and offsets of a
 * cursor; anything but `shards` decimal offsets, after a non-empty identity when there is a ':',
 * throws InvalidCursorError.
 */
function parseCursor(cursor: string | undefined, shards: number): { identity: string | undefined; offsets: number[] } {
  if (cursor === undefined) return { identity: undefined, offsets: Array.from({ length: shards }, () => 0) };
  const colon = cursor.lastIndexOf(':');
  const identity = colon >= 0 ? cursor.slice(0, colon) : undefined;
  const offsets = cursor.slice(colon + 1).split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : Number.NaN));
  if (identity === '' || offsets.length !== shards || offsets.some((n) => !Number.isSafeInteger(n) || n < 0)) {
    throw new InvalidCursorError(
      cursor,
      `not a cursor of this store, which has ${shards} shards (the store identity, ':', then one decimal offset per shard, joined with '.')`,
    );
  }
  return { identity, offsets };
}
