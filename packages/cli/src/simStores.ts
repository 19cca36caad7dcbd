import { randomBytes } from 'node:crypto';
import { type RedisStore, connectRedisStore } from '@troupe/redis';
import type { StoreFactory } from '@troupe/sim';

/** `troupe sim --store redis` defaults. */
export const simRedisDefaults = {
  /** Database 9, away from the default database an app's worker uses. */
  url: 'redis://127.0.0.1:6379/9',
  /** Log shards of each replica's RedisStore. */
  shards: 4,
} as const;

/**
 * `troupe sim --store redis`: each replica gets its own RedisStore under a fresh prefix
 * `sim-<seed>-<8 random hex>-r<i>` (the random part from crypto, not from the seeded PRNG, so it
 * stays out of the trace). A crash closes the replica's connection (the process died with it; the
 * data stays under its prefix); the restart connects a new RedisStore on the same prefix. At the
 * end of the run, also when it throws, every prefix's keys are deleted (`RedisStore.destroy()`),
 * those of replicas that were down or never connected included. A hard kill (SIGKILL) leaves the
 * keys: delete `sim-*` from the database by hand.
 */
export function redisSimStores(url: string = simRedisDefaults.url, shards: number = simRedisDefaults.shards): StoreFactory {
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
        const results = await Promise.allSettled(prefixes.map(async (_, index) => (open.get(index) ?? (await connect(index))).destroy()));
        open.clear();
        for (const r of results) if (r.status === 'rejected') throw r.reason;
      },
    };
  };
}
