import { InvalidArgumentError, Option } from 'commander';
import { defaultAmqpUrl, topologyDefaults } from '@troupe/rabbitmq';
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
  new Option('--amqp <url>', 'RabbitMQ URL').env('TROUPE_AMQP_URL').default(defaultAmqpUrl, defaultAmqpUrl.replace(/:[^:@/]*@/, ':***@')),
  new Option('--shards <n>', 'number of shard queues (all workers and clients must agree)').env('TROUPE_SHARDS').default(topologyDefaults.shards).argParser(integer(1, 1024)),
  new Option('--prefix <name>', 'prefix of the queue and exchange names').env('TROUPE_PREFIX').default(topologyDefaults.prefix),
];

export const appOption = () =>
  new Option('--app <module>', 'app exporting actor definitions: a package name, a module file or an app folder (its package.json exports/main)').env('TROUPE_APP').default(defaultApp);

export const redisPrefixOption = () => new Option('--redis-prefix <name>', 'key prefix in Redis').env('TROUPE_REDIS_PREFIX').default('troupe');

export interface BusFlags {
  readonly amqp: string;
  readonly shards: number;
  readonly prefix: string;
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
