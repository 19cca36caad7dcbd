import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { deleteKeysMatching } from '@troupe/redis/testing';
import { requireService } from '@troupe/runtime/testkit';
import { deleteTopology, topology } from '@troupe/rabbitmq';
import { run } from './program.js';
import { capture } from './testing/capture.js';

const amqpUrl = 'amqp://guest:guest@127.0.0.1:5672';
const redisUrl = 'redis://127.0.0.1:6379/9';
const available =
  (await requireService({ name: 'RabbitMQ', host: '127.0.0.1', port: 5672 })) && (await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 }));

const prefix = `cli-${randomUUID().slice(0, 8)}`;
const bus = ['--amqp', amqpUrl, '--prefix', prefix, '--shards', '4'];
const store = ['--redis', redisUrl, '--redis-prefix', prefix];

afterEach(() => vi.restoreAllMocks());


async function queuesExist(): Promise<boolean> {
  const connection = await amqp.connect(amqpUrl);
  connection.on('error', () => undefined);
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    await channel.checkQueue(topology({ prefix, shards: 4 }).shardQueues[3]!);
    return true;
  } catch {
    return false;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

describe.skipIf(!available)('troupe worker, send, inspect and load against RabbitMQ and Redis', () => {
  let worker: Promise<number> | undefined;

  afterAll(async () => {
    if (worker) {
      process.emit('SIGTERM');
      await worker;
    }
    const redis = new Redis(redisUrl);
    await deleteKeysMatching(redis, `${prefix}:*`);
    redis.disconnect();
    const connection = await amqp.connect(amqpUrl);
    await deleteTopology(await connection.createChannel(), topology({ prefix, shards: 4 }));
    await connection.close();
  });

  it('troupe worker starts consuming, and troupe send prints accepted and rejected replies', async () => {
    worker = run(['worker', ...bus, ...store, '--allow-volatile-store', '--metrics-port', '0', '--log-level', 'silent']);
    for (let i = 0; i < 100 && !(await queuesExist()); i++) await new Promise((r) => setTimeout(r, 50));
    const opened = await capture(['send', 'account', 'alice', 'open', '{"owner":"Alice"}', ...bus]);
    expect(opened.code).toBe(0);
    expect(JSON.parse(opened.out)).toMatchObject({ status: 'accepted', duplicate: false, events: [{ type: 'opened', data: { owner: 'Alice' } }] });
    const deposit = await capture(['send', 'account', 'alice', 'deposit', '{"amount":40}', ...bus, '--command-id', 'dep-1']);
    const again = await capture(['send', 'account', 'alice', 'deposit', '{"amount":40}', ...bus, '--command-id', 'dep-1']);
    expect(JSON.parse(deposit.out)).toMatchObject({ status: 'accepted', duplicate: false });
    expect(JSON.parse(again.out)).toMatchObject({ status: 'accepted', duplicate: true });
    const rejected = await capture(['send', 'account', 'alice', 'withdraw', '{"amount":1000}', ...bus]);
    expect(rejected.code).toBe(3);
    expect(JSON.parse(rejected.out)).toMatchObject({ status: 'rejected', reason: 'insufficient funds' });
  });

  it('troupe send: an unknown command is one line and exit 1', async () => {
    const result = await capture(['send', 'account', 'alice', 'fly', '{}', ...bus]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^troupe: command .* failed on the worker \(UNKNOWN_COMMAND\): actor type 'account' has no command 'fly' .*\[COMMAND_FAILED\]$/);
  });

  it('troupe inspect prints version, heads, ancestors and state, as text and JSON', async () => {
    const text = await capture(['inspect', 'account', 'alice', ...store]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/account:alice\n {2}version {3}local:2\n {2}heads {5}1\n {2}state {5}\{"open":true,"owner":"Alice","balance":40/);
    expect(text.out).toMatch(/local:2 +command deposited \{"amount":40\}\n +local:1 +command opened/);
    const asJson = await capture(['inspect', 'account', 'alice', ...store, '--json']);
    const view = JSON.parse(asJson.out) as { version: string; heads: unknown[]; ancestors: { version: string; parents: string[] }[]; state: { balance: number } };
    expect(view.version).toBe('local:2');
    expect(view.heads).toHaveLength(1);
    expect(view.ancestors.map((a) => a.version)).toEqual(['local:2', 'local:1']);
    expect(view.ancestors[0]!.parents).toEqual(['local:1']);
    expect(view.state.balance).toBe(40);
    const nobody = await capture(['inspect', 'account', 'nobody', ...store]);
    expect(nobody.out).toMatch(/no events in this store/);
    const unknown = await capture(['inspect', 'planet', 'mars', ...store]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/^troupe: unknown actor type 'planet'.*\[UNKNOWN_ACTOR_TYPE\]$/);
  });

  it('troupe load drives the workload and prints one JSON object with every figure', async () => {
    const result = await capture(['load', ...bus, '--actors', '20', '--commands', '400', '--concurrency', '16', '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.out) as Record<string, number | { p50: number; p99: number }>;
    expect(report.sent).toBe(400);
    expect((report.accepted as number) + (report.rejected as number)).toBe(400);
    expect(report.accepted).toBeGreaterThan(0);
    expect(report.rejected).toBeGreaterThan(0); // withdrawals from unopened or empty accounts
    expect(report.failed).toBe(0);
    expect(report.throughput).toBeGreaterThan(0);
    const latency = report.latencyMs as { p50: number; p99: number };
    expect(latency.p99).toBeGreaterThanOrEqual(latency.p50);
  });

  it('troupe inspect fails with one line when Redis is unreachable', async () => {
    const result = await capture(['inspect', 'account', 'alice', '--redis', 'redis://127.0.0.1:1']);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^troupe: store at redis:\/\/127\.0\.0\.1:1 is unavailable: .*\[STORE_UNAVAILABLE\]$/);
  });

  it('troupe worker stops gracefully on SIGTERM and exits 0', async () => {
    process.emit('SIGTERM');
    expect(await worker).toBe(0);
    worker = undefined;
  });

  it('troupe send with no worker running: exit 4 (outcome unknown) and the command id to resend with', async () => {
    const result = await capture(['send', 'account', 'bob', 'open', '{"owner":"Bob"}', ...bus, '--timeout', '300']);
    expect(result.code).toBe(4);
    expect(result.err).toMatch(/^troupe: no reply to command (\S+) .* \[COMMAND_TIMEOUT\]; resend with --command-id \1 to get its result$/);
  });
});
