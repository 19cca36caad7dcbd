import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { WorkerMetrics } from './worker/metrics.js';
import { PublisherMetrics } from './publisher/metrics.js';

describe('@troupe/rabbitmq exports', () => {
  it('the root exports what an app author or operator needs, as README "API" lists it', async () => {
    expect(Object.keys(await import('./index.js')).sort()).toEqual([
      'ActorFailedError',
      'BusUnavailableError',
      'CommandBus',
      'CommandFailedError',
      'CommandTimeoutError',
      'InvalidReplyToError',
      'MalformedMessageError',
      'Publisher',
      'TopologyMismatchError',
      'Worker',
      'busDefaults',
      'connectBus',
      'declareTopology',
      'decodePublication',
      'defaultAmqpUrl',
      'deleteTopology',
      'publisherDefaults',
      'serveMetrics',
      'startPublisher',
      'startWorker',
      'topology',
      'topologyDefaults',
      'workerDefaults',
    ]);
  });

  it('@troupe/rabbitmq/protocol exports the wire format, as README "Wire protocol" lists it', async () => {
    expect(Object.keys(await import('./protocol/index.js')).sort()).toEqual([
      'MalformedMessageError',
      'busProtocolVersion',
      'decodeCommand',
      'decodeReply',
      'encodeCommand',
      'encodeReply',
      'replicasMax',
      'replicasTimeoutMsMax',
      'shardOf',
    ]);
  });

  it('every error class carries a code of its own package', async () => {
    const root = await import('./index.js');
    const errors = [
      new root.BusUnavailableError('amqp://h', 'down'),
      new root.CommandTimeoutError('c1', 5, 'a:b'),
      new root.CommandFailedError('c1', 'UNKNOWN_COMMAND', 'no such command'),
      new root.TopologyMismatchError('other shard count'),
      new root.MalformedMessageError('not msgpack'),
      new root.ActorFailedError({ type: 'a', id: 'b' }, 'go', new Error('boom')),
      new root.InvalidReplyToError('victim-queue'),
    ];
    expect(errors.map((e) => [e.name, e.code])).toEqual([
      ['BusUnavailableError', 'BUS_UNAVAILABLE'],
      ['CommandTimeoutError', 'COMMAND_TIMEOUT'],
      ['CommandFailedError', 'COMMAND_FAILED'],
      ['TopologyMismatchError', 'TOPOLOGY_MISMATCH'],
      ['MalformedMessageError', 'MALFORMED_MESSAGE'],
      ['ActorFailedError', 'ACTOR_FAILED'],
      ['InvalidReplyToError', 'INVALID_REPLY_TO'],
    ]);
  });

  it('README "Metrics" names every metric a worker exports (the default process metrics aside)', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Metrics'), readme.indexOf('\n## ', readme.indexOf('## Metrics') + 1));
    const names = (await new WorkerMetrics(() => 0, false).registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((name) => !section.includes(`\`${name}`))).toEqual([]);
  });

  it('README "Event publication" names every metric a publisher exports (the default process metrics aside)', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf('## Event publication');
    expect(start).toBeGreaterThan(0);
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const names = (await new PublisherMetrics(() => ({ packs: 0, ms: 0 }), false).registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names.length).toBeGreaterThan(5);
    expect(names.filter((name) => !section.includes(`\`${name}`))).toEqual([]);
  });
});
