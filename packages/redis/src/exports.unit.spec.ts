import { describe, expect, it } from 'vitest';

/**
 * The root of @troupe/redis holds what an application needs, nothing more: this list is the one in
 * README.md ("API"). Test servers and key scans are in `@troupe/redis/testing`; the store's
 * modules (key schema, scripts, codec) are internal.
 */
describe('@troupe/redis exports', () => {
  it('the root exports exactly the values README.md lists under "API"', async () => {
    expect(Object.keys(await import('./index.js')).sort()).toEqual([
      'RedisStore',
      'RedisView',
      'ReplicationTimeoutError',
      'StoreAuthenticationError',
      'StoreDataLostError',
      'ViewLeaseHeldError',
      'ViewLeaseLostError',
      'ViewVersionMismatchError',
      'connectRedisStore',
      'failFastRedisOptions',
      'openRedisView',
      'redisStoreDefaults',
      'redisViewDefaults',
    ]);
  });

  it('@troupe/redis/testing exports the test servers and the key scans', async () => {
    expect(Object.keys(await import('./testing/index.js')).sort()).toEqual(['RedisCluster', 'RedisServer', 'deleteKeysMatching', 'freePort', 'keysMatching']);
  });
});
