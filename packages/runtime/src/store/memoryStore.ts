import { canonicalBounded, canonicalFrozen, decodePack, decodeValue, encodePack, encodeValue } from '../codec/index.js';
import { AppendConflictError, DuplicateCommandError, InvalidCursorError, InvalidOptionError, LimitExceededError, MissingAncestorError, VersionCollisionError } from '../errors/index.js';
import { type ActorRef, type ActorSnapshot, type EventRecord, type Pack, type Snapshot, actorKey, packFingerprint } from '../model/index.js';
import { VC, type VectorClock } from '../vectorClock/index.js';
import { CanonicalPack, frozenClock, frozenEvent, parentKeyOf, shellIsPlain, versionKeyOf } from '../model/canonicalPack.js';
import { causalOrder, historyPacksMax } from './causalOrder.js';
import type { Chain, Changes, EventStore, HistoryOptions, MergeReport } from './eventStore.js';
import { nextHeads, sameKeySet } from './heads.js';
import { type Checkpoint, type FrontierTable, type MergeLog, type MergeRecord, type RegionLog, mergeRecordsMax } from './regionLog.js';
import { cursorAtOrPast, mergeFrontierTables } from '../replication/frontier.js';

interface ActorRecord {
  /** Frozen: the actor of every pack this store copies (packs it keeps as they are have their own). */
  readonly ref: ActorRef;
  /**
   * versionKey -> the pack in its canonical form, deep-frozen; or its encoded bytes when that form
   * cannot be frozen (a Set, a Date or binary data in it) and where `unsafeOverwritePack` put bytes.
   */
  readonly packs: Map<string, Pack | Uint8Array>;
  /**
   * versionKey -> snapshot state, in its canonical form and deep-frozen; or its encoded bytes when
   * that form cannot be frozen (see `storedState`). Created with the first snapshot: most actors have none.
   */
  snapshots: Map<string, unknown> | undefined;
  /** commandId -> version key(s) of the packs that applied it: the key itself for one, an array for several */
  readonly commands: Map<string, string | string[]>;
  /** versionKey -> packFingerprint, for the packs held as bytes only (a frozen pack's is computed when needed). */
  fingerprints: Map<string, string> | undefined;
  heads: VectorClock[];
  headKeys: string[];
}

interface LogEntry {
  readonly actor: ActorRecord;
  readonly versionKey: string;
  /** What `actor.packs` holds at `versionKey` (the log reads it without a map lookup; `unsafeOverwritePack` replaces both). */
  held: Pack | Uint8Array;
  /** A snapshot at this version was written with the pack: it is shipped with it. */
  withSnapshot: boolean;
}

/**
 * The pack as the codec would read it back (the same fields, the same canonical data), as a
 * deep-frozen copy: `input` itself is left as it was. Undefined when a value in it cannot be
 * frozen (the store keeps that pack encoded). A CanonicalPack (from `commandPack`, or held by
 * another MemoryStore) is kept as it is.
 */
function frozenPack(input: Pack, actor: ActorRef, where: string): Pack | undefined {
  if (input instanceof CanonicalPack) return input;
  const pack = shellIsPlain(input) ? input : decodePack(encodePack(input), where);
  const events: EventRecord[] = [];
  for (const e of pack.events) {
    const data = canonicalFrozen(e.data);
    if (!data) return undefined;
    events.push(frozenEvent(e, actor, data.value));
  }
  let state: { readonly value: unknown } | undefined;
  if (pack.state !== undefined) {
    state = canonicalFrozen(pack.state);
    if (!state) return undefined;
  }
  return new CanonicalPack(
    actor,
    pack.kind,
    frozenClock(pack.version),
    Object.freeze(pack.parents.map(frozenClock)),
    Object.freeze(events),
    Object.freeze([...pack.commandIds]),
    pack.replica,
    pack.ts,
    state?.value,
  );
}

/**
 * What is kept of a snapshot's state: its canonical form, deep-frozen (a copy: the caller's state
 * is left as it was, and may go on changing), or its encoded bytes when that form cannot be frozen
 * (a Set, a Date or binary data in it; never a Uint8Array otherwise, so the two cannot be confused).
 */
function storedState(state: unknown): unknown {
  const frozen = canonicalFrozen(state);
  return frozen ? frozen.value : encodeValue(state);
}

/**
 * A held snapshot state as a reader gets it: decoded from its bytes, or the frozen state itself,
 * or (`live`: it becomes an entity's live state, which an event handler may change in place) a copy.
 */
function heldState(held: unknown, where: string, live: boolean): unknown {
  if (held instanceof Uint8Array) return decodeValue(held, where);
  return live ? canonicalBounded(held).value : held;
}

/**
 * The embedded default store. Holds everything in process memory. Packs are kept decoded, in the
 * codec's canonical form (what any store reads back: the same values the Redis store returns) and
 * deep-frozen: an append or a read encodes and decodes nothing, and what a caller gets can be
 * shared, not copied. A caller that mutates a pack it got from this store gets a TypeError (strict
 * mode, which ES modules are) and the store is unchanged; the pack it appended is copied, never
 * frozen itself. A pack whose canonical form cannot be frozen (a Set, a Date or binary data in
 * its events) is kept encoded instead, as snapshots are: those are decoded on every read, with the
 * checksum checked, so undecodable data shows up here as in the Redis store.
 */
export class MemoryStore implements EventStore, RegionLog, MergeLog {
  private readonly actors = new Map<string, ActorRecord>();
  private readonly log: LogEntry[] = [];
  private readonly checkpoints = new Map<string, string>();
  private frontierTable: FrontierTable = {};
  private regionIds: string[] = [];
  private readonly mergeRecords = new Map<string, MergeRecord[]>();
  private closed = false;

  async append(pack: Pack, expectedHeads: readonly string[], snapshot?: Snapshot): Promise<void> {
    this.assertOpen();
    const record = this.record(pack.actor);
    const key = versionKeyOf(pack);
    if (!sameKeySet(record.headKeys, expectedHeads) || record.packs.has(key)) {
      throw new AppendConflictError(actorKey(pack.actor), expectedHeads, record.headKeys);
    }
    for (const id of pack.commandIds) if (record.commands.has(id)) throw new DuplicateCommandError(actorKey(pack.actor), id);
    // Copy and encode everything before changing anything: an append either happens whole or not at all.
    const stored = this.stored(record, pack, key);
    const state = snapshot ? storedState(snapshot.state) : undefined;
    const entry = this.add(record, stored, pack, key);
    if (snapshot) this.keepSnapshot(record, snapshot, entry, state);
  }

  async heads(actor: ActorRef): Promise<Pack[]> {
    this.assertOpen();
    const record = this.actors.get(actorKey(actor));
    if (!record) return [];
    return [...record.headKeys].sort().map((key) => this.decode(record, key)!);
  }

  async getPacks(actor: ActorRef, versionKeys: readonly string[]): Promise<(Pack | undefined)[]> {
    this.assertOpen();
    const record = this.actors.get(actorKey(actor));
    return versionKeys.map((key) => (record ? this.decode(record, key) : undefined));
  }

  async loadChain(actor: ActorRef, versionKey: string): Promise<Chain> {
    this.assertOpen();
    const record = this.actors.get(actorKey(actor));
    const packs: Pack[] = [];
    let key: string | undefined = versionKey;
    while (key !== undefined) {
      const snapshots = record?.snapshots;
      if (snapshots !== undefined && snapshots.has(key)) {
        // The base becomes a live state: a copy of the frozen state (or the state decoded from its bytes).
        const state = heldState(snapshots.get(key), `snapshot ${actorKey(actor)}@${key}`, true);
        return { base: { version: VC.decode(key), state }, packs: packs.reverse() };
      }
      const pack: Pack | undefined = record ? this.decode(record, key) : undefined;
      if (!pack) throw new MissingAncestorError(actorKey(actor), key);
      if (pack.kind === 'merge') {
        // The base becomes a live state: a copy, not the frozen pack's (an event handler may
        // build the next state by changing it, as it could from a state decoded from bytes).
        return { base: { version: pack.version, state: canonicalBounded(pack.state).value }, packs: packs.reverse() };
      }
      packs.push(pack);
      key = pack.parents.length === 0 ? undefined : parentKeyOf(pack, 0);
    }
    return { packs: packs.reverse() };
  }

  async saveSnapshot(actor: ActorRef, snapshot: Snapshot): Promise<void> {
    this.assertOpen();
    const record = this.record(actor);
    (record.snapshots ??= new Map()).set(VC.encode(snapshot.version), storedState(snapshot.state));
  }

  async commandVersions(actor: ActorRef, commandId: string): Promise<VectorClock[]> {
    this.assertOpen();
    const versions = this.actors.get(actorKey(actor))?.commands.get(commandId) ?? [];
    return typeof versions === 'string' ? [VC.decode(versions)] : versions.map(VC.decode);
  }

  async changesSince(cursor: string | undefined, limit: number): Promise<Changes> {
    this.assertOpen();
    const start = cursor === undefined ? 0 : this.position(cursor);
    const end = Math.min(this.log.length, start + limit);
    const packs: Pack[] = [];
    const snapshots: ActorSnapshot[] = [];
    for (let i = start; i < end; i++) {
      const entry = this.log[i]!;
      const held = entry.held;
      packs.push(held instanceof Uint8Array ? decodePack(held, `pack ${actorKey(entry.actor.ref)}@${entry.versionKey}`) : held);
      const kept = entry.withSnapshot ? entry.actor.snapshots : undefined;
      if (kept !== undefined && kept.has(entry.versionKey)) {
        // Shared frozen (as packs are), or decoded from its bytes.
        const state = heldState(kept.get(entry.versionKey), `snapshot ${actorKey(entry.actor.ref)}@${entry.versionKey}`, false);
        snapshots.push({ actor: entry.actor.ref, version: VC.decode(entry.versionKey), state });
      }
    }
    return { packs, snapshots, cursor: String(end) };
  }

  async merge(packs: readonly Pack[], snapshots: readonly ActorSnapshot[] = []): Promise<MergeReport> {
    this.assertOpen();
    const snapshotByKey = new Map(snapshots.map((s) => [`${actorKey(s.actor)}@${VC.encode(s.version)}`, s]));
    let added = 0;
    let skipped = 0;
    const touched = new Set<ActorRecord>();
    for (const pack of packs) {
      const record = this.record(pack.actor);
      touched.add(record);
      const key = versionKeyOf(pack);
      const held = record.packs.get(key);
      if (held) {
        if (held !== pack && this.fingerprint(record, key, held) !== packFingerprint(pack, () => encodePack(pack))) throw new VersionCollisionError(actorKey(pack.actor), key);
        skipped++;
        continue;
      }
      for (let i = 0; i < pack.parents.length; i++) {
        const parentKey = parentKeyOf(pack, i);
        if (!record.packs.has(parentKey)) throw new MissingAncestorError(actorKey(pack.actor), parentKey);
      }
      const snapshot = snapshotByKey.get(`${actorKey(pack.actor)}@${key}`);
      const stored = this.stored(record, pack, key);
      const state = snapshot ? storedState(snapshot.state) : undefined;
      const entry = this.add(record, stored, pack, key);
      if (snapshot) this.keepSnapshot(record, snapshot, entry, state);
      added++;
    }
    const diverged = [...touched].filter((record) => record.headKeys.length > 1).map((record) => record.ref);
    return { added, skipped, diverged };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Number of packs held, over all actors (for tests and reports). */
  get packCount(): number {
    return this.log.length;
  }

  /** Every actor that has packs here. */
  actorRefs(): ActorRef[] {
    return [...this.actors.values()].map((record) => record.ref);
  }

  /**
   * Fault injection for tests: replaces the stored bytes of a pack. Lets a test show that an
   * undecodable pack yields CorruptDataError naming it, and that no other actor is affected.
   */
  unsafeOverwritePack(actor: ActorRef, versionKey: string, bytes: Buffer): void {
    const record = this.record(actor);
    const held = record.packs.get(versionKey);
    // The fingerprint stays the one of the pack written there, as a store of bytes would keep it.
    if (held) (record.fingerprints ??= new Map()).set(versionKey, this.fingerprint(record, versionKey, held));
    record.packs.set(versionKey, bytes);
    for (const entry of this.log) if (entry.actor === record && entry.versionKey === versionKey) entry.held = bytes;
  }

  /**
   * Fault injection for tests: puts bytes in place of a snapshot's state (held decoded otherwise),
   * as a disk or a bad copy would corrupt it: loads and the log then decode them (checksum checked).
   */
  unsafeOverwriteSnapshot(actor: ActorRef, versionKey: string, bytes: Buffer): void {
    (this.record(actor).snapshots ??= new Map()).set(versionKey, bytes);
  }

  /** The fingerprint of a pack held here (see `packFingerprint`). */
  private fingerprint(record: ActorRecord, key: string, held: Pack | Uint8Array): string {
    const known = record.fingerprints?.get(key);
    if (known !== undefined) return known;
    const pack = held as Pack;
    return packFingerprint(pack, () => encodePack(pack));
  }

  /** What is kept of `pack`: its frozen canonical copy, or its bytes. */
  private stored(record: ActorRecord, pack: Pack, key: string): Pack | Uint8Array {
    return frozenPack(pack, record.ref, `pack ${actorKey(record.ref)}@${key}`) ?? encodePack(pack);
  }

  private keepSnapshot(record: ActorRecord, snapshot: Snapshot, entry: LogEntry, state: unknown): void {
    (record.snapshots ??= new Map()).set(VC.encode(snapshot.version), state);
    entry.withSnapshot = true;
  }

  /** Changes state only (`stored` was built before): it never leaves a partial write behind. */
  private add(record: ActorRecord, stored: Pack | Uint8Array, pack: Pack, key: string): LogEntry {
    record.packs.set(key, stored);
    if (stored instanceof Uint8Array) (record.fingerprints ??= new Map()).set(key, packFingerprint(pack, stored));
    for (const commandId of pack.commandIds) {
      // One version (nearly always) is held as the key itself, several as an array.
      const versions = record.commands.get(commandId);
      if (versions === undefined) record.commands.set(commandId, key);
      else if (typeof versions === 'string') {
        if (versions !== key) record.commands.set(commandId, [versions, key]);
      } else if (!versions.includes(key)) versions.push(key);
    }
    const heads = nextHeads(record.heads, pack.version);
    if (heads) {
      record.heads = heads;
      // A single head is the new version (nextHeads adds it last): its key is known.
      record.headKeys = heads.length === 1 ? [key] : heads.map(VC.encode);
    }
    const entry: LogEntry = { actor: record, versionKey: key, held: stored, withSnapshot: false };
    this.log.push(entry);
    return entry;
  }

  private record(ref: ActorRef): ActorRecord {
    const key = actorKey(ref);
    let record = this.actors.get(key);
    if (!record) {
      record = {
        ref: Object.freeze({ type: ref.type, id: ref.id }),
        packs: new Map(),
        snapshots: undefined,
        commands: new Map(),
        fingerprints: undefined,
        heads: [],
        headKeys: [],
      };
      this.actors.set(key, record);
    }
    return record;
  }

  async history(actor: ActorRef, options: HistoryOptions = {}): Promise<Pack[]> {
    this.assertOpen();
    const limit = options.limit ?? historyPacksMax;
    const record = this.actors.get(actorKey(actor));
    if (!record) return [];
    if (record.packs.size > limit) {
      throw new LimitExceededError('limit', `${actorKey(actor)} has ${record.packs.size} packs, more than the history limit of ${limit}`);
    }
    return causalOrder([...record.packs.keys()].map((key) => this.decode(record, key)!));
  }

  checkpoint(name: string): Checkpoint {
    return {
      load: async () => (this.assertOpen(), this.checkpoints.get(name)),
      // A checkpoint holds another store's cursor (the source's): not checked against this log.
      save: async (cursor) => {
        this.assertOpen();
        this.checkpoints.set(name, cursor);
      },
    };
  }

  async backlog(cursor: string | undefined): Promise<number> {
    this.assertOpen();
    return this.log.length - (cursor === undefined ? 0 : this.position(cursor));
  }

  /** The end of the log: every pack held now lies before it. */
  async logMark(_actor: ActorRef): Promise<string> {
    this.assertOpen();
    return String(this.log.length);
  }

  markReached(cursor: string, mark: string): boolean {
    return cursorAtOrPast(cursor, mark);
  }

  async frontier(): Promise<FrontierTable> {
    this.assertOpen();
    return this.frontierTable;
  }

  async mergeFrontier(entries: FrontierTable): Promise<void> {
    this.assertOpen();
    this.frontierTable = mergeFrontierTables(this.frontierTable, entries);
  }

  async regions(): Promise<string[]> {
    this.assertOpen();
    return [...this.regionIds];
  }

  async declareRegions(regions: readonly string[]): Promise<void> {
    this.assertOpen();
    this.regionIds = [...regions];
  }

  async recordMerge(record: MergeRecord): Promise<void> {
    this.assertOpen();
    const key = actorKey(record.actor);
    const records = this.mergeRecords.get(key) ?? [];
    records.push(structuredClone(record));
    if (records.length > mergeRecordsMax) records.splice(0, records.length - mergeRecordsMax);
    this.mergeRecords.set(key, records);
  }

  async merges(actor: ActorRef, options: { readonly limit?: number } = {}): Promise<MergeRecord[]> {
    this.assertOpen();
    const limit = options.limit ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 1) throw new InvalidOptionError('limit', `must be a positive integer, got ${String(limit)}`);
    const records = this.mergeRecords.get(actorKey(actor)) ?? [];
    return records.slice(-limit).reverse().map((r) => structuredClone(r));
  }

  /** A cursor of this store is a position in its log: a decimal integer from 0 to the log's length. */
  private position(cursor: string): number {
    if (!/^(0|[1-9][0-9]{0,15})$/.test(cursor)) throw new InvalidCursorError(cursor, 'a MemoryStore cursor is a log position (a decimal integer)');
    const position = Number(cursor);
    if (position > this.log.length) {
      throw new InvalidCursorError(cursor, `it is ahead of this store's log, which holds ${this.log.length} entries (a cursor of another store, or of this one before it lost data?)`);
    }
    return position;
  }

  private decode(record: ActorRecord, key: string): Pack | undefined {
    const held = record.packs.get(key);
    if (held === undefined || !(held instanceof Uint8Array)) return held;
    return decodePack(held, `pack ${actorKey(record.ref)}@${key}`);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('MemoryStore is closed');
  }
}
