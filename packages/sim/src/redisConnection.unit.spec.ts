import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ioredisConnection } from './redisConnection.js';

/** A stand-in for an ioredis client: a socket whose writes and destruction are recorded. */
function fakeClient() {
  const written: string[] = [];
  const client = Object.assign(new EventEmitter(), {
    status: 'ready',
    destroyed: 0,
    stream: undefined as unknown as { write: (chunk: string) => boolean; destroy(): void },
  });
  client.stream = {
    write: (chunk: string) => (written.push(chunk), true),
    destroy: () => {
      client.destroyed++;
      client.status = 'reconnecting';
    },
  };
  const reconnect = () => {
    client.status = 'ready';
    client.emit('ready');
  };
  return { client, written, reconnect };
}

describe('ioredisConnection', () => {
  it('cuts the socket right after the next write, once, and counts the cut and the reconnection', async () => {
    const { client, written, reconnect } = fakeClient();
    const connection = ioredisConnection(client as never);
    connection.cutAfterNextWrite();
    expect(client.destroyed).toBe(0);
    client.stream.write('EVALSHA append');
    expect(written).toEqual(['EVALSHA append']);
    expect(client.destroyed).toBe(1);
    client.stream.write('GET later');
    expect(client.destroyed).toBe(1);
    expect(connection.cancelCut()).toBe(false);
    const ready = connection.ready(1_000);
    reconnect();
    await ready;
    expect(connection.stats).toEqual({ cuts: 1, errors: 0, reconnects: 1 });
  });

  it('a cut that never fired is cancelled, and ready() is then immediate', async () => {
    const { client } = fakeClient();
    const connection = ioredisConnection(client as never);
    connection.cutAfterNextWrite();
    expect(connection.cancelCut()).toBe(true);
    client.stream.write('GET x');
    expect(client.destroyed).toBe(0);
    await connection.ready(10);
    expect(connection.stats.cuts).toBe(0);
  });

  it('ready() rejects when the client does not come back in time; errors the client reports are counted', async () => {
    const { client } = fakeClient();
    const connection = ioredisConnection(client as never);
    connection.cutAfterNextWrite();
    client.stream.write('GET x');
    client.emit('error', new Error('read ECONNRESET'));
    await expect(connection.ready(20)).rejects.toThrow(/did not reconnect within 20 ms/);
    expect(connection.stats.errors).toBe(1);
  });

  it('refuses to arm a cut on a connection that is not ready', () => {
    const { client } = fakeClient();
    client.status = 'reconnecting';
    expect(() => ioredisConnection(client as never).cutAfterNextWrite()).toThrow(/reconnecting/);
  });
});
