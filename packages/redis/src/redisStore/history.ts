import { InvalidOptionError } from '@troupe/runtime';
import { type ActorRef, causalOrder, type HistoryOptions, historyPacksMax, LimitExceededError, type Pack, actorKey } from '@troupe/runtime/store';
import type { StoreContext } from './context.js';
import { decodePackAt } from './packCodec.js';

/** Fields asked for per HSCAN call (Redis returns a small hash, up to 128 packs by default, whole in one call anyway). */
const historyScanCount = 1_000;

/**
 * `history`: every pack of the actor held here, in causal order (`causalOrder`). The first round
 * trip pipelines `HLEN` and the first `HSCAN` page of the packs hash, so an actor with more than
 * `limit` packs is refused before its packs are read, and a small actor is read in that one round
 * trip; a big one is read in HSCAN pages of about `historyScanCount` packs, not one reply that
 * would block Redis while it builds it. HSCAN may return a field twice (while the hash is
 * rehashed): fields are kept once. Packs are never changed or removed, so a pack added during the
 * scan is either read or not; the count is checked again against `limit` at the end.
 */
export async function history(ctx: StoreContext, actor: ActorRef, options: HistoryOptions = {}): Promise<Pack[]> {
  const limit = options.limit ?? historyPacksMax;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new InvalidOptionError('limit', `history's limit must be a non-negative integer, got ${limit}`);
  }
  const keys = ctx.keys.actor(actor);
  const tooMany = (count: number) =>
    new LimitExceededError('limit', `${actorKey(actor)} has ${count} packs, more than the history limit of ${limit}`);
  const found = new Map<string, Buffer>();
  const take = (page: Buffer[]) => {
    for (let i = 0; i + 1 < page.length; i += 2) found.set(page[i]!.toString(), page[i + 1]!);
  };
  const first = await ctx.runner.run(async () => {
    const results = (await ctx.client.pipeline().hlen(keys.packs).hscanBuffer(keys.packs, '0', 'COUNT', historyScanCount).exec()) ?? [];
    for (const [error] of results) if (error) throw error;
    return { count: Number(results[0]![1]), page: results[1]![1] as [Buffer, Buffer[]] };
  }, [keys.packs]);
  if (first.count > limit) throw tooMany(first.count);
  take(first.page[1]);
  let cursor = first.page[0].toString();
  while (cursor !== '0') {
    const [next, page] = await ctx.runner.run(() => ctx.client.hscanBuffer(keys.packs, cursor, 'COUNT', historyScanCount), [keys.packs]);
    take(page);
    if (found.size > limit) throw tooMany(found.size);
    cursor = next.toString();
  }
  if (found.size > limit) throw tooMany(found.size);
  return causalOrder([...found].map(([field, bytes]) => decodePackAt(bytes, keys.packs, field)));
}
