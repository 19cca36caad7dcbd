import { readFileSync } from 'node:fs';
import { VC, redactUrl } from '@troupe/runtime/store';
import { CliError } from './shared.js';

/** Where one region's store lives. */
export interface RegionEndpoint {
  readonly id: string;
  readonly redis: string;
  readonly prefix: string;
}

/** The regions of a deployment: this one first, then every other. */
export interface RegionsConfig {
  readonly here: RegionEndpoint;
  readonly others: readonly RegionEndpoint[];
}

const fileKeys = ['prefix', 'regions'] as const;
const regionKeys = ['redis', 'prefix'] as const;

/**
 * A regions file: JSON, every region of the deployment with its Redis URL (and key prefix; the
 * file's `prefix` is the default). Unknown keys are refused, so a typo is an error, not a region
 * silently left out:
 *
 * ```json
 * { "prefix": "troupe",
 *   "regions": { "eu": { "redis": "redis://eu-redis:6379" }, "us": { "redis": "redis://us-redis:6379" } } }
 * ```
 */
export function parseRegionsFile(path: string, text: string, defaultPrefix: string): RegionEndpoint[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError(`regions file ${path}: not JSON (${(error as Error).message})`);
  }
  if (!isObject(value)) throw new CliError(`regions file ${path}: expected an object with "regions"`);
  const unknown = Object.keys(value).filter((key) => !(fileKeys as readonly string[]).includes(key));
  if (unknown.length > 0) throw new CliError(`regions file ${path}: unknown key ${unknown.map((k) => `"${k}"`).join(', ')} (known: ${fileKeys.join(', ')})`);
  const prefix = value.prefix ?? defaultPrefix;
  if (typeof prefix !== 'string' || prefix === '') throw new CliError(`regions file ${path}: "prefix" must be a non-empty string`);
  const regions = value.regions;
  if (!isObject(regions) || Object.keys(regions).length === 0) throw new CliError(`regions file ${path}: "regions" must be an object naming at least one region`);
  return Object.entries(regions).map(([id, region]) => {
    const where = `regions file ${path}: region "${id}"`;
    if (!VC.isValidReplicaId(id)) throw new CliError(`${where}: a region id is 1-64 characters of [A-Za-z0-9_.-] (it is the replica id its workers write as)`);
    if (!isObject(region)) throw new CliError(`${where}: expected an object with "redis"`);
    const bad = Object.keys(region).filter((key) => !(regionKeys as readonly string[]).includes(key));
    if (bad.length > 0) throw new CliError(`${where}: unknown key ${bad.map((k) => `"${k}"`).join(', ')} (known: ${regionKeys.join(', ')})`);
    if (typeof region.redis !== 'string' || !/^rediss?:\/\//.test(region.redis)) throw new CliError(`${where}: "redis" must be a redis:// or rediss:// URL`);
    const regionPrefix = region.prefix ?? prefix;
    if (typeof regionPrefix !== 'string' || regionPrefix === '') throw new CliError(`${where}: "prefix" must be a non-empty string`);
    return { id, redis: region.redis, prefix: regionPrefix };
  });
}

/** `--source us=redis://host:6379` (the prefix is `--redis-prefix`'s unless written `us=redis://…#prefix`). */
export function parseSource(flag: string, defaultPrefix: string): RegionEndpoint {
  const eq = flag.indexOf('=');
  if (eq <= 0) throw new CliError(`--source ${flag}: expected <region>=<redis url>, e.g. us=redis://10.0.0.2:6379`);
  const id = flag.slice(0, eq);
  let redis = flag.slice(eq + 1);
  let prefix = defaultPrefix;
  const hash = redis.lastIndexOf('#');
  if (hash >= 0) {
    prefix = redis.slice(hash + 1);
    redis = redis.slice(0, hash);
  }
  if (!VC.isValidReplicaId(id)) throw new CliError(`--source ${flag}: region id '${id}' must be 1-64 characters of [A-Za-z0-9_.-]`);
  if (!/^rediss?:\/\//.test(redis)) throw new CliError(`--source ${flag}: '${redis}' is not a redis:// or rediss:// URL`);
  if (prefix === '') throw new CliError(`--source ${flag}: empty prefix after '#'`);
  return { id, redis, prefix };
}

/**
 * This region and the others, from a regions file and/or flags: `--region` names this region;
 * its Redis is `--redis` or its entry in the file; the others are the file's other regions and
 * every `--source`. A region id used twice, or two regions on one Redis and prefix, is refused.
 */
export function resolveRegions(input: {
  readonly region: string | undefined;
  readonly redis: string | undefined;
  readonly redisPrefix: string;
  readonly regionsFile: string | undefined;
  readonly sources: readonly string[];
}): RegionsConfig {
  const fromFile = input.regionsFile === undefined ? [] : parseRegionsFile(input.regionsFile, readRegionsFile(input.regionsFile), input.redisPrefix);
  if (input.region === undefined) throw new CliError('--region is required: the id of this region (its workers\' --replica)');
  if (!VC.isValidReplicaId(input.region)) throw new CliError(`--region '${input.region}': a region id is 1-64 characters of [A-Za-z0-9_.-]`);
  const inFile = fromFile.find((r) => r.id === input.region);
  if (input.regionsFile !== undefined && !inFile && input.redis === undefined) {
    throw new CliError(`region '${input.region}' is not in the regions file ${input.regionsFile} (it names ${fromFile.map((r) => r.id).join(', ')}), and no --redis was given`);
  }
  const here: RegionEndpoint = {
    id: input.region,
    redis: input.redis ?? inFile?.redis ?? 'redis://127.0.0.1:6379',
    prefix: inFile && input.redis === undefined ? inFile.prefix : input.redisPrefix,
  };
  const others = [...fromFile.filter((r) => r.id !== input.region), ...input.sources.map((s) => parseSource(s, input.redisPrefix))];
  const ids = new Set<string>([here.id]);
  for (const other of others) {
    if (ids.has(other.id)) throw new CliError(`region id '${other.id}' is used twice${other.id === here.id ? ' (a source has this region\'s id)' : ''}: every region needs its own id`);
    ids.add(other.id);
  }
  const places = new Map<string, string>([[place(here), here.id]]);
  for (const other of others) {
    const taken = places.get(place(other));
    if (taken) throw new CliError(`regions '${taken}' and '${other.id}' are the same store (${redactUrl(other.redis)}, prefix '${other.prefix}'): every region needs its own`);
    places.set(place(other), other.id);
  }
  if (others.length === 0) throw new CliError('no other region to replicate from: give --source <region>=<redis url> or a --regions-file naming at least two regions');
  return { here, others };
}

function place(region: RegionEndpoint): string {
  return `${region.redis.replace(/\/+$/, '')}#${region.prefix}`;
}

function readRegionsFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`regions file ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
