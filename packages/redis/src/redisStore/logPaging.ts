import { type ActorSnapshot, type Changes, CorruptDataError, decodeValue, InvalidCursorError, type Pack, VC } from '@troupe/runtime/store';
import type { StoreContext } from './context.js';
import { decodePackAt, parseLogEntry } from './packCodec.js';

/**
 * `changesSince`: reads the shard logs from a cursor `<identity>:<n0>.<n1>.…`: the store identity
 * (see storeIdentity.ts) and one offset per shard. `LLEN` of each shard, then per shard with new
 * entries a page of its log. No key scans.
 *
 * The identity makes a cursor of another store, or of this prefix before its data was lost and
 * the store started over (destroy, connect again: a new identity), an InvalidCursorError naming
 * both identities: bare offsets would read the new logs from the old positions and skip what lies
 * before them without a sign. A cursor of offsets only (the previous release's format) is still
 * read, checked against the log lengths alone; every cursor handed out carries the identity.
 */
export async function changesSince(ctx: StoreContext, cursor: string | undefined, limit: number): Promise<Changes> {
  const shards = ctx.keys.shards;
  const identity = ctx.identity.known ?? (await ctx.identity.current());
  const { offsets, identity: cursorIdentity } = parseCursor(cursor, shards);
  if (cursorIdentity !== undefined && cursorIdentity !== identity) {
    throw new InvalidCursorError(
      cursor!,
      `it was handed out by the store of identity ${cursorIdentity}, but this store under prefix '${ctx.keys.prefix}' has identity ${identity} ` +
        `(a cursor of another store, or of this one before it lost its data and started over: read again from the start, with no cursor)`,
    );
  }
  const lengths = await Promise.all(offsets.map((_, shard) => ctx.runner.run(() => ctx.client.llen(ctx.keys.log(shard)), [ctx.keys.log(shard)])));
  // Logs only grow: an offset past the end of its log was not handed out by this store (another
  // deployment's cursor, or this one's before it lost data, as after restoring an older backup).
  const ahead = offsets.findIndex((offset, shard) => offset > lengths[shard]!);
  if (ahead >= 0) {
    throw new InvalidCursorError(
      cursor!,
      `it is at entry ${offsets[ahead]} of shard ${ahead}, whose log ${ctx.keys.log(ahead)} holds ${lengths[ahead]} (a cursor of another store, or of this one before it lost data?)`,
    );
  }
  const packs: Pack[] = [];
  const snapshots: ActorSnapshot[] = [];
  let remaining = limit;
  // Start at a shard that moves with the cursor, so a busy shard cannot starve the others.
  const first = offsets.reduce((sum, n) => sum + n, 0) % shards;
  for (let step = 0; step < shards && remaining > 0; step++) {
    const shard = (first + step) % shards;
    const available = lengths[shard]! - offsets[shard]!;
    if (available <= 0) continue;
    const count = Math.min(available, remaining);
    const page = await readLogPage(ctx, shard, offsets[shard]!, count);
    packs.push(...page.packs);
    snapshots.push(...page.snapshots);
    offsets[shard] = offsets[shard]! + page.packs.length;
    remaining -= page.packs.length;
  }
  return { packs, snapshots, cursor: formatCursor(identity, offsets) };
}

/** A cursor: the store identity, ':', then one offset per shard, in shard order, joined with '.'. */
function formatCursor(identity: string, offsets: readonly number[]): string {
  return `${identity}:${offsets.join('.')}`;
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

/**
 * Entries [start, start + count) of one shard's log with their packs and shipped snapshots: the
 * log range, then the packs (one pipeline; every key shares the shard's tag, so one slot).
 */
async function readLogPage(ctx: StoreContext, shard: number, start: number, count: number): Promise<{ packs: Pack[]; snapshots: ActorSnapshot[] }> {
  const logKey = ctx.keys.log(shard);
  const entries = await ctx.runner.run(() => ctx.client.lrangeBuffer(logKey, start, start + count - 1), [logKey]);
  const parsed = entries.map((entry) => {
    const { actor, version, withSnapshot } = parseLogEntry(entry, logKey);
    return { actor, version, withSnapshot, keys: ctx.keys.actor(actor) };
  });
  if (parsed.length === 0) return { packs: [], snapshots: [] };
  const pipeline = ctx.client.pipeline();
  for (const e of parsed) {
    pipeline.hgetBuffer(e.keys.packs, e.version);
    if (e.withSnapshot) pipeline.hgetBuffer(e.keys.snapshots, e.version);
  }
  const results = (await ctx.runner.run(() => pipeline.exec(), () => parsed.flatMap((e) => [e.keys.packs, e.keys.snapshots]))) ?? [];
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
    packs.push(decodePackAt(bytes, e.keys.packs, e.version));
    if (e.withSnapshot) {
      const snapshot = next();
      if (snapshot) snapshots.push({ actor: e.actor, version: VC.decode(e.version), state: decodeValue(snapshot, `${e.keys.snapshots} field ${e.version}`) });
    }
  }
  return { packs, snapshots };
}
