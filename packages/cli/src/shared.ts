import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option } from 'commander';
import type { ConnectOptions } from '@troupe/redis';
import { type AmqpTls, defaultAmqpUrl, topologyDefaults } from '@troupe/rabbitmq';
import { defaultApp } from './appModule.js';

/** Longest timer Node accepts (a larger delay fires at once). */
export const timeoutMaxMs = 2_147_483_647;

export function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer in ${min}..${max}, got '${value}'`);
    return n;
  };
}

/** Options every bus command shares. */
export const busOptions = () => [
  new Option('--amqp <url>', 'RabbitMQ URL (amqps:// for TLS)').env('TROUPE_AMQP_URL').default(defaultAmqpUrl, defaultAmqpUrl.replace(/:[^:@/]*@/, ':***@')),
  new Option('--shards <n>', 'number of shard queues (all workers and clients must agree)').env('TROUPE_SHARDS').default(topologyDefaults.shards).argParser(integer(1, 1024)),
  new Option('--prefix <name>', 'prefix of the queue and exchange names').env('TROUPE_PREFIX').default(topologyDefaults.prefix),
  new Option('--amqp-tls-ca <file>', 'CA certificate (PEM) to verify the broker with (amqps://)').env('TROUPE_AMQP_TLS_CA'),
  new Option('--amqp-tls-cert <file>', 'client certificate (PEM), for a broker that requires one (with --amqp-tls-key)').env('TROUPE_AMQP_TLS_CERT'),
  new Option('--amqp-tls-key <file>', 'private key (PEM) of --amqp-tls-cert').env('TROUPE_AMQP_TLS_KEY'),
];

/** The bus's connection options for the bus flags: URL and TLS material. */
export function busConnection(flags: BusFlags): { readonly url: string; readonly tls?: AmqpTls } {
  const tls = tlsFiles('amqp', flags.amqpTlsCa, flags.amqpTlsCert, flags.amqpTlsKey);
  return { url: flags.amqp, ...(tls ? { tls } : {}) };
}

export const appOption = () =>
  new Option('--app <module>', 'app exporting actor definitions: a package name, a module file or an app folder (its package.json exports/main)').env('TROUPE_APP').default(defaultApp);

export const redisPrefixOption = () => new Option('--redis-prefix <name>', 'key prefix in Redis').env('TROUPE_REDIS_PREFIX').default('troupe');

/** TLS to Redis: a `rediss://` URL, or any of these files, turns it on. */
export const redisTlsOptions = () => [
  new Option('--redis-tls-ca <file>', 'CA certificate (PEM) to verify the Redis server with; turns TLS on').env('TROUPE_REDIS_TLS_CA'),
  new Option('--redis-tls-cert <file>', 'client certificate (PEM), for a Redis that requires one (with --redis-tls-key)').env('TROUPE_REDIS_TLS_CERT'),
  new Option('--redis-tls-key <file>', 'private key (PEM) of --redis-tls-cert').env('TROUPE_REDIS_TLS_KEY'),
];

export interface RedisTlsFlags {
  readonly redisTlsCa?: string;
  readonly redisTlsCert?: string;
  readonly redisTlsKey?: string;
}

/** The store's connect options for the TLS flags (none given: none, a `rediss://` URL still uses TLS). */
export function redisTls(flags: RedisTlsFlags): Pick<ConnectOptions, 'redisOptions'> {
  const tls = tlsFiles('redis', flags.redisTlsCa, flags.redisTlsCert, flags.redisTlsKey);
  return tls ? { redisOptions: { tls } } : {};
}

/** The PEM files of `--<service>-tls-ca/-cert/-key`, read; undefined when none is given. */
function tlsFiles(service: string, ca: string | undefined, cert: string | undefined, key: string | undefined): { ca?: Buffer; cert?: Buffer; key?: Buffer } | undefined {
  if (ca === undefined && cert === undefined && key === undefined) return undefined;
  if ((cert === undefined) !== (key === undefined)) throw new CliError(`--${service}-tls-cert and --${service}-tls-key go together`);
  return {
    ...(ca === undefined ? {} : { ca: pemFile(`--${service}-tls-ca`, ca) }),
    ...(cert === undefined ? {} : { cert: pemFile(`--${service}-tls-cert`, cert) }),
    ...(key === undefined ? {} : { key: pemFile(`--${service}-tls-key`, key) }),
  };
}

function pemFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new CliError(`${flag} ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

export interface BusFlags {
  readonly amqp: string;
  readonly shards: number;
  readonly prefix: string;
  readonly amqpTlsCa?: string;
  readonly amqpTlsCert?: string;
  readonly amqpTlsKey?: string;
}

/** Prints values as JSON: vector clocks and states are plain data. */
export function json(value: unknown, pretty = true): string {
  return JSON.stringify(value, null, pretty ? 2 : undefined);
}

/** An error for the user: printed as one line, exit code 1. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** Exit code a command asks for (rejected send, failed load): one per `run`, so concurrent runs do not mix. */
export interface Outcome {
  exitCode: number;
}
