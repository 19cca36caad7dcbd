import { afterAll, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { connectRedisStore } from '@troupe/redis';
import { RedisServer } from '@troupe/redis/testing';
import { requireService } from '@troupe/runtime/testkit';
import { checkPersistence } from './commands/worker.js';
import { run } from './program.js';

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

/** `troupe worker` and the Redis persistence settings (#14 defect 6). */
describe.skipIf(!available)('troupe worker checks what protects the store', () => {
  const servers: RedisServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.destroy();
  });
  async function redis(...args: string[]): Promise<string> {
    const server = await RedisServer.start({ args });
    servers.push(server);
    return server.url;
  }
  function recordingLogger() {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    return { logger, warnings: () => lines.filter((l) => l.level === 40).map((l) => l.msg) };
  }

  it('refuses a Redis with no persistence unless --allow-volatile-store, with a one-line reason, before touching the broker', async () => {
    const url = await redis('--appendonly', 'no');
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const code = await run(['worker', '--redis', url, '--amqp', 'amqp://127.0.0.1:1', '--no-metrics', '--log-level', 'silent']);
      expect(code).toBe(1);
      expect(String(error.mock.calls[0]?.[0])).toMatch(/keeps nothing on disk .* pass --allow-volatile-store/);
    } finally {
      error.mockRestore();
    }
    const store = await connectRedisStore({ url, prefix: 'p' });
    const { logger, warnings } = recordingLogger();
    await expect(checkPersistence(store, true, logger)).resolves.toBeUndefined();
    expect(warnings().join('\n')).toMatch(/--allow-volatile-store: .*keeps nothing on disk/);
    await store.close();
  });

  it('warns when only RDB snapshots protect the data, and is quiet with AOF', async () => {
    for (const [args, warning] of [
      [['--appendonly', 'no', '--save', '3600 1'], /RDB snapshots but no AOF/],
      [['--appendonly', 'yes'], undefined],
    ] as const) {
      const store = await connectRedisStore({ url: await redis(...args), prefix: 'p' });
      const { logger, warnings } = recordingLogger();
      await checkPersistence(store, false, logger);
      if (warning) expect(warnings().join('\n')).toMatch(warning);
      else expect(warnings()).toEqual([]);
      await store.close();
    }
  });
});
