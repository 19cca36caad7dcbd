import { VC, type VectorClock } from '../vectorClock/index.js';
import type { ActorRef, EventRecord, Pack, PackKind } from './types.js';

/**
 * A pack known to be in the codec's canonical form (what any store reads back) and deep-frozen:
 * the pack, its actor, version, parents, command ids, events and their data. Built only by
 * `commandPack` (when the command's data allowed it) and by MemoryStore, so a MemoryStore keeps it
 * as it is, without a copy: an embedded command's pack exists once. It is a `Pack` like any other
 * for every reader (the same own fields in the same order; `toEqual` a plain pack of the same
 * values); only its prototype tells it apart.
 */
export class CanonicalPack implements Pack {
  declare readonly state?: unknown;
  /** `VC.encode(version)`, made at its first use (a private field: not one of the pack's own properties, and writable though the pack is frozen). */
  #versionKey: string | undefined;
  /** `VC.encode` of the parents, made at the first use: the key itself for one parent, an array for several. */
  #parentKeys: string | string[] | undefined;

  /** Every argument must already be canonical and deep-frozen; the pack itself is frozen here. */
  constructor(
    readonly actor: ActorRef,
    readonly kind: PackKind,
    readonly version: VectorClock,
    readonly parents: readonly VectorClock[],
    readonly events: readonly EventRecord[],
    readonly commandIds: readonly string[],
    readonly replica: string,
    readonly ts: number,
    state?: unknown,
  ) {
    if (state !== undefined) (this as { state?: unknown }).state = state;
    Object.freeze(this);
  }

  /** `VC.encode(this.version)`, encoded once: the version and the pack are frozen, so it never changes. */
  get versionKey(): string {
    return (this.#versionKey ??= VC.encode(this.version));
  }

  /** `VC.encode(this.parents[i])`, encoded once per pack. */
  parentKey(i: number): string {
    let keys = this.#parentKeys;
    if (keys === undefined) {
      keys = this.#parentKeys = this.parents.length === 1 ? VC.encode(this.parents[0]!) : this.parents.map(VC.encode);
    }
    return typeof keys === 'string' ? (i === 0 ? keys : VC.encode(this.parents[i]!)) : keys[i]!;
  }
}

/** `VC.encode(pack.version)`: kept with a CanonicalPack (encoded once), encoded for any other pack. */
export function versionKeyOf(pack: Pack): string {
  return pack instanceof CanonicalPack ? pack.versionKey : VC.encode(pack.version);
}

/** `VC.encode(pack.parents[i])`: kept with a CanonicalPack, encoded for any other pack. */
export function parentKeyOf(pack: Pack, i: number): string {
  return pack instanceof CanonicalPack ? pack.parentKey(i) : VC.encode(pack.parents[i]!);
}

function isPlainString(value: unknown): boolean {
  return typeof value === 'string' && value.isWellFormed();
}

function isPlainNumber(value: unknown): boolean {
  return typeof value === 'number' && !(value === 0 && 1 / value < 0);
}

/**
 * The strings and numbers of a pack outside its data (ids, types, replicas, timestamps) read back
 * unchanged from the codec: well-formed strings, numbers other than -0.
 */
export function shellIsPlain(pack: Pack): boolean {
  if (!isPlainString(pack.actor.type) || !isPlainString(pack.actor.id) || !isPlainString(pack.replica) || !isPlainNumber(pack.ts)) return false;
  if (pack.kind !== 'command' && pack.kind !== 'merge') return false;
  for (const id of pack.commandIds) if (!isPlainString(id)) return false;
  for (const e of pack.events) {
    if (!isPlainString(e.id) || !isPlainString(e.type) || !isPlainString(e.replica) || !isPlainNumber(e.ts)) return false;
    if (!isPlainString(e.causationId) || !isPlainString(e.correlationId)) return false;
    if (e.initiatedBy !== undefined && !isPlainString(e.initiatedBy)) return false;
  }
  return true;
}

/** A frozen clock: `clock` itself when it is frozen already, else a frozen copy. */
export function frozenClock(clock: VectorClock): VectorClock {
  return Object.isFrozen(clock) ? clock : Object.freeze({ ...clock });
}

/** A frozen actor ref: `ref` itself when it is frozen already, else a frozen copy of its type and id. */
export function frozenRef(ref: ActorRef): ActorRef {
  return Object.isFrozen(ref) ? ref : Object.freeze({ type: ref.type, id: ref.id });
}

/** A frozen event record with `data` (canonical and deep-frozen already) and the fields of `e`, in the codec's field order. */
export function frozenEvent(e: EventRecord, actor: ActorRef, data: unknown): EventRecord {
  return Object.freeze(
    e.initiatedBy === undefined
      ? { id: e.id, actor, type: e.type, data, ts: e.ts, correlationId: e.correlationId, causationId: e.causationId, replica: e.replica }
      : { id: e.id, actor, type: e.type, data, ts: e.ts, correlationId: e.correlationId, causationId: e.causationId, replica: e.replica, initiatedBy: e.initiatedBy },
  );
}
