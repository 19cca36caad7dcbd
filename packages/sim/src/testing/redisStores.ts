import { randomBytes } from 'node:crypto';
import { type RedisStore, connectRedisStore } from '@troupe/redis';
import type { StoreFactory } from '../stores.js';

/**
 * Redis stores for the simulator's own tests (the `troupe sim --store redis` factory lives in
 * @troupe/cli, which the simulator does not depend on): each replica gets a RedisStore under
 * a fresh prefix `sim-<seed>-<8 random hex>-r<i>` (the random part from crypto, never from the
 * seeded PRNG, so it stays out of the trace); a crash closes its connection, the restart opens a
 * new one on the same prefix; at the end every prefix's keys are deleted (`destroy()`).
 */
export function redisStores(url: string, shards = 4): StoreFactory {
  return ({ seed, replicas }) => {
    const base = `sim-${seed}-${randomBytes(4).toString('hex')}`;
    const prefixes = Array.from({ length: replicas }, (_, i) => `${base}-r${i}`);
    const open = new Map<number, RedisStore>();
    const connect = (index: number) => connectRedisStore({ url, prefix: prefixes[index]!, shards });
    return {
      used: { kind: 'redis', url, shards, prefixes },
      open: async (index) => {
        const store = await connect(index);
        open.set(index, store);
        return store;
      },
      crashed: async (index) => {
        await open.get(index)?.close();
        open.delete(index);
      },
      dispose: async () => {
        // Every prefix of the run, also those whose store is closed (crashed) or never connected.
        const results = await Promise.allSettled(prefixes.map(async (_, index) => (open.get(index) ?? (await connect(index))).destroy()));
        open.clear();
        for (const r of results) if (r.status === 'rejected') throw r.reason;
      },
    };
  };
}
