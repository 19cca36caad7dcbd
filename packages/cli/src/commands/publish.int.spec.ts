import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import amqp, { type ConsumeMessage } from 'amqplib';
import { createRuntime } from '@troupe/runtime';
import { requireService } from '@troupe/runtime/testkit';
import { connectRedisStore } from '@troupe/redis';
import { decodePublication } from '@troupe/rabbitmq';
import { Account } from '@troupe/bank';
import { run } from '../program.js';
import { capture } from '../testing/capture.js';

const amqpUrl = 'amqp://guest:guest@127.0.0.1:5672';
const redisUrl = 'redis://127.0.0.1:6379/9';
const available =
  (await requireService({ name: 'RabbitMQ', host: '127.0.0.1', port: 5672 })) && (await requireService({ name: 'Redis', host: '127.0.0.1', port: 6379 }));

const prefix = `cli-publish-${randomUUID().slice(0, 8)}`;
const exchange = `${prefix}.events`;
const store = ['--redis', redisUrl, '--redis-prefix', prefix];

describe.skipIf(!available)('troupe publish against RabbitMQ and Redis', () => {
  afterAll(async () => {
    const s = await connectRedisStore({ url: redisUrl, prefix });
    await s.destroy();
    await s.close();
    const connection = await amqp.connect(amqpUrl);
    const channel = await connection.createChannel();
    await channel.deleteExchange(exchange);
    await channel.deleteExchange(`${prefix}.fanout`);
    await connection.close();
  });

  it('publishes the store\'s log to <prefix>.events and stops on SIGTERM with exit 0, its position saved', async () => {
    const s = await connectRedisStore({ url: redisUrl, prefix });
    const runtime = createRuntime({ actors: [Account], store: s, replicaId: 'eu' });
    for (const id of ['alice', 'bob']) {
      await runtime.send(Account.ref(id), { type: 'open', payload: { owner: id } });
      await runtime.send(Account.ref(id), { type: 'deposit', payload: { amount: 10 } });
    }
    await runtime.stop();
    const connection = await amqp.connect(amqpUrl);
    const channel = await connection.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, exchange, 'account.*');
    const received: ConsumeMessage[] = [];
    await channel.consume(queue, (m) => m && received.push(m), { noAck: true });
    try {
      const publishing = run(['publish', ...store, '--amqp', amqpUrl, '--prefix', prefix, '--batch-size', '3', '--metrics-port', '0', '--log-level', 'silent']);
      for (let i = 0; i < 200 && received.length < 4; i++) await new Promise((r) => setTimeout(r, 25));
      expect(received.map((m) => m.fields.routingKey)).toEqual(['account.opened', 'account.deposited', 'account.opened', 'account.deposited']);
      const events = received.map((m) => decodePublication(m.content));
      expect(events.map((p) => (p.kind === 'event' ? [p.event.actor.id, p.event.type] : []))).toEqual([
        ['alice', 'opened'],
        ['alice', 'deposited'],
        ['bob', 'opened'],
        ['bob', 'deposited'],
      ]);
      expect(received.map((m) => m.properties.messageId)).toEqual(events.map((p) => (p.kind === 'event' ? p.event.id : '')));
      process.emit('SIGTERM');
      expect(await publishing).toBe(0);
      expect(await s.backlog(await s.checkpoint(`publish.${exchange}`).load())).toBe(0);
    } finally {
      await connection.close();
      await s.close();
    }
  });

  it('bad input is one line and exit 1: no --redis, an unreachable broker (password hidden), an exchange of another type', async () => {
    const noRedis = await capture(['publish', '--no-metrics', '--log-level', 'silent']);
    expect(noRedis.code).toBe(1);
    expect(noRedis.err).toMatch(/^troupe: troupe publish needs --redis/);
    const unreachable = await capture(['publish', ...store, '--amqp', 'amqp://guest:hidden-pw@127.0.0.1:1', '--no-metrics', '--log-level', 'silent']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.err).toMatch(/^troupe: RabbitMQ at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1 is unavailable: .*\[BUS_UNAVAILABLE\]$/);
    expect(unreachable.err).not.toContain('hidden-pw');
    const connection = await amqp.connect(amqpUrl);
    await (await connection.createChannel()).assertExchange(`${prefix}.fanout`, 'fanout', { durable: true });
    await connection.close();
    const mismatch = await capture(['publish', ...store, '--amqp', amqpUrl, '--exchange', `${prefix}.fanout`, '--no-metrics', '--log-level', 'silent']);
    expect(mismatch.code).toBe(1);
    expect(mismatch.err).toMatch(new RegExp(`^troupe: exchange '${prefix}\\.fanout' exists on the broker with other arguments .*\\[TOPOLOGY_MISMATCH\\]$`));
  });
});
