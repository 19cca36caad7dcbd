/**
 * Credentials never leak into the store's errors, and a refused password is reported as such
 * (StoreAuthenticationError naming the endpoint and the option), not as "Connection is closed".
 */
import { StoreUnavailableError } from '@troupe/runtime/store';
import { makeChain, requireService, uniqueActor, uniqueSuffix } from '@troupe/runtime/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedisStore } from './connect.js';
import { StoreAuthenticationError } from './errors/index.js';
import { RedisCluster } from './testing/redisCluster.js';
import { freePort, RedisServer } from './testing/redisServer.js';

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

const secret = `s3cret-${uniqueSuffix()}`;
const wrong = `wr0ng-${uniqueSuffix()}`;

/** Every text an error exposes: its message, its endpoint, and the messages down its cause chain. */
function exposedText(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    parts.push(e.message, String((e as { endpoint?: unknown }).endpoint ?? ''), e.stack ?? '');
  }
  return parts.join('\n');
}

async function connectError(url: string): Promise<unknown> {
  return connectRedisStore({ url, prefix: `test-${uniqueSuffix()}` }).then(
    async (store) => {
      await store.close();
      throw new Error(`connecting to ${url} succeeded`);
    },
    (error: unknown) => error,
  );
}

describe.skipIf(!available)('RedisStore credentials', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await RedisServer.start({ args: ['--requirepass', secret] });
  });

  afterAll(async () => {
    await server?.destroy();
  });

  it.each([
    ['a wrong password', () => `redis://:${wrong}@127.0.0.1:${server.port}/0`, 'redis://:***@127.0.0.1:PORT/0'],
    ['a wrong password for the default user', () => `redis://default:${wrong}@127.0.0.1:${server.port}`, 'redis://default:***@127.0.0.1:PORT'],
    ['no password', () => `redis://127.0.0.1:${server.port}/0`, 'redis://127.0.0.1:PORT/0'],
  ])('%s is a StoreAuthenticationError naming the endpoint without the password', async (_what, url, endpoint) => {
    const error = await connectError(url());
    expect(error).toBeInstanceOf(StoreAuthenticationError);
    const auth = error as StoreAuthenticationError;
    expect(auth.code).toBe('STORE_AUTHENTICATION_FAILED');
    expect(auth.endpoint).toBe(endpoint.replace('PORT', String(server.port)));
    expect(auth.message).toContain(auth.endpoint);
    expect(auth.message).toMatch(/WRONGPASS|NOAUTH/);
    expect(auth.message).toContain("option 'url'");
    expect(auth.message).toContain('redisOptions.password');
    expect(exposedText(error)).not.toContain(wrong);
    expect(exposedText(error)).not.toContain(secret);
  });

  it('the right password in the URL works, and the store names its endpoint without it', async () => {
    const store = await connectRedisStore({ url: `redis://:${secret}@127.0.0.1:${server.port}/0`, prefix: `test-${uniqueSuffix()}` });
    try {
      await store.append(makeChain(uniqueActor('auth', 'auth'), 1)[0]!, []);
      expect(store.endpoint).toBe(`redis://:***@127.0.0.1:${server.port}/0`);
    } finally {
      await store.destroy();
    }
  });

  it.each([
    ['redis://:PW@127.0.0.1:PORT/0', 'redis://:***@127.0.0.1:PORT/0'],
    ['redis://default:PW@127.0.0.1:PORT', 'redis://default:***@127.0.0.1:PORT'],
    ['rediss://default:PW@127.0.0.1:PORT', 'rediss://default:***@127.0.0.1:PORT'],
    ['redis://127.0.0.1:PORT/0?password=PW', 'redis://127.0.0.1:PORT/0?password=***'],
  ])('an unreachable %s is a StoreUnavailableError without the password', async (template, redacted) => {
    const port = await freePort();
    const error = await connectError(template.replace('PW', secret).replace('PORT', String(port)));
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as StoreUnavailableError).endpoint).toBe(redacted.replace('PORT', String(port)));
    expect(exposedText(error)).not.toContain(secret);
  });

  describe('on a Redis Cluster with requirepass', () => {
    let cluster: RedisCluster | undefined;

    beforeAll(async () => {
      cluster = await RedisCluster.start({ masters: 3, password: secret });
    }, 30_000);

    afterAll(async () => {
      await cluster?.destroy();
    });

    it.each([
      ['a wrong password', { password: wrong }],
      ['no password', {}],
    ])('%s is a StoreAuthenticationError without the password', async (_what, redisOptions) => {
      const error = await connectRedisStore({ cluster: cluster!.nodes, prefix: `test-${uniqueSuffix()}`, redisOptions }).then(
        async (store) => {
          await store.close();
          throw new Error('connecting succeeded');
        },
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StoreAuthenticationError);
      expect((error as StoreAuthenticationError).endpoint).toBe(`redis cluster ${cluster!.nodes.join(',')}`);
      expect(exposedText(error)).not.toContain(wrong);
      expect(exposedText(error)).not.toContain(secret);
    });

    it('the right password in redisOptions works', async () => {
      const store = await connectRedisStore({ cluster: cluster!.nodes, prefix: `test-${uniqueSuffix()}`, redisOptions: { password: secret } });
      try {
        await store.append(makeChain(uniqueActor('auth', 'auth'), 1)[0]!, []);
      } finally {
        await store.destroy();
      }
    });
  });
});
