import fc from 'fast-check';
import { requireService } from '@troupe/runtime/testkit';
import {
  checkReplicationInvariants,
  replicationCoverage,
  replicationScenario,
  runReplicationScenario,
} from '@troupe/runtime/testkit/conformance';
import { describe, expect, it } from 'vitest';
import type { RedisStore } from './redisStore/index.js';
import { createTestStore } from './specHelpers/testStore.js';

const available = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });
const numRuns = Number(process.env.FC_NUM_RUNS_REDIS ?? 40);

/**
 * The runtime's replication property (random partitions, syncs, clock skew, retries; then I1-I4)
 * with every replica on its own RedisStore instead of a MemoryStore.
 */
describe.skipIf(!available)('replication under partitions on RedisStores (property)', () => {
  it('converges with no acknowledged event lost, deterministic order, idempotent resolution', async () => {
    const before = { ...replicationCoverage };
    await fc.assert(
      fc.asyncProperty(replicationScenario, async (s) => {
        const stores: RedisStore[] = await Promise.all(Array.from({ length: s.replicas }, () => createTestStore({ shards: 4 })));
        try {
          const outcome = await runReplicationScenario(s, stores);
          try {
            await checkReplicationInvariants(outcome);
          } finally {
            await outcome.cluster.stop();
          }
        } finally {
          await Promise.all(stores.map((store) => store.destroy()));
        }
      }),
      { numRuns, ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}) },
    );
    expect(replicationCoverage.merges - before.merges).toBeGreaterThan(numRuns / 2);
    expect(replicationCoverage.compensations + replicationCoverage.commandsAcceptedTwice - before.compensations - before.commandsAcceptedTwice).toBeGreaterThan(0);
  }, 300_000);
});
