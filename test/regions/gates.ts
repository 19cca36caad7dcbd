import { spawnSync } from 'node:child_process';
import { requireService } from '@troupe/runtime/testkit';
import { defaultAmqpUrl } from './deployment.js';

/**
 * Like `requireService`, for a program on the PATH: true when it runs; otherwise it throws under
 * CI=true (a CI run must never pass by skipping its real part) and warns loudly elsewhere.
 */
export function requireProgram(name: string, args: readonly string[] = ['--version']): boolean {
  const run = spawnSync(name, args, { stdio: 'ignore' });
  if (!run.error && run.status === 0) return true;
  if (process.env.CI === 'true') throw new Error(`${name} is not on the PATH and CI=true: the region tests must run, not skip`);
  const line = '!'.repeat(78);
  console.warn(`\n${line}\n!! ${name} is not on the PATH: SKIPPING the region tests (they start their own servers).\n!! Install it (apt-get install redis-server) or run with CI=true to make this a failure.\n${line}\n`);
  return false;
}

/** What the region harness needs: RabbitMQ on 127.0.0.1:5672 and the redis-server program. */
export async function regionServicesAvailable(): Promise<boolean> {
  const port = Number(new URL(defaultAmqpUrl).port);
  const rabbit = await requireService({ name: 'RabbitMQ', host: '127.0.0.1', port });
  const redis = requireProgram('redis-server');
  return rabbit && redis;
}
