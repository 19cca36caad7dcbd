import { StoreUnavailableError } from '@troupe/runtime/store';
import type { Cluster, Redis } from 'ioredis';
import type { StoreContext } from './context.js';

/** Keys asked for per SCAN call. */
const scanCount = 1_000;

/**
 * Deletes every key of the store (every actor's keys and merge records, the shard logs, the
 * layout record, the checkpoints, the frontier table and the declared regions: all match
 * `KeySchema.pattern`) and returns how many. `SCAN MATCH` on the server, or
 * on each master of a Cluster (a SCAN only sees the keys of the node it runs on), then one `DEL`
 * per hash tag in one pipeline per page: on a Cluster one DEL may only name keys of one slot, and
 * every key of a store carries a tag (`{<prefix>.<shard>}` or `{<prefix>.meta}`), one slot each.
 * Keys written while it runs may survive: stop the writers first. Runs also when the store knows
 * its Redis lost the data (StoreDataLostError): deleting what is left is how it starts over.
 */
export async function deleteStoreKeys(ctx: StoreContext): Promise<number> {
  const nodes = mastersOf(ctx.client);
  if (nodes.length === 0) throw new StoreUnavailableError(ctx.runner.endpoint, 'no Cluster master is known (not connected?): nothing was deleted');
  const counts = await Promise.all(nodes.map((node) => ctx.runner.runEvenIfLost(() => deleteOnNode(node, ctx.keys.pattern))));
  return counts.reduce((sum, n) => sum + n, 0);
}

function mastersOf(client: Redis | Cluster): Redis[] {
  if ('isCluster' in client && client.isCluster) return (client as Cluster).nodes('master');
  return [client as Redis];
}

async function deleteOnNode(node: Redis, pattern: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', scanCount);
    if (batch.length > 0) {
      const pipeline = node.pipeline();
      for (const group of byHashTag(batch)) pipeline.del(...group);
      for (const [error, count] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        deleted += Number(count);
      }
    }
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}

/** Keys grouped by their hash tag (what Redis hashes: from the first '{' to the next '}'). */
function byHashTag(keys: readonly string[]): string[][] {
  const groups = new Map<string, string[]>();
  for (const key of keys) {
    const tag = /^[^{]*\{([^}]+)\}/.exec(key)?.[1] ?? key;
    const group = groups.get(tag);
    if (group) group.push(key);
    else groups.set(tag, [key]);
  }
  return [...groups.values()];
}
