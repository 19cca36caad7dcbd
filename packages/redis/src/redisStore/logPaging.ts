import { type ActorSnapshot, type Changes, CorruptDataError, decodeValue, type Pack, VC } from '@troupe/runtime/store';
import type { StoreContext } from './context.js';
import { formatCursor, logPosition } from './logCursor.js';
import { noteBytesRead } from './packBytes.js';
import { decodePackAt, parseLogEntry } from './packCodec.js';

/**
 * `changesSince`: reads the shard logs from a cursor (see logCursor.ts): `LLEN` of each shard,
 * then per shard with new entries a page of its log. No key scans.
 */
export async function changesSince(ctx: StoreContext, cursor: string | undefined, limit: number): Promise<Changes> {
  const shards = ctx.keys.shards;
  const { identity, offsets, lengths } = await logPosition(ctx, cursor);
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
  const touched = () => parsed.flatMap((e) => [e.keys.packs, e.keys.snapshots]);
  const results = (await ctx.runner.run(() => pipeline.exec(), touched)) ?? [];
  // A command of the pipeline that failed (WRONGTYPE: a foreign value at a pack's key) is mapped as a failed call is.
  const failed = results.find(([error]) => error);
  if (failed) throw await ctx.runner.map(failed[0], touched);
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
    const pack = decodePackAt(bytes, e.keys.packs, e.version);
    noteBytesRead(pack, bytes);
    packs.push(pack);
    if (e.withSnapshot) {
      const snapshot = next();
      if (snapshot) snapshots.push({ actor: e.actor, version: VC.decode(e.version), state: decodeValue(snapshot, `${e.keys.snapshots} field ${e.version}`) });
    }
  }
  return { packs, snapshots };
}
