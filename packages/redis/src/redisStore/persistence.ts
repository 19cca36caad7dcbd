import type { Cluster, Redis } from 'ioredis';
import type { CommandRunner } from './errorMapping.js';

/**
 * How well a server's data survives a restart: `aof` (an append-only file: at most about a second,
 * or nothing with `appendfsync always`), `rdb-only` (everything since the last RDB snapshot),
 * `none` (a restart comes back empty), `unknown` (no AOF, and CONFIG is not allowed, so whether
 * RDB snapshots are configured cannot be read).
 */
export type PersistenceProtection = 'aof' | 'rdb-only' | 'none' | 'unknown';

/** The persistence settings of one server (each master of a Cluster). */
export interface NodePersistence {
  /** `host:port` of the server. */
  readonly node: string;
  /** `appendonly yes`. */
  readonly aof: boolean;
  /** RDB snapshots configured (`save` not empty); undefined when CONFIG is not allowed. */
  readonly rdb: boolean | undefined;
  /** `appendfsync` (always, everysec, no); undefined when CONFIG is not allowed. */
  readonly appendfsync: string | undefined;
  readonly protection: PersistenceProtection;
  /** Where the settings were read: `CONFIG GET`, or `INFO persistence` when CONFIG is disabled or not permitted. */
  readonly source: 'config' | 'info';
}

/** What `RedisStore.persistence()` reports: the weakest master decides the top-level fields. */
export interface PersistenceReport {
  /** Every master has `appendonly yes`. */
  readonly aof: boolean;
  /** Every master has RDB snapshots (true), one has none (false), or unknown on one (undefined). */
  readonly rdb: boolean | undefined;
  /** The weakest master's protection (none < unknown < rdb-only < aof). */
  readonly protection: PersistenceProtection;
  /** Every master's settings. */
  readonly nodes: readonly NodePersistence[];
}

const strength: Record<PersistenceProtection, number> = { none: 0, unknown: 1, 'rdb-only': 2, aof: 3 };

/**
 * Reads the persistence settings of the server, or of every master of a Cluster: `CONFIG GET
 * appendonly`, `save` and `appendfsync`, or, where CONFIG is renamed away or not permitted by the
 * ACL, `INFO persistence` (which tells `aof_enabled` but not whether RDB snapshots are configured).
 */
export async function readPersistence(client: Redis | Cluster, runner: CommandRunner): Promise<PersistenceReport> {
  const masters = 'isCluster' in client && client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
  const nodes = await Promise.all(masters.map((node) => runner.run(() => readNode(node))));
  const weakest = nodes.reduce<PersistenceProtection>((min, node) => (strength[node.protection] < strength[min] ? node.protection : min), 'aof');
  return {
    aof: nodes.every((node) => node.aof),
    rdb: nodes.some((node) => node.rdb === false) ? false : nodes.every((node) => node.rdb === true) ? true : undefined,
    protection: nodes.length === 0 ? 'unknown' : weakest,
    nodes,
  };
}

async function readNode(node: Redis): Promise<NodePersistence> {
  const name = `${node.options.host ?? '127.0.0.1'}:${node.options.port ?? 6379}`;
  try {
    // One parameter per CONFIG GET: Redis before 7 takes one.
    const [appendonly, save, appendfsync] = await Promise.all(['appendonly', 'save', 'appendfsync'].map(async (parameter) => ((await node.config('GET', parameter)) as string[])[1]));
    if (appendonly === undefined) throw new Error('CONFIG GET appendonly returned nothing');
    const aof = appendonly === 'yes';
    const rdb = (save ?? '').trim() !== '';
    return { node: name, aof, rdb, appendfsync, protection: aof ? 'aof' : rdb ? 'rdb-only' : 'none', source: 'config' };
  } catch (error) {
    if (!/unknown command|NOPERM|no permissions|CONFIG GET returned nothing|returned nothing/i.test((error as Error).message)) throw error;
  }
  const info = await node.info('persistence');
  const aof = /^aof_enabled:1\r?$/m.test(info);
  return { node: name, aof, rdb: undefined, appendfsync: undefined, protection: aof ? 'aof' : 'unknown', source: 'info' };
}
