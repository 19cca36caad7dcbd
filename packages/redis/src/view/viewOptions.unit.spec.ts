import { InvalidOptionError } from '@troupe/runtime';
import { describe, expect, it } from 'vitest';
import { redisViewDefaults, resolveViewOptions } from './viewOptions.js';
import { viewKeys } from './viewKeys.js';
import { KeySchema } from '../redisStore/keySchema.js';

describe('RedisView options', () => {
  it('defaults: batches of 500, polls every 100 ms, a 10 s lease renewed every third of it, a holder naming the host and process', () => {
    const resolved = resolveViewOptions({});
    expect(resolved).toMatchObject({ ...redisViewDefaults, renewEveryMs: 3_333 });
    expect(resolved.holder).toMatch(new RegExp(`:${process.pid}:[0-9a-f]{8}$`));
  });

  it('refuses an option out of range, naming it', () => {
    const cases: [Parameters<typeof resolveViewOptions>[0], string][] = [
      [{ batchSize: 0 }, 'batchSize'],
      [{ batchSize: 1.5 }, 'batchSize'],
      [{ pollMs: -1 }, 'pollMs'],
      [{ leaseTtlMs: 1_000, renewEveryMs: 1_000 }, 'renewEveryMs'],
      [{ holder: 'has space' }, 'holder'],
      [{ holder: '' }, 'holder'],
      [{ retryInitialMs: 500, retryMaxMs: 100 }, 'retryMaxMs'],
      [{ statesCachedMax: 0 }, 'statesCachedMax'],
      [{ readsInFlightMax: 0 }, 'readsInFlightMax'],
    ];
    for (const [options, name] of cases) {
      const error = (() => {
        try {
          resolveViewOptions(options);
        } catch (e) {
          return e;
        }
      })();
      expect(error, JSON.stringify(options)).toBeInstanceOf(InvalidOptionError);
      expect((error as Error).message, JSON.stringify(options)).toContain(name);
    }
  });
});

describe('RedisView keys', () => {
  it('every key of every version and of the shadow shares one hash tag; the store\'s destroy pattern matches them; their types are known', () => {
    const keys = [viewKeys('shop', 'orders', 1), viewKeys('shop', 'orders', 2)].flatMap((k) => [...Object.values(k.live), ...Object.values(k.shadow)]);
    expect(new Set(keys.map((key) => /\{([^}]+)\}/.exec(key)![1]))).toEqual(new Set(['shop.view.orders']));
    expect(keys).toContain('shop:{shop.view.orders}:2.shadow:rows');
    const pattern = new RegExp(`^${new KeySchema('shop', 4).pattern.replace(/[.{}]/g, '\\$&').replace('*', '.*')}$`);
    for (const key of keys) expect(key).toMatch(pattern);
    const types = Object.fromEntries(Object.entries(viewKeys('shop', 'orders', 1).live).map(([name, key]) => [name, KeySchema.expectedTypeOf(key)]));
    expect(types).toEqual({ rows: 'hash', contributions: 'hash', parts: 'hash', cursor: 'string', meta: 'hash', lease: 'string', fence: 'string' });
  });
});
