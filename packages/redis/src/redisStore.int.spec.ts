import { requireService, runStoreConformance } from '@troupe/runtime/testkit';
import { describe } from 'vitest';
import type { RedisStore } from './redisStore.js';
import { createTestStore, dropTestStore } from './testing/redisTestStore.js';

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });

describe.skipIf(!available)('RedisStore on the local Redis', () => {
  runStoreConformance({
    name: 'RedisStore',
    create: () => createTestStore(),
    cleanup: (store) => dropTestStore(store as RedisStore),
  });
  runStoreConformance({
    name: 'RedisStore, one shard, two packs per loadChain call',
    create: () => createTestStore({ shards: 1, chainPacksPerCall: 2 }),
    cleanup: (store) => dropTestStore(store as RedisStore),
  });
});
