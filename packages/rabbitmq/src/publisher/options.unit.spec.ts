import { describe, expect, it } from 'vitest';
import { type Checkpoint, type EventStore, InvalidOptionError, MemoryStore } from '@troupe/runtime';
import { publisherDefaults, publisherSettings } from './options.js';
import { backoffMs } from './publisher.js';

const option = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return (error as InvalidOptionError).option;
  }
};

describe('publisher options', () => {
  it('defaults: <prefix>.events, a checkpoint named after the exchange in the store, batches of 500', async () => {
    const store = new MemoryStore();
    const s = publisherSettings({ store });
    expect(s).toMatchObject({ url: publisherDefaults.url, exchange: 'troupe.events', checkpointName: 'publish.troupe.events', batchSize: 500, idleMs: 100, connectRetriesMax: 0, stopTimeoutMs: 10_000 });
    await s.checkpoint.save('3');
    expect(await store.checkpoint('publish.troupe.events').load()).toBe('3');
    expect(publisherSettings({ store, prefix: 'shop' }).exchange).toBe('shop.events');
    expect(publisherSettings({ store, exchange: 'ev', checkpointName: 'p1' })).toMatchObject({ exchange: 'ev', checkpointName: 'p1' });
  });

  it('refuses, naming the option: a store without checkpoints and none given, bad names, sizes and delays, TLS with amqp://', () => {
    const store = new MemoryStore();
    const bare = { changesSince: store.changesSince.bind(store) } as unknown as EventStore;
    expect(option(() => publisherSettings({ store: bare }))).toBe('checkpoint');
    const own: Checkpoint = { load: async () => undefined, save: async () => undefined };
    expect(publisherSettings({ store: bare, checkpoint: own }).checkpoint).toBe(own);
    expect(option(() => publisherSettings({ store: undefined as unknown as EventStore }))).toBe('store');
    expect(option(() => publisherSettings({ store, exchange: 'amq.topic' }))).toBe('exchange');
    expect(option(() => publisherSettings({ store, exchange: 'has space' }))).toBe('exchange');
    expect(option(() => publisherSettings({ store, prefix: '' }))).toBe('prefix');
    expect(option(() => publisherSettings({ store, checkpointName: 'a/b' }))).toBe('checkpointName');
    expect(option(() => publisherSettings({ store, batchSize: 0 }))).toBe('batchSize');
    expect(option(() => publisherSettings({ store, batchSize: 1.5 }))).toBe('batchSize');
    expect(option(() => publisherSettings({ store, idleMs: 0 }))).toBe('idleMs');
    expect(option(() => publisherSettings({ store, retryDelayMs: 500, retryDelayMaxMs: 100 }))).toBe('retryDelayMaxMs');
    expect(option(() => publisherSettings({ store, metricsPort: 70_000 }))).toBe('metricsPort');
    expect(option(() => publisherSettings({ store, stopTimeoutMs: -1 }))).toBe('stopTimeoutMs');
    expect(option(() => publisherSettings({ store, tls: { ca: 'pem' } }))).toBe('tls');
  });

  it('backs off exponentially with jitter, up to the longest delay', () => {
    for (let i = 0; i < 50; i++) {
      expect(backoffMs(1, 100, 5_000)).toBeGreaterThanOrEqual(80);
      expect(backoffMs(1, 100, 5_000)).toBeLessThanOrEqual(120);
      expect(backoffMs(4, 100, 5_000)).toBeGreaterThanOrEqual(640);
      expect(backoffMs(40, 100, 5_000)).toBeLessThanOrEqual(6_000);
      expect(backoffMs(40, 100, 5_000)).toBeGreaterThanOrEqual(4_000);
    }
  });
});
