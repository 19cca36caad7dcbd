/**
 * The frontier table and the declared regions as Redis holds them (pure: encoding, decoding and
 * validation; the I/O is in regionLog.ts).
 *
 * The table is one hash, one field per (reader, source): `<reader>/<source>` (region ids are 1-64
 * characters of [A-Za-z0-9_.-], so '/' separates them unambiguously), value `{"cursor":…,"at":…}`.
 * The declared regions are one string, a JSON array of region ids.
 */
import { InvalidOptionError } from '@troupe/runtime';
import { CorruptDataError, type FrontierEntry, type FrontierTable, RegionConfigError, VC } from '@troupe/runtime/store';

const separator = '/';

/** The hash fields and values of a table's entries, in one flat list (field, value, field, value, ...); refuses a bad region id or entry. */
export function frontierFields(table: FrontierTable): string[] {
  const fields: string[] = [];
  for (const [reader, row] of Object.entries(table)) {
    for (const [source, entry] of Object.entries(row)) {
      checkRegionId(reader);
      checkRegionId(source);
      if (typeof entry?.cursor !== 'string' || typeof entry.at !== 'number' || !Number.isFinite(entry.at)) {
        throw new InvalidOptionError('entries', `the frontier entry of ${reader} reading ${source} must be { cursor: string, at: finite number }, got ${safeJson(entry)}`);
      }
      fields.push(`${reader}${separator}${source}`, JSON.stringify({ cursor: entry.cursor, at: entry.at }));
    }
  }
  return fields;
}

/** The table held in the hash `key` (its fields as HGETALL returns them); anything troupe did not write is a CorruptDataError naming the key and field. */
export function decodeFrontier(key: string, hash: Readonly<Record<string, string>>): FrontierTable {
  const table: Record<string, Record<string, FrontierEntry>> = {};
  for (const [field, value] of Object.entries(hash)) {
    const where = `${key} field ${field}`;
    const parts = field.split(separator);
    if (parts.length !== 2 || !parts.every((id) => VC.isValidReplicaId(id))) {
      throw new CorruptDataError(where, `a frontier table field is <reader>${separator}<source>, two region ids`);
    }
    const [reader, source] = parts as [string, string];
    (table[reader] ??= {})[source] = decodeEntry(where, value);
  }
  return table;
}

/** The declared regions as the string key holds them. */
export function encodeRegions(regions: readonly string[]): string {
  if (!Array.isArray(regions)) throw new InvalidOptionError('regions', `must be an array of region ids, got ${safeJson(regions)}`);
  for (const region of regions) checkRegionId(region);
  return JSON.stringify(regions);
}

/** The declared regions read from `key` (null: none declared); anything else is a CorruptDataError naming the key. */
export function decodeRegions(key: string, value: string | null): string[] {
  if (value === null) return [];
  let regions: unknown;
  try {
    regions = JSON.parse(value);
  } catch {
    // reported below
  }
  if (!Array.isArray(regions) || !regions.every((id) => typeof id === 'string' && VC.isValidReplicaId(id))) {
    throw new CorruptDataError(key, `the declared regions are a JSON array of region ids, got '${value.slice(0, 80)}'`);
  }
  return regions as string[];
}

function decodeEntry(where: string, value: string): FrontierEntry {
  let entry: unknown;
  try {
    entry = JSON.parse(value);
  } catch {
    // reported below
  }
  const { cursor, at } = (entry ?? {}) as Partial<Record<'cursor' | 'at', unknown>>;
  if (typeof entry !== 'object' || Array.isArray(entry) || typeof cursor !== 'string' || typeof at !== 'number' || !Number.isFinite(at)) {
    throw new CorruptDataError(where, `a frontier entry is {"cursor": string, "at": number}, got '${value.slice(0, 80)}'`);
  }
  return { cursor, at };
}

function checkRegionId(id: string): void {
  if (typeof id !== 'string' || !VC.isValidReplicaId(id)) {
    throw new RegionConfigError(`region id '${String(id)}' is not valid: 1-64 characters of [A-Za-z0-9_.-]`);
  }
}

function safeJson(value: unknown): string {
  try {
    return String(JSON.stringify(value)).slice(0, 80);
  } catch {
    return String(value);
  }
}
