/**
 * A view runner process for the kill tests (not published): runs the `Applied` view of a store
 * until SIGTERM, printing one JSON line per runner event on stdout. Started by `viewRunnerProcess`
 * through tsx, with the workspace packages resolved to their sources.
 *
 * Environment: REDIS_URL, PREFIX, SHARDS, HOLDER, and optionally BATCH_SIZE, POLL_MS,
 * LEASE_TTL_MS, RENEW_EVERY_MS.
 */
import { connectRedisStore } from '../connect.js';
import { openRedisView } from '../view/index.js';
import { Applied } from './viewFixtures.js';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

const store = await connectRedisStore({ url: env('REDIS_URL'), prefix: env('PREFIX'), shards: Number(env('SHARDS')) });
const view = await openRedisView({
  store,
  projection: Applied,
  holder: env('HOLDER'),
  batchSize: Number(env('BATCH_SIZE', '500')),
  pollMs: Number(env('POLL_MS', '20')),
  leaseTtlMs: Number(env('LEASE_TTL_MS', '10000')),
  ...(process.env.RENEW_EVERY_MS ? { renewEveryMs: Number(process.env.RENEW_EVERY_MS) } : {}),
  observer: {
    leaseAcquired: (o) => print({ event: 'leaseAcquired', lease: o.lease, token: o.token }),
    standby: (o) => print({ event: 'standby', heldBy: o.heldBy }),
    leaseLost: (o) => print({ event: 'leaseLost', lease: o.lease, current: o.current }),
    batch: (o) => print({ event: 'batch', packs: o.packs, actors: o.actors, position: o.position }),
    caughtUp: (o) => print({ event: 'caughtUp', position: o.position }),
    retrying: (o) => print({ event: 'retrying', error: String(o.error) }),
  },
});
process.once('SIGTERM', () => void view.stop());
print({ event: 'started', pid: process.pid });
try {
  await view.start();
  print({ event: 'stopped' });
} catch (error) {
  print({ event: 'failed', error: String(error) });
  process.exitCode = 1;
} finally {
  await view.close();
  await store.close();
}
