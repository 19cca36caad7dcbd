import { type ActorRef, type Chain, CorruptDataError, decodeValue, MissingAncestorError, type Pack, VC, type VectorClock, actorKey } from '@troupe/runtime/store';
import type { StoreContext } from './context.js';
import type { ActorKeys } from './keySchema.js';
import { decodePackAt } from './packCodec.js';

/** A chain whose packs' parents do not match the walk that found them: damage to parent links or the run index. */
class BrokenChainError extends CorruptDataError {}

/**
 * The chain of `loadChain`: first parents back from `versionKey` to the nearest snapshot or merge
 * pack. The run index is advisory (see loadChain.lua): a chain read through it that does not match
 * the packs' own parents (a pack written by a store without the index, damage to the list) is read
 * again along the parent links alone, whose result or error stands.
 */
export async function loadChain(ctx: StoreContext, actor: ActorRef, versionKey: string): Promise<Chain> {
  try {
    return await walkChain(ctx, actor, versionKey, true);
  } catch (error) {
    if (error instanceof BrokenChainError || error instanceof MissingAncestorError) return walkChain(ctx, actor, versionKey, false);
    throw error;
  }
}

async function walkChain(ctx: StoreContext, actor: ActorRef, versionKey: string, useIndex: boolean): Promise<Chain> {
  const keys = ctx.keys.actor(actor);
  const script = ctx.scripts.fixed('troupeLoadChain');
  const call = (from: string): Promise<Buffer[]> => {
    const reply = script(keys.packs, keys.parents, keys.snapshots, keys.runs, from, ctx.options.chainPacksPerCallMax, useIndex ? '1' : '0') as Promise<Buffer[]>;
    reply.catch(() => {}); // awaited below; a rejection before then is not unhandled
    return reply;
  };
  // Per script call: the version keys of its packs (newest first), then their bytes with a plain
  // HMGET. The next script call is sent before this batch is decoded, so Redis walks the next
  // batch while this process decodes the current one.
  // Each pack's first parent must be the next older one (and the oldest one's, the base): the
  // walk trusts the parent links and the run index; this turns any damage to them into an error
  // instead of a wrong chain.
  const newestFirst: Pack[] = [];
  // The first parent of the pack decoded last (compared as clocks: no encoding per pack).
  let parent: VectorClock | undefined;
  let next = call(versionKey);
  for (;;) {
    const reply = await next;
    const status = String(reply[0]);
    const baseKey = String(reply[1]);
    if (status === 'missing') throw new MissingAncestorError(actorKey(actor), baseKey);
    // As strings: ioredis writes a command of string arguments several times faster than one of
    // Buffers (a replay of 10,000 packs spent ~17 ms writing its HMGETs with Buffer arguments).
    const versions: string[] = new Array(reply.length - 3);
    for (let i = 3; i < reply.length; i++) versions[i - 3] = reply[i]!.toString('utf8', 1); // after the index flag
    const bytes = versions.length > 0 ? ctx.runner.run(() => ctx.client.hmgetBuffer(keys.packs, ...versions), [keys.packs]) : Promise.resolve([]);
    if (status === 'more') next = call(baseKey);
    const found = await bytes;
    for (let i = 0; i < versions.length; i++) {
      const field = versions[i]!;
      const pack = found[i];
      if (!pack) throw new MissingAncestorError(actorKey(actor), field);
      const decoded = decodePackAt(pack, keys.packs, field);
      if (newestFirst.length === 0 ? field !== versionKey : !(parent && sameClock(parent, decoded.version))) {
        throw brokenChain(keys, newestFirst.length === 0 ? versionKey : parent ? VC.encode(parent) : '', field);
      }
      // A chain stops at a merge pack (its base): one inside it means the walk missed that stop
      // (an index element of a merge pack flagged as a command pack's).
      if (decoded.kind === 'merge') throw new BrokenChainError(`${keys.parents}, ${keys.runs}`, `the walk went past the merge pack ${field}`);
      newestFirst.push(decoded);
      parent = decoded.parents[0];
    }
    if (status === 'more') continue;
    const oldestParent = newestFirst.length === 0 ? versionKey : parent ? VC.encode(parent) : '';
    if (oldestParent !== (status === 'root' ? '' : baseKey)) throw brokenChain(keys, oldestParent, status === 'root' ? '(none)' : baseKey);
    const packs = newestFirst.reverse();
    switch (status) {
      case 'root':
        return { packs };
      case 'snapshot':
        return { base: { version: VC.decode(baseKey), state: decodeValue(reply[2]!, `${keys.snapshots} field ${baseKey}`) }, packs };
      case 'merge': {
        const merge = decodePackAt(reply[2]!, keys.packs, baseKey);
        // The walk stopped at a pack the index or the parent links call a merge pack: it must be one.
        if (merge.kind !== 'merge') throw new BrokenChainError(`${keys.parents}, ${keys.runs}`, `the walk stopped at ${baseKey} as at a merge pack, but it is a command pack`);
        return { base: { version: merge.version, state: merge.state }, packs };
      }
      default:
        throw new CorruptDataError(keys.packs, `unexpected loadChain status '${status}'`);
    }
  }
}

function brokenChain(keys: ActorKeys, parent: string, found: string): CorruptDataError {
  return new BrokenChainError(
    `${keys.parents}, ${keys.runs}`,
    `the parent links or the run index lead to ${found} where the chain's pack has first parent ${parent || '(none)'}`,
  );
}

/** Equal vector clocks (canonical: no zero entries), without encoding them. */
function sameClock(a: VectorClock, b: VectorClock): boolean {
  let entries = 0;
  for (const replica in a) {
    if (a[replica] !== b[replica]) return false;
    entries++;
  }
  for (const _replica in b) entries--;
  return entries === 0;
}
