import { redactUrl } from '@troupe/runtime/store';
import { CorruptDataError, StoreUnavailableError } from '@troupe/runtime/store';
import type { Cluster, Redis } from 'ioredis';
import { StoreAuthenticationError, type StoreDataLostError } from '../errors/index.js';
import { KeySchema } from './keySchema.js';

/** Keys a command reaches, for error reports only: a list, or a function that makes it when needed. */
export type KeysOfCommand = readonly string[] | (() => readonly string[]);

/**
 * Runs Redis commands for a store and maps their failures to troupe's errors: connection
 * failures and "not now" replies become `StoreUnavailableError` naming the server; a WRONGTYPE
 * reply (foreign data under troupe's keys) becomes `CorruptDataError` naming the offending key;
 * WRONGPASS / NOAUTH (credentials refused) become `StoreAuthenticationError`.
 * Anything else (a bug, a script error) is rethrown as it is. Once the store knows its Redis lost
 * the data (`lost`, see storeIdentity.ts), every command rejects with that error without running.
 */
export class CommandRunner {
  /** Set when the Redis lost the store's data: every later command rejects with it. */
  lost: StoreDataLostError | undefined;
  /** When the Cluster's slot map was last asked to refresh (see `map`). */
  private slotsRefreshedAt = 0;

  constructor(
    private readonly client: Redis | Cluster,
    /** Names the server in errors (credentials redacted). */
    readonly endpoint: string,
    /** Named when a WRONGTYPE reply cannot be pinned on a key. */
    private readonly prefix: string,
  ) {}

  /** Runs a command; `keys` are those it touches, searched for the foreign one after WRONGTYPE. */
  run<T>(command: () => Promise<T>, keys: KeysOfCommand = []): Promise<T> {
    if (this.lost) return Promise.reject(this.lost);
    return this.runEvenIfLost(command, keys);
  }

  /**
   * `run`, also after the store learned its Redis lost the data: for `destroy()`, which deletes
   * every key of the prefix and is how a lost store starts over.
   */
  async runEvenIfLost<T>(command: () => Promise<T>, keys: KeysOfCommand = []): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw await this.map(error, keys);
    }
  }

  /** The troupe error for a failed command (or the error itself when it is not Redis's). */
  async map(error: unknown, keys: KeysOfCommand = []): Promise<unknown> {
    if (isAuthenticationError(error)) return new StoreAuthenticationError(this.endpoint, redactUrl((error as Error).message), error);
    if (isConnectionError(error)) {
      this.refreshSlots();
      return new StoreUnavailableError(this.endpoint, redactUrl((error as Error).message), error);
    }
    if (error instanceof Error && /WRONGTYPE/.test(error.message)) return this.wrongTypeError(typeof keys === 'function' ? keys() : keys, error);
    return error;
  }

  /**
   * On a Cluster, a connection error may mean a master died and a replica took over: ioredis
   * learns the new master from a MOVED reply or a slot map refresh, but a command sent to the dead
   * master's closed connection fails without either (ioredis refreshes only on "Connection is
   * closed", not when the offline queue is off), so the store would keep failing until something
   * else refreshed it. Ask for a refresh, at most every `slotsRefreshEveryMs`: callers retrying
   * with backoff then reach the promoted replica as soon as the Cluster names it.
   */
  private refreshSlots(): void {
    const client = this.client as Cluster;
    if (!('isCluster' in client) || !client.isCluster || client.status !== 'ready') return;
    const now = Date.now();
    if (now - this.slotsRefreshedAt < slotsRefreshEveryMs) return;
    this.slotsRefreshedAt = now;
    client.refreshSlotsCache(() => {});
  }

  private async wrongTypeError(keys: readonly string[], error: Error): Promise<CorruptDataError> {
    const unique = [...new Set(keys)];
    const types = await Promise.all(unique.map((key) => this.client.type(key).catch(() => 'unknown')));
    const foreign = unique.filter((key, i) => types[i] !== 'none' && types[i] !== KeySchema.expectedTypeOf(key));
    if (foreign.length === 0) {
      return new CorruptDataError(unique.join(', ') || this.prefix, `a key holds another type of value than troupe writes there (${error.message})`, error);
    }
    const detail = foreign.map((key) => `${foreign.length > 1 ? `${key} ` : ''}holds a ${types[unique.indexOf(key)]} where troupe keeps a ${KeySchema.expectedTypeOf(key)}`);
    return new CorruptDataError(foreign.join(', '), `${detail.join('; ')} (${error.message})`, error);
  }
}

/** Least time between two slot map refreshes a connection error asks for. */
const slotsRefreshEveryMs = 250;

const connectionErrorPatterns = [
  /Stream isn't writeable/i,
  /Connection is closed/i,
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|EPIPE/,
  /Command timed out/i,
  // A pipeline (a write and its WAIT) cut by a closed connection: its outcome is unknown.
  /Command aborted due to connection close/i,
  /Reached the max retries per request limit/i,
  /Failed to refresh slots cache|Cluster(AllFailed| isn't ready)/i,
  // ioredis gave up redirecting (CLUSTERDOWN, TRYAGAIN, MOVED in a loop during a failover).
  /Too many Cluster redirections/i,
  /None of startup nodes is available/i,
  // Server replies that mean "not now" (loading a dump, a replica or a failing-over master, a
  // script running too long, out of memory, a resharding or failing cluster): retry later.
  /(^|ReplyError )(LOADING|READONLY|BUSY|OOM|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|NOREPLICAS) /,
  // A slot moved (resharding, a failover) and redirections ran out: the command did not run.
  /(^|ReplyError )(MOVED|ASK) \d+ /,
];

/** True for an error that means "Redis cannot be reached or cannot serve now" rather than "this request is wrong". */
export function isConnectionError(error: unknown): boolean {
  const message = error instanceof Error ? `${error.name} ${error.message}` : String(error);
  return connectionErrorPatterns.some((pattern) => pattern.test(message));
}

/** True for Redis refusing the credentials: WRONGPASS (wrong password or user), NOAUTH (none given). */
export function isAuthenticationError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /^(WRONGPASS|NOAUTH)\b|invalid username-password pair|Authentication required/i.test(message);
}

/** How errors name the server of a client built elsewhere: `redis://host:port/db` or the Cluster's masters. */
export function describeEndpoint(client: Redis | Cluster): string {
  if ('isCluster' in client && client.isCluster) {
    const nodes = (client as Cluster).nodes('master').map((n) => `${n.options.host ?? '127.0.0.1'}:${n.options.port ?? 6379}`);
    return `redis cluster ${nodes.join(',') || '(not connected)'}`;
  }
  const options = (client as Redis).options;
  return `redis://${options.host ?? '127.0.0.1'}:${options.port ?? 6379}/${options.db ?? 0}`;
}
