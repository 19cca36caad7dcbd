import { execFile } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, RedisServer } from './redisServer.js';

export interface RedisClusterOptions {
  /** Number of masters. Default 3. */
  readonly masters?: number;
  /** Replicas of each master (`redis-cli --cluster create --cluster-replicas`). Default 0. */
  readonly replicas?: number;
  /** `cluster-node-timeout`: how long a master must be unreachable before its replica takes over, ms. Default 2,000. */
  readonly nodeTimeoutMs?: number;
  /** `requirepass` (and `masterauth`) of every node; the helper's own connections use it too. Default: none. */
  readonly password?: string;
  /** Extra redis-server arguments for every node. */
  readonly args?: readonly string[];
}

/** One node as `CLUSTER NODES` describes it. */
export interface ClusterNodeInfo {
  readonly port: number;
  /** The cluster bus port (`--cluster-port`). */
  readonly busPort: number;
  readonly id: string;
  readonly role: 'master' | 'replica';
  /** The master's id, for a replica. */
  readonly masterId: string | undefined;
  /** The node is marked failing (`fail` or `fail?`). */
  readonly failing: boolean;
  /** Slot ranges served, for a master: [from, to] pairs. */
  readonly slots: readonly (readonly [number, number])[];
}

/**
 * A throw-away Redis Cluster on 127.0.0.1 for tests: `masters` redis-servers (default 3), each
 * with `replicas` replicas (default 0), joined with `redis-cli --cluster create`. Each node has its
 * own directory and an explicit cluster bus port (`--cluster-port`, Redis 7+), because the default
 * bus port (port + 10000) of a random free port can be taken or above 65535. `destroy()` stops
 * every node and deletes its files. With replicas, `start` also waits until every replica is in
 * sync with its master, so a master killed right after can fail over.
 */
export class RedisCluster {
  private constructor(
    readonly servers: readonly RedisServer[],
    /** Replicas of each master asked for at start. */
    readonly replicasPerMaster = 0,
    private readonly password: string | undefined = undefined,
  ) {}

  /** A connection of the helper itself to one node. */
  private connection(port: number): Redis {
    return new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1, ...(this.password === undefined ? {} : { password: this.password }) });
  }

  /** Startup nodes as '127.0.0.1:port', for `connectRedisStore({ cluster: nodes })`. */
  get nodes(): string[] {
    return this.servers.map((server) => `127.0.0.1:${server.port}`);
  }

  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const replicas = options.replicas ?? 0;
    const count = (options.masters ?? 3) * (1 + replicas);
    const ports = await distinctFreePorts(count * 2);
    const started = await Promise.allSettled(
      Array.from({ length: count }, (_, i) =>
        RedisServer.start({
          port: ports[i]!,
          args: [
            '--cluster-enabled', 'yes',
            '--cluster-config-file', 'nodes.conf',
            '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 2_000),
            '--cluster-port', String(ports[count + i]!),
            ...(options.password === undefined ? [] : ['--requirepass', options.password, '--masterauth', options.password]),
            ...(options.args ?? []),
          ],
        }),
      ),
    );
    const servers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const cluster = new RedisCluster(servers, replicas, options.password);
    try {
      const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) throw failed.reason;
      const auth = options.password === undefined ? [] : ['-a', options.password, '--no-auth-warning'];
      await redisCli([...auth, '--cluster', 'create', ...cluster.nodes, '--cluster-replicas', String(replicas), '--cluster-yes']);
      await cluster.waitUntilOk(15_000);
      if (replicas > 0) await cluster.waitUntilReplicasInSync(15_000);
      return cluster;
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
  }

  /** The servers still running (a test may have killed some). */
  get running(): RedisServer[] {
    return this.servers.filter((server) => server.running);
  }

  /** Every node as a running node sees it (`CLUSTER NODES` of the first running node that answers). */
  async describe(): Promise<ClusterNodeInfo[]> {
    let lastError: unknown = new Error('no node of the Redis Cluster is running');
    for (const server of this.running) {
      try {
        return await this.describeFrom(server);
      } catch (error) {
        lastError = error; // e.g. LOADING on a replica that is syncing: ask another node
      }
    }
    throw lastError;
  }

  private async describeFrom(server: RedisServer): Promise<ClusterNodeInfo[]> {
    const client = this.connection(server.port);
    client.on('error', () => {});
    try {
      await client.connect();
      const text = (await client.cluster('NODES')) as string;
      return text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => {
          // <id> <ip:port@cport> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot> ...
          const [id, address, flags, master, , , , , ...slots] = line.split(' ');
          const flagList = flags!.split(',');
          return {
            id: id!,
            port: Number(/:(\d+)@/.exec(address!)![1]),
            busPort: Number(/@(\d+)/.exec(address!)![1]),
            role: flagList.includes('master') ? 'master' : 'replica',
            masterId: master === '-' ? undefined : master,
            failing: flagList.includes('fail') || flagList.includes('fail?'),
            slots: slots
              .filter((slot) => /^\d/.test(slot))
              .map((slot) => {
                const [from, to] = slot.split('-').map(Number);
                return [from!, to ?? from!] as const;
              }),
          } satisfies ClusterNodeInfo;
        });
    } finally {
      client.disconnect();
    }
  }

  /** The running server that serves `slot` as master. */
  async masterOf(slot: number): Promise<RedisServer> {
    const node = (await this.describe()).find((n) => n.role === 'master' && !n.failing && n.slots.some(([from, to]) => slot >= from && slot <= to));
    const server = node && this.servers.find((s) => s.port === node.port);
    if (!server) throw new Error(`no running master serves slot ${slot}`);
    return server;
  }

  /**
   * Waits until a running master other than the one on `port` serves `slot` (a replica was
   * promoted after that master died) and every running node reports the cluster ok again; returns
   * the new master.
   */
  async waitForFailover(slot: number, port: number, timeoutMs = 20_000): Promise<RedisServer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const master = await this.masterOf(slot).catch(() => undefined);
      if (master && master.port !== port && master.running) {
        await this.waitUntilOk(Math.max(1, deadline - Date.now()));
        return master;
      }
      if (Date.now() > deadline) throw new Error(`Redis Cluster ${this.nodes.join(',')}: slot ${slot} not failed over from ${port} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * Brings a killed node back the way an operator replaces a failed master: a fresh node on the
   * same port (its directory emptied, so no old `nodes.conf` makes it claim its former slots),
   * the old node id forgotten by every running node, then `CLUSTER MEET` and `CLUSTER REPLICATE`
   * of the master that took over `slot`. Restarting it with its old `nodes.conf` and no data
   * would let it serve its former slots, empty, until it learns of the failover.
   */
  async rejoinAsReplica(server: RedisServer, slot: number): Promise<void> {
    if (server.running) throw new Error(`node ${server.port} is running: kill it first`);
    const nodes = await this.describe();
    const old = nodes.find((node) => node.port === server.port);
    const master = await this.masterOf(slot);
    const masterId = nodes.find((node) => node.port === master.port)!.id;
    const clients = this.running.map((s) => this.connection(s.port));
    try {
      await Promise.all(clients.map((client) => client.connect()));
      if (old) await Promise.all(clients.map((client) => client.cluster('FORGET', old.id).catch(() => undefined)));
    } finally {
      for (const client of clients) client.disconnect();
    }
    for (const name of readdirSync(server.dir)) rmSync(join(server.dir, name), { recursive: true, force: true });
    await server.boot();
    const fresh = this.connection(server.port);
    const meeting = this.connection(master.port);
    try {
      await Promise.all([fresh.connect(), meeting.connect()]);
      const freshBusPort = old?.busPort ?? Number(/@(\d+)/.exec((await fresh.cluster('NODES')) as string)![1]);
      // A member meets the new node (the bus port too: it is not port + 10000 here, see the class comment).
      await meeting.call('CLUSTER', 'MEET', '127.0.0.1', String(server.port), String(freshBusPort));
      const deadline = Date.now() + 15_000;
      for (;;) {
        try {
          await fresh.cluster('REPLICATE', masterId);
          break;
        } catch (error) {
          // "Unknown node": the handshake of MEET is not done yet.
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    } finally {
      fresh.disconnect();
      meeting.disconnect();
    }
  }

  /**
   * Waits until every master serving slots has `replicasPerMaster` replicas (after `--cluster
   * create`, replicas show up as such only once the cluster gossiped it, a second or two) and
   * every replica reports `master_link_status:up` (a full sync done).
   */
  async waitUntilReplicasInSync(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const nodes = await this.describe();
      const replicas = nodes.filter((n) => n.role === 'replica' && !n.failing);
      const masters = nodes.filter((n) => n.role === 'master' && !n.failing && n.slots.length > 0);
      const complete = masters.every((master) => replicas.filter((r) => r.masterId === master.id).length >= this.replicasPerMaster);
      const states = await Promise.all(
        replicas.map(async (node) => {
          const client = this.connection(node.port);
          try {
            await client.connect();
            return /^master_link_status:up\r?$/m.test(await client.info('replication'));
          } catch {
            return false;
          } finally {
            client.disconnect();
          }
        }),
      );
      if (complete && states.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error(`Redis Cluster ${this.nodes.join(',')}: replicas not in sync after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Waits until every running node reports `cluster_state:ok` (all slots covered, nodes agree; after a failover too). */
  async waitUntilOk(timeoutMs = 15_000): Promise<void> {
    const clients = this.running.map((server) => this.connection(server.port));
    try {
      await Promise.all(clients.map((client) => client.connect()));
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        // A node that cannot answer yet (LOADING after a full sync, restarting) is not ok yet.
        const infos = await Promise.all(clients.map((client) => (client.cluster('INFO') as Promise<string>).catch((error: Error) => `error: ${error.message}`)));
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
