import { type ActorSnapshot, type Changes, CorruptDataError, decodeValue, type Pack, VC } from '@troupe/runtime/store';
import type { StoreContext } from './context.js';
import type { ActorKeys } from './keySchema.js';
import { formatCursor, logPosition } from './logCursor.js';
import { noteBytesRead } from './packBytes.js';
import { decodePackAt, parseLogEntry } from './packCodec.js';

/**
 * `changesSince`: reads the shard logs from a cursor (see logCursor.ts): `LLEN` of each shard,
 * then per shard with new entries a page of its log and its packs (two round trips). No key scans.
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

/** Most fields one readFields call reads. */
const fieldsPerCallMax = 1_000;

/**
 * Entries [start, start + count) of one shard's log with their packs and shipped snapshots: the
 * log range, then the packs (one readFields script: every key shares the shard's tag, so one slot).
 */
async function readLogPage(ctx: StoreContext, shard: number, start: number, count: number): Promise<{ packs: Pack[]; snapshots: ActorSnapshot[] }> {
  const logKey = ctx.keys.log(shard);
  const entries = await ctx.runner.run(() => ctx.client.lrangeBuffer(logKey, start, start + count - 1), [logKey]);
  // An actor's keys once per page (a busy actor has many entries in one).
  const keysOf = new Map<string, ActorKeys>();
  const parsed = entries.map((entry) => {
    const { actor, version, withSnapshot } = parseLogEntry(entry, logKey);
    const name = `${actor.type}\u0000${actor.id}`;
    let keys = keysOf.get(name);
    if (keys === undefined) keysOf.set(name, (keys = ctx.keys.actor(actor)));
    return { actor, version, withSnapshot, keys };
  });
  if (parsed.length === 0) return { packs: [], snapshots: [] };
  const hashes: string[] = [];
  const fields: string[] = [];
  for (const e of parsed) {
    hashes.push(e.keys.packs);
    fields.push(e.version);
    if (e.withSnapshot) {
      hashes.push(e.keys.snapshots);
      fields.push(e.version);
    }
  }
  // At most `fieldsPerCallMax` per script call (a long page in several, sent together), so one call blocks Redis briefly.
  const calls: Promise<(Buffer | null)[]>[] = [];
  for (let at = 0; at < hashes.length; at += fieldsPerCallMax) calls.push(ctx.scripts.readFields(hashes.slice(at, at + fieldsPerCallMax), fields.slice(at, at + fieldsPerCallMax)));
  const values = calls.length === 1 ? await calls[0]! : (await Promise.all(calls)).flat();
  const packs: Pack[] = [];
  const snapshots: ActorSnapshot[] = [];
  let r = 0;
  for (const e of parsed) {
    const bytes = values[r++];
    if (!bytes) throw new CorruptDataError(`${e.keys.packs} field ${e.version}`, `the log ${logKey} names a pack that is not stored`);
    const pack = decodePackAt(bytes, e.keys.packs, e.version);
    noteBytesRead(pack, bytes);
    packs.push(pack);
    if (e.withSnapshot) {
      const snapshot = values[r++];
      if (snapshot) snapshots.push({ actor: e.actor, version: VC.decode(e.version), state: decodeValue(snapshot, `${e.keys.snapshots} field ${e.version}`) });
    }
  }
  return { packs, snapshots };
}
