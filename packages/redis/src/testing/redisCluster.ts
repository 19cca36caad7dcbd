import { execFile } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, RedisServer } from './redisServer.js';

export interface RedisClusterOptions {
  /** Number of masters (no replicas). Default 3. */
  readonly masters?: number;
  /** Extra redis-server arguments for every node. */
  readonly args?: readonly string[];
}

/**
 * A throw-away Redis Cluster on 127.0.0.1 for tests: `masters` redis-servers (default 3), joined
 * with `redis-cli --cluster create`, no replicas. Each node has its own directory and an explicit
 * cluster bus port (`--cluster-port`, Redis 7+), because the default bus port (port + 10000) of a
 * random free port can be taken or above 65535. `destroy()` stops every node and deletes its files.
 */
export class RedisCluster {
  private constructor(readonly servers: readonly RedisServer[]) {}

  /** Startup nodes as '127.0.0.1:port', for `connectRedisStore({ cluster: nodes })`. */
  get nodes(): string[] {
    return this.servers.map((server) => `127.0.0.1:${server.port}`);
  }

  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const count = options.masters ?? 3;
    const ports = await distinctFreePorts(count * 2);
    const started = await Promise.allSettled(
      Array.from({ length: count }, (_, i) =>
        RedisServer.start({
          port: ports[i]!,
          args: [
            '--cluster-enabled', 'yes',
            '--cluster-config-file', 'nodes.conf',
            '--cluster-node-timeout', '2000',
            '--cluster-port', String(ports[count + i]!),
            ...(options.args ?? []),
          ],
        }),
      ),
    );
    const servers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const cluster = new RedisCluster(servers);
    try {
      const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) throw failed.reason;
      await redisCli(['--cluster', 'create', ...cluster.nodes, '--cluster-replicas', '0', '--cluster-yes']);
      await cluster.waitUntilOk(15_000);
      return cluster;
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
  }

  /** Waits until every node reports `cluster_state:ok` (all slots covered, nodes agree). */
  async waitUntilOk(timeoutMs = 15_000): Promise<void> {
    const clients = this.servers.map((server) => new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, maxRetriesPerRequest: 1 }));
    try {
      await Promise.all(clients.map((client) => client.connect()));
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const infos = await Promise.all(clients.map((client) => client.cluster('INFO') as Promise<string>));
        if (infos.every((info) => /^cluster_state:ok\r?$/m.test(info))) return;
        if (Date.now() > deadline) throw new Error(`Redis Cluster ${this.nodes.join(',')} not ok after ${timeoutMs} ms:\n${infos.join('\n')}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      for (const client of clients) client.disconnect();
    }
  }

  /** Stops every node (SIGKILL) and deletes their directories. */
  async destroy(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.destroy()));
  }
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

function redisCli(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', [...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`redis-cli ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}
