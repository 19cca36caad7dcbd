import { type RedisStore, connectRedisStore } from '@troupe/redis';
import { RedisServer } from '@troupe/redis/testing';
import { TroupeProcess } from './troupeProcess.js';

export interface RegionOptions {
  /** The region id: its workers' `--replica`, its replicator's `--region`. */
  readonly id: string;
  /** Queue prefix on the shared RabbitMQ (one per region: each region has its own bus). */
  readonly queuePrefix: string;
  /** Key prefix in the region's own Redis. */
  readonly redisPrefix: string;
  readonly amqpUrl: string;
  readonly shards: number;
  /** Start the region's redis-server with AOF on, so a restart keeps its data (faults that restart it). Default false. */
  readonly appendOnly?: boolean;
  /** Extra flags for every `troupe replicate` of this region (backoff, batch size...). */
  readonly replicateFlags?: readonly string[];
}

/** A source region as a replicator reaches it: its id and the URL it is read through (a link proxy). */
export interface SourceAddress {
  readonly id: string;
  readonly url: string;
  readonly prefix: string;
}

/**
 * One region: its own throw-away redis-server, its own queue prefix on the shared RabbitMQ, its
 * `troupe worker` processes and its `troupe replicate` process (all real child processes).
 */
export class Region {
  readonly workers: TroupeProcess[] = [];
  /** Every replicate process started for this region, the current one last. */
  readonly replicates: TroupeProcess[] = [];
  private store: RedisStore | undefined;
  private workerCount = 0;

  private constructor(
    readonly options: RegionOptions,
    readonly server: RedisServer,
  ) {}

  static async start(options: RegionOptions): Promise<Region> {
    const server = await RedisServer.start(options.appendOnly ? { args: ['--appendonly', 'yes', '--appendfsync', 'always'] } : {});
    return new Region(options, server);
  }

  get id(): string {
    return this.options.id;
  }

  /** The region's Redis, reached directly (not through a link proxy): what its workers and replicator write to. */
  get redisUrl(): string {
    return this.server.url;
  }

  get replicate(): TroupeProcess | undefined {
    return this.replicates.at(-1);
  }

  /** Workers still running. */
  get liveWorkers(): TroupeProcess[] {
    return this.workers.filter((w) => w.running);
  }

  /** Starts one more `troupe worker` and resolves once it logged "worker started". */
  async startWorker(): Promise<TroupeProcess> {
    const { id, queuePrefix, redisPrefix, amqpUrl, shards } = this.options;
    const worker = TroupeProcess.start(`${id}/worker-${++this.workerCount}`, [
      'worker',
      '--app', '@troupe/bank',
      '--redis', this.redisUrl,
      '--redis-prefix', redisPrefix,
      '--replica', id,
      '--prefix', queuePrefix,
      '--shards', String(shards),
      '--amqp', amqpUrl,
      '--allow-volatile-store',
      '--no-metrics',
      '--log-level', 'info',
    ]);
    this.workers.push(worker);
    await worker.waitForLog('"worker started"', (l) => l.msg === 'worker started', 60_000);
    return worker;
  }

  /** The `troupe replicate` arguments for these sources (for a run that is expected to refuse too). */
  replicateArgs(sources: readonly SourceAddress[], extra: readonly string[] = []): string[] {
    const { id, redisPrefix } = this.options;
    return [
      'replicate',
      '--app', '@troupe/bank',
      '--region', id,
      '--redis', this.redisUrl,
      '--redis-prefix', redisPrefix,
      ...sources.flatMap((s) => ['--source', `${s.id}=${s.url}#${s.prefix}`]),
      '--allow-volatile-store',
      '--metrics-port', '0',
      '--log-level', 'info',
      ...(this.options.replicateFlags ?? []),
      ...extra,
    ];
  }

  /**
   * Starts `troupe replicate` for this region and resolves once it logged "replicating" (its
   * links started); rejects with its stderr if it exits first.
   */
  async startReplicate(sources: readonly SourceAddress[], extra: readonly string[] = []): Promise<TroupeProcess> {
    const replicate = TroupeProcess.start(`${this.id}/replicate-${this.replicates.length + 1}`, this.replicateArgs(sources, extra));
    this.replicates.push(replicate);
    await replicate.waitForLog('"replicating"', (l) => l.msg === 'replicating', 60_000);
    return replicate;
  }

  /** The URL of the current replicate process's /metrics (it listens on a free port). */
  async metricsUrl(): Promise<string> {
    const replicate = this.replicate;
    if (!replicate) throw new Error(`region ${this.id} has no replicate process`);
    const line = await replicate.waitForLog('"metrics"', (l) => l.msg === 'metrics', 30_000);
    return line.url as string;
  }

  /** A store on the region's Redis (direct), for the test's own reads; closed by `close`. */
  async connect(): Promise<RedisStore> {
    this.store ??= await connectRedisStore({ url: this.redisUrl, prefix: this.options.redisPrefix });
    return this.store;
  }

  /** Drops the test's own store connection (e.g. before its Redis restarts empty). */
  async disconnect(): Promise<void> {
    const store = this.store;
    this.store = undefined;
    await store?.close().catch(() => undefined);
  }

  /** Kills every process of the region, closes the test's connection and destroys the Redis server. */
  async close(): Promise<void> {
    await Promise.all([...this.workers, ...this.replicates].map((p) => p.kill('SIGKILL')));
    await this.disconnect();
    await this.server.destroy();
  }
}
