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
    ['timeoutMs', () => busSettings({ timeoutMs: 0 })],
    ['commandBytesMax', () => busSettings({ commandBytesMax: 0 })],
    ['shards', () => topology({ shards: 0 })],
    ['prefix', () => topology({ prefix: 'a b' })],
    ['deliveriesMax', () => topology({ deliveriesMax: 0 })],
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
});
