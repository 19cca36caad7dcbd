import { InvalidOptionError } from '@troupe/runtime';
import { type AmqpTls, checkTls, defaultAmqpUrl } from '../connection.js';
import type { TopologyOptions } from '../topology.js';
import type { Replicas } from '../protocol/replication.js';

/** Options of `connectBus`; every default is in `busDefaults` (topology: `topologyDefaults`). */
export interface BusOptions extends TopologyOptions {
  /** `amqp://user:pass@host:port/vhost`. Default amqp://guest:guest@127.0.0.1:5672. */
  readonly url?: string;
  /** Default time to wait for a reply, ms. Default 30,000. */
  readonly timeoutMs?: number;
  /** Largest encoded command accepted, bytes; larger ones fail before publishing. Default 1 MiB. */
  readonly commandBytesMax?: number;
  /** Connection attempts retried before `connectBus` gives up. Default 0 (fail fast). */
  readonly connectRetriesMax?: number;
  /**
   * TLS material for an `amqps://` URL: CA, client certificate and key (PEM). Default: none. With
   * an `amqp://` URL it is refused (InvalidOptionError naming `tls`), never silently ignored.
   */
  readonly tls?: AmqpTls;
}

/** Every default of `BusOptions` (the topology's are in `topologyDefaults`). */
export const busDefaults = { url: defaultAmqpUrl, timeoutMs: 30_000, commandBytesMax: 1 << 20, connectRetriesMax: 0 } as const;

/** Options of one `bus.send`. */
export interface SendOptions {
  /** Time to wait for the reply, ms. Default: the bus's `timeoutMs`. */
  readonly timeoutMs?: number;
  /** Idempotency key (same as `command.commandId`): retry with it after a timeout. */
  readonly commandId?: string;
  /**
   * Reply only once this many regions (this one included) hold the command's pack, or 'all' the
   * regions declared in the worker's store: 1..255 or 'all'. Default: reply as soon as the pack is
   * durable in this region. The accepted reply then carries `replication` (`confirmed`, `holding`,
   * `missing`); a wait that runs out answers accepted with `confirmed: false`, never a rejection.
   */
  readonly replicas?: Replicas;
  /**
   * How long the worker waits for `replicas`, ms (1..600,000, less than `timeoutMs`). Default: half
   * the reply's `timeoutMs` (15,000 with the bus's default), leaving the rest for queueing and
   * execution. Only with `replicas`.
   */
  readonly replicasTimeoutMs?: number;
}

/** Longest delay a Node timer accepts; a larger one fires at once. */
const timerDelayMaxMs = 2_147_483_647;

/** The bus's options with defaults applied and checked. */
export interface BusSettings {
  readonly url: string;
  readonly timeoutMs: number;
  readonly commandBytesMax: number;
  readonly connectRetriesMax: number;
  readonly tls: AmqpTls | undefined;
}

/** Checks a reply timeout (the bus's default or one send's). */
export function checkTimeout(option: string, timeoutMs: number): number {
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > timerDelayMaxMs) {
    throw new InvalidOptionError(option, `must be an integer in 1..${timerDelayMaxMs}, got ${timeoutMs}`);
  }
  return timeoutMs;
}

/** Applies the defaults; throws InvalidOptionError naming the first option out of range. */
export function busSettings(options: BusOptions): BusSettings {
  const commandBytesMax = options.commandBytesMax ?? busDefaults.commandBytesMax;
  if (!Number.isInteger(commandBytesMax) || commandBytesMax < 1) throw new InvalidOptionError('commandBytesMax', `must be a positive integer, got ${commandBytesMax}`);
  const connectRetriesMax = options.connectRetriesMax ?? busDefaults.connectRetriesMax;
  if (!Number.isInteger(connectRetriesMax) || connectRetriesMax < 0) throw new InvalidOptionError('connectRetriesMax', `must be an integer >= 0, got ${connectRetriesMax}`);
  const url = options.url ?? busDefaults.url;
  return {
    url,
    timeoutMs: checkTimeout('timeoutMs', options.timeoutMs ?? busDefaults.timeoutMs),
    commandBytesMax,
    connectRetriesMax,
    tls: checkTls(url, options.tls),
  };
}
