import { Redis } from 'ioredis';

/** Escapes glob characters of a Redis MATCH pattern. */
export function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** Every key matching a SCAN pattern in the Redis at `url`. */
export async function keysMatching(url: string, pattern: string): Promise<string[]> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  } finally {
    redis.disconnect();
  }
}

/** Keys of the given store prefixes (`<prefix>:*`) still in Redis at `url`. */
export async function keysOfPrefixes(url: string, prefixes: readonly string[]): Promise<string[]> {
  const keys: string[] = [];
  for (const prefix of prefixes) keys.push(...(await keysMatching(url, `${globEscape(prefix)}:*`)));
  return keys;
}

/** Deletes every key of the given store prefixes (`SCAN MATCH <prefix>:*` + `DEL`); returns how many. */
export async function deletePrefixes(url: string, prefixes: readonly string[]): Promise<number> {
  const keys = await keysOfPrefixes(url, prefixes);
  if (keys.length === 0) return 0;
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let deleted = 0;
    for (let i = 0; i < keys.length; i += 1000) deleted += await redis.del(...keys.slice(i, i + 1000));
    return deleted;
  } finally {
    redis.disconnect();
  }
}
