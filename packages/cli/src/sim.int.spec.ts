import { Redis } from 'ioredis';
import { keysMatching } from '@troupe/redis/testing';
import { requireService } from '@troupe/runtime/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from './program.js';

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });
const redisUrl = process.env.REDIS_URL ? `${process.env.REDIS_URL.replace(/\/\d*$/, '')}/9` : 'redis://127.0.0.1:6379/9';

afterEach(() => vi.restoreAllMocks());

describe.skipIf(!available)('troupe sim --store redis', () => {
  it('runs the replicas on Redis under fresh prefixes and deletes every key afterwards', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await run(['sim', '--seed', '6', '--steps', '80', '--store', 'redis', '--redis-url', redisUrl, '--json'])).toBe(0);
    const report = JSON.parse(String(log.mock.calls[0]![0])) as { ok: boolean; store: { kind: string; url: string; prefixes: string[] } };
    expect(report.ok).toBe(true);
    expect(report.store).toMatchObject({ kind: 'redis', url: redisUrl, shards: 4 });
    for (const p of report.store.prefixes) expect(p).toMatch(/^sim-6-[0-9a-f]{8}-r\d$/);
    const redis = new Redis(redisUrl);
    try {
      for (const p of report.store.prefixes) expect(await keysMatching(redis, `${p}:*`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });

  it('an unreachable Redis is a failed run: exit 3, one line with the store error code', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await run(['sim', '--seed', '1', '--steps', '10', '--store', 'redis', '--redis-url', 'redis://127.0.0.1:1/9'])).toBe(3);
    const lines = errors.mock.calls.map((c) => String(c[0]));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^troupe: the simulation failed: .*\[STORE_UNAVAILABLE\]$/);
  });
});
