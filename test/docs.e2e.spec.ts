import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { deleteKeysMatching } from '@troupe/redis/testing';
import { requireService } from '@troupe/runtime/testkit';
import { Redis } from 'ioredis';
import amqp from 'amqplib';
import { deleteTopology, topology } from '@troupe/rabbitmq';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = fileURLToPath(new URL('./.docs-examples/', import.meta.url));
const bin = (name: string) => `${root}/node_modules/.bin/${name}`;

/** The runnable examples of the READMEs: each must type-check against the built packages and run. */
function examples(readme: string, marker = 'createRuntime('): string[] {
  const text = readFileSync(`${root}/${readme}`, 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((code) => code.includes(marker));
}

const redisAvailable = await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 });
const rabbitAvailable = await requireService({ name: 'RabbitMQ', host: '127.0.0.1', port: 5672 });

/** Deletes the keys a README example left under `prefix` in the given databases. */
async function dropPrefix(prefix: string, databases: readonly number[]): Promise<void> {
  for (const db of databases) {
    const redis = new Redis(`redis://127.0.0.1:6379/${db}`);
    await deleteKeysMatching(redis, `${prefix}:*`);
    redis.disconnect();
  }
}

async function check(name: string, code: string): Promise<string> {
  mkdirSync(scratch, { recursive: true });
  const file = `${scratch}${name}.ts`;
  writeFileSync(file, `${code}\nexport {};\n`);
  const flags = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', '--types', 'node'];
  await run(bin('tsc'), [...flags, file], { cwd: root }).catch((error: { stdout: string }) => {
    throw new Error(`${name} does not type-check:\n${error.stdout}`);
  });
  const { stdout } = await run(bin('tsx'), [file], { cwd: scratch });
  return stdout;
}

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('README examples', () => {
  it('the root README example converges as it says', async () => {
    const [code] = examples('README.md');
    expect(code).toBeDefined();
    const out = await check('root-readme', code!);
    expect(out).toMatch(/version: \{ eu: 2, us: 1 \}/);
    expect(out).toMatch(/balance: -50/);
    expect(out).toMatch(/overdrawn: 50/);
  }, 60_000);

  it.skipIf(!redisAvailable)('the Redis store README example replicates between two databases and converges', async () => {
    const [code] = examples('packages/redis/README.md');
    expect(code).toBeDefined();
    try {
      const out = await check('redis-readme', code!);
      expect(out).toMatch(/version: \{ eu: 1 \}/);
      expect(out).toMatch(/version: \{ us: 1 \}/);
      const finals = out.match(/\{ version: \{ eu: 1, us: 1 \}, state: \{ value: 5 \}, heads: 1 \}/g) ?? [];
      expect(finals).toHaveLength(2);
    } finally {
      await dropPrefix('readme', [11, 12]);
    }
  }, 60_000);

  it.skipIf(!redisAvailable || !rabbitAvailable)('the RabbitMQ README example sends commands through a worker and retries one idempotently', async () => {
    const [code] = examples('packages/rabbitmq/README.md', 'startWorker(');
    expect(code).toBeDefined();
    try {
      const out = await check('rabbitmq-readme', code!);
      expect(out).toMatch(/status: 'accepted'[\s\S]*version: \{ local: 1 \}/);
      expect(out).toMatch(/^accepted true$/m);
      expect(out).toMatch(/\{ version: \{ local: 2 \}, state: \{ value: 4 \}, heads: 1 \}/);
    } finally {
      await dropPrefix('readme-bus', [11]);
      const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
      await deleteTopology(await connection.createChannel(), topology({ prefix: 'readme', shards: 4 }));
      await connection.close();
    }
  }, 60_000);

  it('the runtime README example prints what its comments say', async () => {
    const [code] = examples('packages/runtime/README.md');
    expect(code).toBeDefined();
    const out = await check('runtime-readme', code!);
    expect(out).toMatch(/status: 'accepted'/);
    expect(out).toMatch(/status: 'rejected'[\s\S]*reason: 'not enough'/);
    expect(out).toMatch(/version: \{ a: 2, b: 1 \}, state: \{ value: 8 \}, heads: 1/);
  }, 60_000);
});
