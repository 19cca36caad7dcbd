import { deleteKeysMatching, keysMatching } from '@troupe/redis';
import { Redis } from 'ioredis';

/** Escapes glob characters of a Redis MATCH pattern. */
export function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** Runs `use` with a short-lived client of the Redis at `url`. */
async function withRedis<T>(url: string, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

/** Every key matching a SCAN pattern in the Redis at `url`. */
export function keysMatchingAt(url: string, pattern: string): Promise<string[]> {
  return withRedis(url, (redis) => keysMatching(redis, pattern));
}

/** Keys of the given store prefixes (`<prefix>:*`) still in Redis at `url`. */
export async function keysOfPrefixes(url: string, prefixes: readonly string[]): Promise<string[]> {
  return withRedis(url, async (redis) => {
    const keys: string[] = [];
    for (const prefix of prefixes) keys.push(...(await keysMatching(redis, `${globEscape(prefix)}:*`)));
    return keys;
  });
}

/** Deletes every key of the given store prefixes (`SCAN MATCH <prefix>:*` + `DEL`); returns how many. */
export async function deletePrefixes(url: string, prefixes: readonly string[]): Promise<number> {
  return withRedis(url, async (redis) => {
    let deleted = 0;
    for (const prefix of prefixes) deleted += await deleteKeysMatching(redis, `${globEscape(prefix)}:*`);
    return deleted;
  });
}
