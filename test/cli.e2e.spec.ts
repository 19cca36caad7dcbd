import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeysMatching } from '@troupe/redis/testing';
import { requireService } from '@troupe/runtime/testkit';
import { deleteTopology, topology } from '@troupe/rabbitmq';

const execute = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const troupe = `${root}/node_modules/.bin/troupe`;

const available =
  (await requireService({ name: 'RabbitMQ', host: '127.0.0.1', port: 5672 })) && (await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 }));

/** The shell lines of the root README's "Commands over RabbitMQ" block, comments dropped. */
function readmeLines(): string[] {
  const text = readFileSync(`${root}/README.md`, 'utf8');
  const section = text.slice(text.indexOf('### Commands over RabbitMQ'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

/** Splits a README line into arguments (single-quoted JSON stays one argument). */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

describe.skipIf(!available)('the README\'s troupe commands, run as a user would (built CLI, real services)', () => {
  const prefix = `readme-${randomUUID().slice(0, 8)}`;
  // Isolate this run's queues and keys; everything else is exactly as the README writes it.
  const env = { ...process.env, TROUPE_PREFIX: prefix, TROUPE_REDIS_PREFIX: prefix, TROUPE_METRICS_PORT: '0', TROUPE_LOG_LEVEL: 'info' };
  let worker: ChildProcess | undefined;

  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      worker.kill('SIGTERM');
      await new Promise((r) => worker!.once('exit', r));
    }
    const redis = new Redis('redis://127.0.0.1:6379');
    await deleteKeysMatching(redis, `${prefix}:*`);
    redis.disconnect();
    const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    await deleteTopology(await connection.createChannel(), topology({ prefix }));
    await connection.close();
  });

  it('troupe worker + send + inspect + load + sim do what the README says', { timeout: 120_000 }, async () => {
    const lines = readmeLines();
    expect(lines.map((l) => words(l)[2])).toEqual(['worker', 'send', 'send', 'inspect', 'load', 'sim']);
    for (const line of lines) {
      const [npx, bin, command, ...rest] = words(line.replace(/\s*&$/, ''));
      expect([npx, bin]).toEqual(['npx', 'troupe']);
      if (command === 'worker') {
        expect(line.endsWith('&')).toBe(true);
        worker = spawn(troupe, [command, ...rest], { env, stdio: ['ignore', 'pipe', 'inherit'] });
        await new Promise<void>((resolve, reject) => {
          createInterface({ input: worker!.stdout! }).on('line', (l) => l.includes('"worker started"') && resolve());
          worker!.once('exit', (code) => reject(new Error(`troupe worker exited with ${code}`)));
        });
        continue;
      }
      const result = await execute(troupe, [command!, ...rest], { env, cwd: root }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );
      if (command === 'send' && rest[2] === 'open') {
        expect(result.code).toBe(0);
        expect(JSON.parse(result.stdout)).toMatchObject({ status: 'accepted', version: { local: 1 } });
      } else if (command === 'send' && rest[2] === 'withdraw') {
        expect(result.code).toBe(3);
        expect(JSON.parse(result.stdout)).toMatchObject({ status: 'rejected', reason: 'insufficient funds' });
      } else if (command === 'inspect') {
        expect(result.code).toBe(0);
        expect(result.stdout).toMatch(/^account:alice\n {2}version {3}local:1\n {2}heads {5}1\n/);
        expect(result.stdout).toMatch(/local:1 +command opened \{"owner":"Alice"\}/);
      } else if (command === 'load') {
        expect(result.code).toBe(0);
        expect(result.stdout).toMatch(/10000 sent, \d+ accepted, \d+ rejected, 0 failed/);
        expect(result.stdout).toMatch(/throughput \d+ commands\/s; latency p50 [\d.]+ ms, p99 [\d.]+ ms/);
      } else if (command === 'sim') {
        expect(result.code).toBe(0);
        expect(result.stdout).toMatch(/I1.*ok/);
      } else {
        throw new Error(`unexpected README line: ${line}`);
      }
    }
    worker!.kill('SIGTERM');
    expect(await new Promise((r) => worker!.once('exit', (code) => r(code)))).toBe(0);
  });
});

describe('troupe --app takes an app folder (the built CLI, as a user runs it; no services)', () => {
  const run = (args: string[]) =>
    execute(troupe, args, { cwd: root }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it('apps/bank and ./apps/bank load through the folder\'s package.json exports', { timeout: 120_000 }, async () => {
    for (const app of ['apps/bank', './apps/bank']) {
      const result = await run(['sim', '--seed', '1', '--steps', '60', '--app', app, '--json']);
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout) as { ok: boolean; options: { workload: string } };
      expect(report.options.workload).toBe('bank');
      expect(report.ok).toBe(true);
    }
  });

  it('a folder that does not exist: one line naming every candidate tried, exit 1, before connecting', async () => {
    const result = await run(['load', '--app', 'apps/nope', '--amqp', 'amqp://guest:guest@127.0.0.1:1']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`troupe: cannot load app module 'apps/nope': tried ${root}apps/nope: no such file or directory; package 'apps': not in the node_modules of ${root.replace(/\/$/, '')} or its parents;`);
    expect(result.stderr).toMatch(/\[APP_NOT_FOUND\]\n$/);
  });
});

describe('troupe sim --runs across worker threads (the built CLI; no services)', () => {
  it('--runs 4 --jobs 2 --workload counter: exit 0, the summary, and the same totals as --jobs 1', { timeout: 180_000 }, async () => {
    const sim = (jobs: string, json: boolean) =>
      execute(troupe, ['sim', '--runs', '4', '--jobs', jobs, '--seed', '20', '--workload', 'counter', '--steps', '60', ...(json ? ['--json'] : [])], { cwd: root }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );
    const text = await sim('2', false);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^troupe sim seeds 20\.\.23 \(4 runs, 2 jobs\): OK\n/);
    expect(text.stdout).toMatch(/ {2}commands {2}\d+; divergences \d+, merges \d+\n/);
    for (const name of ['I1', 'I2', 'I3', 'I4', 'I5', 'I6', 'I7']) expect(text.stdout).toMatch(new RegExp(` {2}${name} {2}ok {4}\\d+ checked\\n`));
    expect(text.stdout).toMatch(/4 seeds in [\d.]+ s: [\d.]+ seeds\/s, \d+ seeds\/hour\n$/);
    type Summary = { ok: boolean; seeds: number; jobs: number; commands: number; divergences: number; merges: number; invariants: unknown };
    const [two, one] = await Promise.all([sim('2', true), sim('1', true)]).then((runs) => runs.map((r) => JSON.parse(r.stdout) as Summary));
    expect(two!.jobs).toBe(2);
    expect(one!.jobs).toBe(1);
    const totals = ({ ok, seeds, commands, divergences, merges, invariants }: Summary) => ({ ok, seeds, commands, divergences, merges, invariants });
    expect(totals(two!)).toEqual(totals(one!));
    expect(two!.seeds).toBe(4);
  });
});
