import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '@troupe/runtime';
import { workerDefaults, workerSettings } from './options.js';
import { busDefaults, busSettings } from '../client/options.js';
import { topology, topologyDefaults } from '../topology.js';

describe('options', () => {
  it('apply every default from the defaults constants', () => {
    expect(workerSettings({ actors: [] })).toEqual({
      url: workerDefaults.url,
      prefetch: workerDefaults.prefetch,
      commandBytesMax: workerDefaults.commandBytesMax,
      replyBytesMax: workerDefaults.replyBytesMax,
      metricsPort: undefined,
      metricsHost: workerDefaults.metricsHost,
      defaultMetrics: workerDefaults.defaultMetrics,
      retryDelayMaxMs: workerDefaults.retryDelayMaxMs,
      connectRetriesMax: workerDefaults.connectRetriesMax,
      heartbeatMs: workerDefaults.heartbeatMs,
      replicationWaitsMax: workerDefaults.replicationWaitsMax,
      replicationPollMs: workerDefaults.replicationPollMs,
    });
    expect(workerSettings({ actors: [], balance: false }).heartbeatMs).toBeUndefined();
    expect(busSettings({})).toEqual(busDefaults);
    const t = topology();
    expect([t.prefix, t.shards, t.queueType, t.deliveriesMax]).toEqual([topologyDefaults.prefix, topologyDefaults.shards, topologyDefaults.queueType, topologyDefaults.deliveriesMax]);
  });

  it.each([
    ['prefetch', () => workerSettings({ actors: [], prefetch: 0 })],
    ['prefetch', () => workerSettings({ actors: [], prefetch: 70_000 })],
    ['commandBytesMax', () => workerSettings({ actors: [], commandBytesMax: 1.5 })],
    ['replyBytesMax', () => workerSettings({ actors: [], replyBytesMax: 0 })],
    ['metricsPort', () => workerSettings({ actors: [], metricsPort: -1 })],
    ['heartbeatMs', () => workerSettings({ actors: [], heartbeatMs: 0 })],
    // A waiting reply holds a prefetch slot: as many waits as slots would stall the shard.
    ['replicationWaitsMax', () => workerSettings({ actors: [], prefetch: 8, replicationWaitsMax: 8 })],
    ['replicationWaitsMax', () => workerSettings({ actors: [], replicationWaitsMax: -1 })],
    ['replicationWaitsMax', () => workerSettings({ actors: [], replicationWaitsMax: 1.5 })],
    ['replicationPollMs', () => workerSettings({ actors: [], replicationPollMs: 0 })],
    ['replicationPollMs', () => workerSettings({ actors: [], replicationPollMs: 60_001 })],
    ['timeoutMs', () => busSettings({ timeoutMs: 0 })],
    ['commandBytesMax', () => busSettings({ commandBytesMax: 0 })],
    ['shards', () => topology({ shards: 0 })],
    ['prefix', () => topology({ prefix: 'a b' })],
    ['deliveriesMax', () => topology({ deliveriesMax: 0 })],
    // TLS material with a plaintext URL: amqplib would ignore it and connect without TLS.
    ['tls', () => workerSettings({ actors: [], url: 'amqp://guest:guest@127.0.0.1:5672', tls: { ca: 'pem' } })],
    ['tls', () => workerSettings({ actors: [], tls: { cert: 'pem', key: 'pem' } })],
    ['tls', () => busSettings({ url: 'amqp://127.0.0.1', tls: { ca: 'pem' } })],
    ['tls', () => busSettings({ tls: { key: 'pem' } })],
  ])('refuse a bad %s with InvalidOptionError naming it', (option, make) => {
    let error: unknown;
    try {
      make();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ code: 'INVALID_OPTION', option });
  });

  it('keep the default replicationWaitsMax at most half of a lower prefetch, and take 0..prefetch-1', () => {
    expect(workerSettings({ actors: [], prefetch: 10 }).replicationWaitsMax).toBe(5);
    expect(workerSettings({ actors: [], prefetch: 1 }).replicationWaitsMax).toBe(0);
    expect(workerSettings({ actors: [], prefetch: 1_000 }).replicationWaitsMax).toBe(workerDefaults.replicationWaitsMax);
    expect(workerSettings({ actors: [], prefetch: 8, replicationWaitsMax: 7 }).replicationWaitsMax).toBe(7);
    expect(workerSettings({ actors: [], replicationWaitsMax: 0 }).replicationWaitsMax).toBe(0);
  });

  it('take TLS material with an amqps:// URL, and an empty tls with any URL', () => {
    const tls = { ca: 'ca pem', cert: 'cert pem', key: 'key pem' };
    expect(workerSettings({ actors: [], url: 'amqps://u:p@broker:5671', tls }).tls).toBe(tls);
    expect(busSettings({ url: 'AMQPS://broker', tls }).tls).toBe(tls);
    expect(busSettings({ url: 'amqp://broker', tls: {} }).tls).toEqual({});
  });

  it('name the option and say to use amqps:// without showing the password', () => {
    expect(() => busSettings({ url: 'amqp://u:secret@broker', tls: { ca: 'pem' } })).toThrow(/amqps:\/\//);
    expect(() => busSettings({ url: 'amqp://u:secret@broker', tls: { ca: 'pem' } })).not.toThrow(/secret/);
  });
});
