/** Helpers of this package's own tests (not published, not exported). */
import { connectRedisStore } from '../connect.js';
import type { RedisStore } from '../redisStore/index.js';
import { RedisServer } from '../testing/redisServer.js';

/**
 * Throw-away redis-servers (own ports and directories) and stores connected to them, remembered so
 * one `dispose()` in `afterAll` closes every store and destroys every server a suite started.
 */
export function throwAwayServers() {
  const servers: RedisServer[] = [];
  const stores: RedisStore[] = [];
  return {
    async startServer(args: readonly string[] = []): Promise<RedisServer> {
      const server = await RedisServer.start({ args });
      servers.push(server);
      return server;
    },
    async connect(server: RedisServer, prefix: string): Promise<RedisStore> {
      const store = await connectRedisStore({ url: server.url, prefix, shards: 4 });
      stores.push(store);
      return store;
    },
    async dispose(): Promise<void> {
      await Promise.all(stores.map((store) => store.close().catch(() => {})));
      await Promise.all(servers.map((server) => server.destroy()));
    },
  };
}
