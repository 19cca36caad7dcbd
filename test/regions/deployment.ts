import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { deleteTopology, topology } from '@troupe/rabbitmq';
import { LinkProxy } from './linkProxy.js';
import { Region, type SourceAddress } from './region.js';
import type { TroupeProcess } from './troupeProcess.js';

export const defaultAmqpUrl = 'amqp://guest:guest@127.0.0.1:5672';

export interface DeploymentOptions {
  /** Region ids, e.g. ['eu', 'us', 'ap']. */
  readonly regions: readonly string[];
  /** `troupe worker` processes per region. Default 2. */
  readonly workersPerRegion?: number;
  /** Start a `troupe replicate` per region. Default true. */
  readonly replicate?: boolean;
  /** Shard queues per region. Default 4. */
  readonly shards?: number;
  readonly amqpUrl?: string;
  /** Regions whose redis-server keeps an AOF (survives a restart). Default none. */
  readonly appendOnly?: readonly string[];
  /**
   * Extra flags for every `troupe replicate`. Default: short waits, so a test sees a healed link
   * come back in well under a second (`--idle-ms 100 --backoff-initial-ms 100 --backoff-max-ms 1000`).
   */
  readonly replicateFlags?: readonly string[];
}

/** Flags the harness gives every replicator unless told otherwise. */
export const quickReplicateFlags = ['--idle-ms', '100', '--backoff-initial-ms', '100', '--backoff-max-ms', '1000'] as const;

/**
 * Several regions on this machine, as deployed for real but small: each its own Redis, queue
 * prefix, workers and replicator; every replication link (reader X copying source S) goes through
 * its own TCP proxy (`link(X, S)`), so a partition is a real network cut, one way or both.
 * `close()` tears everything down (processes, proxies, servers, queues, files) and never throws;
 * call it in `afterAll`/`finally` whatever happened.
 */
export class Deployment {
  readonly runId = randomUUID().slice(0, 8);
  readonly regions = new Map<string, Region>();
  private readonly proxies = new Map<string, LinkProxy>();
  private readonly dir = mkdtempSync(join(tmpdir(), 'troupe-regions-'));
  /** A regions file naming every region's Redis directly (for `troupe status` and `troupe inspect`). */
  readonly regionsFile = join(this.dir, 'regions.json');
  readonly redisPrefix = 'troupe';
  readonly amqpUrl: string;
  readonly shards: number;

  private constructor(readonly options: DeploymentOptions) {
    this.amqpUrl = options.amqpUrl ?? defaultAmqpUrl;
    this.shards = options.shards ?? 4;
  }

  /** Starts every region (servers, proxies, workers, replicators). On a failure, tears down what started and rethrows. */
  static async start(options: DeploymentOptions): Promise<Deployment> {
    const deployment = new Deployment(options);
    try {
      await deployment.boot();
    } catch (error) {
      await deployment.close();
      throw error;
    }
    return deployment;
  }

  get ids(): string[] {
    return [...this.regions.keys()];
  }

  region(id: string): Region {
    const region = this.regions.get(id);
    if (!region) throw new Error(`no region ${id} (regions: ${this.ids.join(', ')})`);
    return region;
  }

  /** The proxy region `reader` reads `source` through. */
  link(reader: string, source: string): LinkProxy {
    const proxy = this.proxies.get(`${reader}<-${source}`);
    if (!proxy) throw new Error(`no link ${reader}<-${source}`);
    return proxy;
  }

  /** Cuts one direction: `reader` can no longer read `source` (source may still read reader). */
  cut(reader: string, source: string): void {
    this.link(reader, source).cut();
  }

  /** Cuts both ways between every region of `a` and every region of `b`. */
  partition(a: readonly string[], b: readonly string[]): void {
    for (const x of a) {
      for (const y of b) {
        this.cut(x, y);
        this.cut(y, x);
      }
    }
  }

  /** Restores every link. */
  heal(): void {
    for (const proxy of this.proxies.values()) proxy.restore();
  }

  /** The links cut now, as `reader<-source`. */
  get cutLinks(): string[] {
    return [...this.proxies.values()].filter((p) => p.isCut).map((p) => p.name);
  }

  /** The other regions as `reader` reaches them: each through its dedicated proxy. */
  sourcesOf(reader: string): SourceAddress[] {
    return this.ids.filter((id) => id !== reader).map((id) => ({ id, url: `redis://127.0.0.1:${this.link(reader, id).port}`, prefix: this.redisPrefix }));
  }

  /** Starts (or restarts) region `id`'s replicator, reading every other region through its proxies. */
  startReplicate(id: string, extra: readonly string[] = []): Promise<TroupeProcess> {
    return this.region(id).startReplicate(this.sourcesOf(id), extra);
  }

  /** Every long-running process, for reports. */
  get processes(): TroupeProcess[] {
    return [...this.regions.values()].flatMap((r) => [...r.workers, ...r.replicates]);
  }

  /** Tears down everything; collects failures instead of throwing, and returns them. */
  async close(): Promise<string[]> {
    const problems: string[] = [];
    const attempt = async (what: string, step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (error) {
        problems.push(`${what}: ${(error as Error).message}`);
      }
    };
    await Promise.all([...this.regions.values()].map((region) => attempt(`region ${region.id}`, () => region.close())));
    await Promise.all([...this.proxies.values()].map((proxy) => attempt(`proxy ${proxy.name}`, () => proxy.close())));
    // Queues exist once a worker declared them; a deployment without workers never touched the broker.
    if ([...this.regions.values()].some((r) => r.workers.length > 0)) await attempt('queues', () => this.deleteQueues());
    await attempt('files', async () => rmSync(this.dir, { recursive: true, force: true }));
    return problems;
  }

  private async boot(): Promise<void> {
    const ids = this.options.regions;
    if (new Set(ids).size !== ids.length || ids.length < 2) throw new Error(`need two or more distinct region ids, got ${ids.join(', ')}`);
    await Promise.all(
      ids.map(async (id) => {
        const region = await Region.start({
          id,
          queuePrefix: this.queuePrefix(id),
          redisPrefix: this.redisPrefix,
          amqpUrl: this.amqpUrl,
          shards: this.shards,
          appendOnly: this.options.appendOnly?.includes(id) ?? false,
          replicateFlags: this.options.replicateFlags ?? quickReplicateFlags,
        });
        this.regions.set(id, region);
      }),
    );
    // Keep the order the caller gave (the Map was filled as servers came up).
    const started = new Map(this.regions);
    this.regions.clear();
    for (const id of ids) this.regions.set(id, started.get(id)!);
    for (const reader of ids) {
      for (const source of ids) {
        if (reader !== source) this.proxies.set(`${reader}<-${source}`, await LinkProxy.start(`${reader}<-${source}`, this.region(source).server.port));
      }
    }
    writeFileSync(
      this.regionsFile,
      JSON.stringify({ prefix: this.redisPrefix, regions: Object.fromEntries(ids.map((id) => [id, { redis: this.region(id).redisUrl }])) }, null, 2),
    );
    const workers = this.options.workersPerRegion ?? 2;
    // One process at a time: each loads the CLI and the app, and the machine has two cores.
    for (const id of ids) for (let i = 0; i < workers; i++) await this.region(id).startWorker();
    if (this.options.replicate ?? true) for (const id of ids) await this.startReplicate(id);
  }

  queuePrefix(id: string): string {
    return `regions-${this.runId}-${id}`;
  }

  private async deleteQueues(): Promise<void> {
    const connection = await amqp.connect(this.amqpUrl);
    connection.on('error', () => undefined);
    try {
      for (const id of this.regions.keys()) {
        const channel = await connection.createChannel();
        channel.on('error', () => undefined);
        await deleteTopology(channel, topology({ prefix: this.queuePrefix(id), shards: this.shards }));
        await channel.close().catch(() => undefined);
      }
    } finally {
      await connection.close().catch(() => undefined);
    }
  }
}
