/**
 * What a view writes into Redis values: rows, contributions and parts behind the runtime codec's
 * format byte (msgpack), and the meta hash as text. Every decoder names the key and field of a
 * value that does not decode (CorruptDataError).
 */
import { CorruptDataError, decodeValue, encodeValue } from '@troupe/runtime/store';

/** The layout of a view's keys and values; another one is refused (`ViewVersionMismatchError`). */
export const viewFormatVersion = 1;

/** What one actor contributes, as stored: the version of its state the rows come from, and the row keys. */
export interface Contribution {
  readonly version: string;
  readonly keys: readonly string[];
}

/** Every contributor's row under one row key, sorted by actor key: what a key's row is combined from. */
export type Parts<Row> = readonly (readonly [actor: string, row: Row])[];

function where(key: string, field: string): string {
  return `${key} field ${field}`;
}

export function encodeRow(row: unknown): Buffer {
  return encodeValue(row);
}

export function decodeRow<Row>(bytes: Buffer, key: string, field: string): Row {
  return decodeValue(bytes, where(key, field)) as Row;
}

export function encodeContribution(contribution: Contribution): Buffer {
  return encodeValue([contribution.version, contribution.keys]);
}

export function decodeContribution(bytes: Buffer, key: string, field: string): Contribution {
  const value = decodeValue(bytes, where(key, field));
  if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && Array.isArray(value[1]) && value[1].every((k) => typeof k === 'string')) {
    return { version: value[0], keys: value[1] as string[] };
  }
  throw new CorruptDataError(where(key, field), 'not a view contribution [version, row keys]');
}

export function encodeParts(parts: Parts<unknown>): Buffer {
  return encodeValue(parts.map(([actor, row]) => [actor, row]));
}

export function decodeParts<Row>(bytes: Buffer, key: string, field: string): Parts<Row> {
  const value = decodeValue(bytes, where(key, field));
  if (Array.isArray(value) && value.length > 0 && value.every((entry) => Array.isArray(entry) && entry.length === 2 && typeof entry[0] === 'string')) {
    return value as [string, Row][];
  }
  throw new CorruptDataError(where(key, field), 'not the parts of a view row [[actor, row], ...]');
}

/** The view's meta hash, parsed. */
export interface ViewMeta {
  readonly name: string;
  readonly version: number;
  readonly format: number;
  /** A random id per build of the view (a rebuild's swap brings a new one): a batch started on another build is refused. */
  readonly build: string;
  /** The lease (`<token> <holder>`) of the last batch written. */
  readonly writer?: string;
  readonly createdAt?: number;
  readonly updatedAt?: number;
  /** When the view first caught up with the log (ms since the epoch); absent before. */
  readonly readyAt?: number;
}

/** The meta hash as HGETALL returns it; undefined when the view does not exist yet. Damaged fields throw CorruptDataError. */
export function parseMeta(hash: Record<string, string>, key: string): ViewMeta | undefined {
  if (Object.keys(hash).length === 0) return undefined;
  const text = (field: string): string => {
    const value = hash[field];
    if (value === undefined || value === '') throw new CorruptDataError(where(key, field), 'missing from the view meta');
    return value;
  };
  const integer = (field: string, required: boolean): number | undefined => {
    const value = hash[field];
    if (value === undefined && !required) return undefined;
    const n = Number(value);
    if (value === undefined || !/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new CorruptDataError(where(key, field), `'${String(value)}' is not a non-negative integer`);
    return n;
  };
  return {
    name: text('name'),
    version: integer('version', true)!,
    format: integer('format', true)!,
    build: text('build'),
    ...(hash.writer !== undefined ? { writer: hash.writer } : {}),
    ...optional('createdAt', integer('createdAt', false)),
    ...optional('updatedAt', integer('updatedAt', false)),
    ...optional('readyAt', integer('readyAt', false)),
  };
}

function optional<K extends string>(name: K, value: number | undefined): { [P in K]?: number } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: number };
}

/** How a meta is named in errors: `name version N (format F)`. */
export function describeMeta(meta: Pick<ViewMeta, 'name' | 'version' | 'format'>): string {
  return `projection '${meta.name}' version ${meta.version} (format ${meta.format})`;
}
