/**
 * Merge records as the actor's `:m` list holds them (pure): the runtime codec (`encodeValue`,
 * msgpack behind the format byte, CRC-checked), and on the way back a check of every field, so a
 * value troupe did not write is a CorruptDataError naming the key and index, not a record with
 * holes.
 */
import { type ActorRef, CorruptDataError, decodeValue, encodeValue, type MergeRecord, type VectorClock } from '@troupe/runtime/store';

/** The bytes of a record: its fields, `ancestor` left out when there is none. */
export function encodeMergeRecord(record: MergeRecord): Buffer {
  return encodeValue({
    actor: { type: record.actor.type, id: record.actor.id },
    version: record.version,
    ...(record.ancestor === undefined ? {} : { ancestor: record.ancestor }),
    heads: record.heads,
    replayed: record.replayed,
    droppedDuplicates: record.droppedDuplicates,
    compensations: record.compensations,
    region: record.region,
    divergedAt: record.divergedAt,
    mergedAt: record.mergedAt,
    durationMs: record.durationMs,
  });
}

/** A record read from `key` at `index`; anything that is not one throws CorruptDataError naming both. */
export function decodeMergeRecord(bytes: Buffer, key: string, index: number): MergeRecord {
  const where = `${key} index ${index}`;
  const value = decodeValue(bytes, where);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CorruptDataError(where, 'a merge record is a map of its fields');
  const raw = value as Readonly<Record<string, unknown>>;
  const field = <T>(name: keyof MergeRecord, valid: (value: unknown) => value is T): T => {
    if (!valid(raw[name])) throw new CorruptDataError(where, `the merge record's '${name}' is missing or of the wrong type`);
    return raw[name] as T;
  };
  const actor = field('actor', isActor);
  return {
    actor: { type: actor.type, id: actor.id },
    version: field('version', isClock),
    ...(raw.ancestor === undefined ? {} : { ancestor: field('ancestor', isClock) }),
    heads: field('heads', (v): v is VectorClock[] => Array.isArray(v) && v.every(isClock)),
    replayed: field('replayed', isCount),
    droppedDuplicates: field('droppedDuplicates', isCount),
    compensations: field('compensations', (v): v is string[] => Array.isArray(v) && v.every((type) => typeof type === 'string')),
    region: field('region', (v): v is string => typeof v === 'string'),
    divergedAt: field('divergedAt', isTime),
    mergedAt: field('mergedAt', isTime),
    durationMs: field('durationMs', isTime),
  };
}

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isClock = (value: unknown): value is VectorClock =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((n) => Number.isSafeInteger(n) && (n as number) > 0);
const isActor = (value: unknown): value is ActorRef =>
  typeof value === 'object' && value !== null && typeof (value as ActorRef).type === 'string' && typeof (value as ActorRef).id === 'string';
