import type { ConnectionStats, CuttableConnection } from './stores.js';

/**
 * The parts of an ioredis client (`Redis`) that `ioredisConnection` uses, typed here so that the
 * simulator does not depend on ioredis: `stream` is the client's current socket (a new one after
 * each reconnection), `status` is 'ready' while it can run commands.
 */
export interface RedisClientLike {
  readonly status: string;
  readonly stream: { write: (...args: never[]) => boolean; destroy(error?: Error): unknown } | undefined;
  on(event: 'error' | 'ready', listener: (...args: unknown[]) => void): unknown;
  off(event: 'ready', listener: (...args: unknown[]) => void): unknown;
}

/** How long `ready()` waits for the client to reconnect after a cut, ms (ioredis retries after 100 ms with the store's fail-fast options). */
export const reconnectTimeoutMs = 10_000;

/**
 * A cuttable connection over an ioredis client (standalone `Redis`, not a Cluster): the cut
 * destroys the client's socket right after it writes the next command (the bytes are already
 * with the kernel, so Redis receives and runs the command; its reply never arrives). ioredis then
 * fails the command in flight (with the store's `maxRetriesPerRequest: 0`, "Reached the max
 * retries per request limit"; the store maps it to `StoreUnavailableError`) and reconnects on its
 * own after its `retryStrategy` delay. Counts the cuts, the client's 'error' events and its
 * reconnections after a cut.
 */
export function ioredisConnection(client: RedisClientLike): CuttableConnection {
  const stats: ConnectionStats = { cuts: 0, errors: 0, reconnects: 0 };
  let armed: { stream: NonNullable<RedisClientLike['stream']>; write: (...args: never[]) => boolean } | undefined;
  let cutPending = false;
  client.on('error', () => void stats.errors++);
  client.on('ready', () => {
    if (!cutPending) return;
    cutPending = false;
    stats.reconnects++;
  });
  const restore = (): boolean => {
    if (!armed) return false;
    armed.stream.write = armed.write;
    armed = undefined;
    return true;
  };
  return {
    stats,
    cutAfterNextWrite() {
      restore();
      const stream = client.stream;
      if (!stream || client.status !== 'ready') throw new Error(`cannot cut a connection that is ${client.status}`);
      const write = stream.write;
      armed = { stream, write };
      stream.write = function cutAfterWrite(this: unknown, ...args: never[]) {
        restore();
        const written = write.apply(this, args);
        stats.cuts++;
        cutPending = true;
        stream.destroy();
        return written;
      };
    },
    cancelCut: restore,
    ready(timeoutMs = reconnectTimeoutMs) {
      if (client.status === 'ready' && !cutPending) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          client.off('ready', onReady);
          reject(new Error(`the Redis client did not reconnect within ${timeoutMs} ms after a cut (status ${client.status})`));
        }, timeoutMs);
        const onReady = () => {
          clearTimeout(timer);
          client.off('ready', onReady);
          resolve();
        };
        client.on('ready', onReady);
      });
    },
  };
}
