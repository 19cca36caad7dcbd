import type { Redis } from 'ioredis';

/**
 * Every key of one Redis server matching a `SCAN` pattern (e.g. `${store.prefix}:*`: all a
 * store wrote). On a Cluster, call it on each master.
 */
export async function keysMatching(client: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/**
 * Deletes every key of one Redis server matching a `SCAN` pattern and returns how many: the
 * teardown of a store (`${store.prefix}:*`) in tests, benchmarks and simulations.
 */
export async function deleteKeysMatching(client: Redis, pattern: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (batch.length > 0) deleted += await client.del(...batch);
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}
