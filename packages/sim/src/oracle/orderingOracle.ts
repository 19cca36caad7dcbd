import type { AnyActorDefinition, EventRecord, Pack } from '@troupe/runtime';
import { clockKey, clockMax } from './clock.js';
import { ClockTable } from './clockTable.js';
import { applyEvents } from './fold.js';
import { replayOrder, tickMs } from './order.js';

/** What the rules say a merge of some command heads must be. */
export interface OracleMerge {
  /** The command heads merged (version keys, sorted): the merge pack's parents. */
  readonly heads: readonly string[];
  /** Version key of the merge: pointwise max of the heads. */
  readonly version: string;
  /** The latest common ancestor that is a cut, if the branches share one. */
  readonly ancestor?: string;
  /** Events replayed on the ancestor's state, in replay order, duplicate copies left out. */
  readonly replayed: readonly EventRecord[];
  /** What `onMerge` emitted, as the merge pack must carry it (ids, ts, causation). */
  readonly compensations: readonly EventRecord[];
  /** State after the replay and the compensations. */
  readonly state: unknown;
}

/**
 * The simulator's ordering oracle: one actor's whole history in memory, and what its state must
 * be at any version, recomputed from the rules of the root README ("Architecture": Model and
 * Divergence resolution) with whole ancestor sets instead of the runtime's bounded walk.
 *
 * Why it is written here and shares only types with @troupe/runtime: the runtime's own
 * `ReferenceModel` imports the runtime's comparator, fold, vector clocks and tick, so a bug in any
 * of them moved the reference along with the runtime, and I3 compared the runtime with itself (a
 * reversed id tie-break passed 300 seeds). Everything here (order, fold, clocks, tick) is its own
 * (`order.ts`, `fold.ts`, `clock.ts`); `oracleIndependence.unit.spec.ts` plants a bug in the
 * runtime's comparator and shows that I3 catches it.
 *
 * The rules it follows:
 * - a command pack's state is its parent's state (or `initial()`) with its events applied in the
 *   order the pack lists them (the order the command emitted them);
 * - a merge pack at version V merges the maximal command packs at or before V (its command heads);
 * - from the latest common ancestor that is a cut (every pack of the heads' histories is its
 *   ancestor or its descendant), every event after it on any branch is replayed once, in
 *   (ts, id, replica) order;
 * - a command id applied by several of those packs keeps the copy whose first event replays
 *   first (a copy with events before one without; between copies without, the smaller version
 *   key), the other copies' events are dropped;
 * - `onMerge(merged, { actor, ancestorState, replayed, branches })` gives the compensations: ids
 *   `m<version>#0000`, `#0001`..., ts one tick (1/1024 ms) after the newest head, causation and
 *   correlation `merge:<version>`, replica `merge`; the merge's version is the heads' pointwise max.
 *
 * How it is computed (the rules above, literally, over whole ancestor sets; only the bookkeeping
 * is arranged so the checks of a long run stay cheap):
 * - every pack gets an index in weight order (sum of its clock), ties by version key. A pack's
 *   parents are strictly lighter, so walking the indices upwards meets parents before children:
 *   ancestor sets are marks over the indices (arrays of 0 and 1) rather than sets of key strings, and
 *   the cut test and the state computation walk them in index order instead of sorting them each time;
 * - the command packs are sorted heaviest first once, and their versions compared as numbers
 *   (`ClockTable`), instead of filtering and sorting every pack for each merge;
 * - the cut and the merge of a set of heads are kept (I3 asks for each merge pack's, I6 again for
 *   each resolution of the same heads, I7 for held heads), and so are the last ancestor sets, as
 *   the states are;
 *   nothing else is shared between calls, so the computations re-enter freely (a state needs
 *   merges, a merge needs its ancestor's state).
 */
export class OrderingOracle {
  /** Version keys by index (weight order, ties by key). */
  private readonly keys: string[];
  private readonly indexOf = new Map<string, number>();
  private readonly packs: Pack[];
  /** Parent indices by index; -1 for a parent the history does not hold (reaching it throws, as `get` does). */
  private readonly parents: number[][];
  /** Indices of the command packs, heaviest first, ties in the order the packs were given. */
  private readonly commandsHeaviestFirst: number[];
  /** The versions, as rows in the order the packs were given; `rows[index]` is the row of the pack at `index`. */
  private readonly clocks: ClockTable;
  private readonly rows: number[];
  private readonly states: unknown[];
  private readonly stateKnown: number[];
  private readonly merges: (OracleMerge | undefined)[];
  /** Merges by their heads' indices (in key order) joined by spaces: merge packs and I7's held states ask for the same heads. */
  private readonly mergesByHeads = new Map<string, OracleMerge>();
  /** The latest cut (-1: none) by the heads' indices, ascending, joined by spaces. */
  private readonly cuts = new Map<string, number>();
  /** `cutOf`'s scratch arrays. */
  private scratchCounts: number[] | undefined;
  private scratchMarks: number[] | undefined;
  /** Ancestor marks of the packs asked last (read only once made). */
  private readonly ancestries = new Map<number, readonly number[]>();
  /** Ancestor sets kept at once: keeping every pack's set takes memory quadratic in the history. */
  private static readonly ancestriesKeptMax = 64;

  constructor(private readonly definition: AnyActorDefinition, packs: Iterable<Pack>) {
    // The last pack given at a version wins, at the position its version was first given (a Map's order).
    const given = new Map<string, Pack>();
    // Each version object's key: a pack's parents are mostly their parents' very version objects.
    const keyOfVersion = new Map<Pack['version'], string>();
    for (const pack of packs) {
      const key = clockKey(pack.version);
      given.set(key, pack);
      keyOfVersion.set(pack.version, key);
    }
    const givenKeys = [...given.keys()];
    const givenPacks = [...given.values()];
    const size = givenKeys.length;
    // Rows in the order given; a row's weight is `clockWeight` of its version.
    const versions: Pack['version'][] = [];
    for (const pack of givenPacks) versions.push(pack.version);
    this.clocks = new ClockTable(versions);
    const weights = this.clocks.weights;
    const byWeight: number[] = [];
    for (let row = 0; row < size; row++) byWeight.push(row);
    byWeight.sort((a, b) => weights[a]! - weights[b]! || (givenKeys[a]! < givenKeys[b]! ? -1 : 1));
    this.rows = byWeight;
    this.keys = [];
    this.packs = [];
    for (let index = 0; index < size; index++) {
      const key = givenKeys[byWeight[index]!]!;
      this.keys.push(key);
      this.packs.push(givenPacks[byWeight[index]!]!);
      this.indexOf.set(key, index);
    }
    this.parents = [];
    for (const pack of this.packs) {
      const parents: number[] = [];
      for (const parent of pack.parents) parents.push(this.indexOf.get(keyOfVersion.get(parent) ?? clockKey(parent)) ?? -1);
      this.parents.push(parents);
    }
    const commands: number[] = [];
    for (let row = 0; row < size; row++) if (givenPacks[row]!.kind === 'command') commands.push(row);
    commands.sort((a, b) => weights[b]! - weights[a]!);
    this.commandsHeaviestFirst = [];
    for (const row of commands) this.commandsHeaviestFirst.push(this.indexOf.get(givenKeys[row]!)!);
    this.states = new Array<unknown>(size).fill(undefined);
    this.stateKnown = new Array<number>(size).fill(0);
    this.merges = new Array<OracleMerge | undefined>(size).fill(undefined);
  }

  /** Packs in the history. */
  get size(): number {
    return this.keys.length;
  }

  /** The pack at a version key; throws when the history has none. */
  get(key: string): Pack {
    return this.packs[this.index(key)]!;
  }

  /** The pack at `key` and every pack it descends from (keys; a new set each call: for messages and tests). */
  ancestry(key: string): ReadonlySet<string> {
    const marks = this.ancestorMarks(this.index(key));
    const out = new Set<string>();
    for (let index = 0; index < marks.length; index++) if (marks[index]) out.add(this.keys[index]!);
    return out;
  }

  /** How many of `keys` are the pack at `key` or one of its ancestors (keys the history lacks count as neither). */
  countInAncestry(key: string, keys: readonly string[]): number {
    const marks = this.ancestorMarks(this.index(key));
    let count = 0;
    for (const k of keys) {
      const index = this.indexOf.get(k);
      if (index !== undefined && marks[index]) count++;
    }
    return count;
  }

  /** The command packs a merge at `version` merges: the maximal ones at or before it (sorted keys). */
  commandHeadsAt(version: Pack['version']): string[] {
    return this.commandHeadsBelow(this.clocks.row(version)).map((index) => this.keys[index]!);
  }

  /**
   * The latest pack that every head descends from and that every pack of the heads' histories
   * either descends from or precedes; undefined when there is none (e.g. two roots).
   */
  latestCut(headKeys: readonly string[]): string | undefined {
    const cut = this.cutOf(headKeys.map((key) => this.index(key)));
    return cut === -1 ? undefined : this.keys[cut];
  }

  /** The state at a version, from the initial state, snapshots and the states merge packs carry ignored. */
  stateAt(key: string): unknown {
    const index = this.index(key);
    if (!this.stateKnown[index]) {
      for (const at of this.missingStatesUpTo(index)) {
        // A merge before it may have needed (and computed) this one already, for its ancestor's state.
        if (this.stateKnown[at]) continue;
        const pack = this.packs[at]!;
        let state: unknown;
        if (pack.kind === 'merge') state = this.mergeOf(at).state;
        else {
          const parent = this.parents[at]![0];
          state = applyEvents(this.definition, parent === undefined ? this.definition.initial() : this.states[parent], pack.events);
        }
        this.states[at] = state;
        this.stateKnown[at] = 1;
      }
    }
    return this.states[index];
  }

  /** What the merge pack at `key` must be (from the command heads at its version). */
  mergeAt(key: string): OracleMerge {
    return this.mergeOf(this.index(key));
  }

  /** The merge of these command heads, by the rules above. */
  merge(headKeys: readonly string[]): OracleMerge {
    return this.mergeOfHeads(headKeys.map((key) => this.index(key)).sort(this.byKey));
  }

  /** The index of a version key; throws when the history has none. */
  private index(key: string): number {
    const index = this.indexOf.get(key);
    if (index === undefined) throw new Error(`oracle: no pack ${key}`);
    return index;
  }

  /** Orders indices by their version keys. */
  private readonly byKey = (a: number, b: number): number => (this.keys[a]! < this.keys[b]! ? -1 : this.keys[a]! > this.keys[b]! ? 1 : 0);

  private mergeOf(index: number): OracleMerge {
    let merge = this.merges[index];
    if (!merge) this.merges[index] = merge = this.mergeOfHeads(this.commandHeadsBelow(this.clocks.denseRow(this.rows[index]!)));
    return merge;
  }

  /**
   * The maximal command packs at or before a dense row of the clock table, sorted by key. Heaviest
   * first: a pack that dominates another is heavier, so it is met first, and a pack is maximal when
   * no maximal pack met before it is at or after it (|below| x |maxima| comparisons).
   */
  private commandHeadsBelow(at: readonly number[]): number[] {
    const maxima: number[] = [];
    for (const index of this.commandsHeaviestFirst) {
      if (!this.clocks.atOrBefore(this.rows[index]!, at)) continue;
      let dominated = false;
      for (const m of maxima) if ((dominated = this.clocks.rowAtOrBefore(this.rows[index]!, this.rows[m]!))) break;
      if (!dominated) maxima.push(index);
    }
    return maxima.sort(this.byKey);
  }

  /** `merge` of the heads at these indices, sorted by key (kept). */
  private mergeOfHeads(indices: readonly number[]): OracleMerge {
    if (indices.length === 0) throw new Error('oracle: a merge of no command heads');
    const memoKey = indices.join(' ');
    let merge = this.mergesByHeads.get(memoKey);
    if (!merge) this.mergesByHeads.set(memoKey, (merge = this.computeMerge(indices)));
    return merge;
  }

  private computeMerge(indices: readonly number[]): OracleMerge {
    const heads: string[] = [];
    const ancestries: (readonly number[])[] = [];
    const versions: Pack['version'][] = [];
    let newest = -Infinity;
    for (const index of indices) {
      heads.push(this.keys[index]!);
      versions.push(this.packs[index]!.version);
      newest = Math.max(newest, this.packs[index]!.ts);
    }
    const cut = this.cutOf(indices);
    for (const index of indices) ancestries.push(this.ancestorMarks(index));
    const ancestor = cut === -1 ? undefined : this.keys[cut];
    const shared = cut === -1 ? undefined : this.ancestorMarks(cut);
    // The packs after the ancestor on any branch, in version key order.
    const after: number[] = [];
    for (let index = 0; index < this.keys.length; index++) {
      if (shared?.[index]) continue;
      for (let h = 0; h < ancestries.length; h++) {
        if (!ancestries[h]![index]) continue;
        after.push(index);
        break;
      }
    }
    after.sort(this.byKey);
    const packOf = new Map<EventRecord, number>();
    for (const index of after) for (const event of this.packs[index]!.events) packOf.set(event, index);
    const dropped = this.duplicateCopies(after);
    const replayed: EventRecord[] = [];
    for (const event of packOf.keys()) if (!dropped?.has(event)) replayed.push(event);
    replayed.sort(replayOrder);
    const ancestorState = cut === -1 ? this.definition.initial() : this.stateAt(ancestor!);
    const merged = applyEvents(this.definition, ancestorState, replayed);
    // A branch: the packs of one head's history after the ancestor (every pack of `after` is after it).
    const branches: EventRecord[][] = [];
    for (const marks of ancestries) {
      const branch: EventRecord[] = [];
      for (const event of replayed) if (marks[packOf.get(event)!]) branch.push(event);
      branches.push(branch);
    }
    const actor = this.packs[indices[0]!]!.actor;
    const version = clockKey(clockMax(versions));
    const ts = newest + tickMs;
    const emitted: readonly { type: string; data: unknown }[] = this.definition.onMerge?.(merged, { actor, ancestorState, replayed, branches }) ?? [];
    const compensations: EventRecord[] = [];
    for (let n = 0; n < emitted.length; n++) {
      compensations.push({
        id: `m${version}#${String(n).padStart(4, '0')}`,
        actor: { type: actor.type, id: actor.id },
        type: emitted[n]!.type,
        data: emitted[n]!.data,
        ts,
        correlationId: `merge:${version}`,
        causationId: `merge:${version}`,
        replica: 'merge',
      });
    }
    const state = applyEvents(this.definition, merged, compensations);
    return ancestor === undefined ? { heads, version, replayed, compensations, state } : { heads, version, ancestor, replayed, compensations, state };
  }

  /** Marks of the pack at `index` and every pack it descends from (a loop: histories are deeper than the stack). Read only. */
  private ancestorMarks(index: number): readonly number[] {
    const known = this.ancestries.get(index);
    if (known) return known;
    const marks = new Array<number>(this.keys.length).fill(0);
    const pending = [index];
    while (pending.length > 0) {
      const at = pending.pop()!;
      if (marks[at]) continue;
      marks[at] = 1;
      const parents = this.parents[at]!;
      for (let n = 0; n < parents.length; n++) {
        if (parents[n] === -1) throw new Error(`oracle: no pack ${clockKey(this.packs[at]!.parents[n]!)}`);
        pending.push(parents[n]!);
      }
    }
    if (this.ancestries.size >= OrderingOracle.ancestriesKeptMax) this.ancestries.clear();
    this.ancestries.set(index, marks);
    return marks;
  }

  /**
   * The latest cut of these heads (-1 for none). The candidates (packs every head descends from)
   * are tried latest first; one is the cut when every pack of the union of the heads' histories,
   * walked parents first, is its ancestor or has a parent that is the candidate or already found
   * after it.
   */
  private cutOf(heads: readonly number[]): number {
    const memoKey = heads.length === 1 ? `${heads[0]}` : heads.length === 2 ? (heads[0]! < heads[1]! ? `${heads[0]} ${heads[1]}` : `${heads[1]} ${heads[0]}`) : [...heads].sort((a, b) => a - b).join(' ');
    const known = this.cuts.get(memoKey);
    if (known !== undefined) return known;
    const size = this.keys.length;
    // Scratch arrays, made once per oracle and cleared here: nothing this function calls uses them.
    const inHistories = (this.scratchCounts ??= new Array<number>(size)).fill(0);
    const after = (this.scratchMarks ??= new Array<number>(size));
    let last = -1;
    for (const head of heads) {
      const marks = this.ancestorMarks(head);
      for (let index = 0; index < size; index++) {
        if (!marks[index]) continue;
        inHistories[index]!++;
        if (index > last) last = index;
      }
    }
    let cut = -1;
    for (let candidate = last; candidate >= 0 && cut === -1; candidate--) {
      if (inHistories[candidate] !== heads.length) continue;
      const before = this.ancestorMarks(candidate);
      after.fill(0, 0, last + 1);
      let isCut = true;
      for (let index = 0; index <= last && isCut; index++) {
        if (inHistories[index] === 0 || before[index]) continue;
        isCut = false;
        for (const parent of this.parents[index]!) if ((isCut = parent === candidate || (parent !== -1 && after[parent] === 1))) break;
        after[index] = 1;
      }
      if (isCut) cut = candidate;
    }
    this.cuts.set(memoKey, cut);
    return cut;
  }

  /**
   * Events of the copies that lose: for each command id listed by several of `indices`' packs,
   * every copy but the one whose first event (of that command) replays first is dropped
   * (undefined: no command id is listed twice).
   */
  private duplicateCopies(indices: readonly number[]): Set<EventRecord> | undefined {
    // Counted first: most command ids have one copy, and those need no list of their events.
    const listed = new Map<string, number>();
    let several = false;
    for (const index of indices) {
      for (const commandId of this.packs[index]!.commandIds) {
        const count = (listed.get(commandId) ?? 0) + 1;
        listed.set(commandId, count);
        several ||= count > 1;
      }
    }
    if (!several) return undefined;
    const copies = new Map<string, { key: string; events: EventRecord[] }[]>();
    for (const index of indices) {
      const pack = this.packs[index]!;
      for (const commandId of pack.commandIds) {
        if (listed.get(commandId)! < 2) continue;
        const list = copies.get(commandId) ?? [];
        list.push({ key: this.keys[index]!, events: pack.events.filter((e) => e.causationId === commandId) });
        copies.set(commandId, list);
      }
    }
    const dropped = new Set<EventRecord>();
    for (const list of copies.values()) {
      const first = (events: readonly EventRecord[]) => [...events].sort(replayOrder)[0];
      const survivor = list.reduce((best, copy) => {
        const a = first(copy.events);
        const b = first(best.events);
        if (a && b) return replayOrder(a, b) < 0 ? copy : best;
        if (a || b) return a ? copy : best;
        return copy.key < best.key ? copy : best;
      });
      for (const copy of list) if (copy !== survivor) for (const e of copy.events) dropped.add(e);
    }
    return dropped;
  }

  /** `index` and its ancestors whose state is not known yet, parents before children (index order). */
  private missingStatesUpTo(index: number): number[] {
    const seen = new Array<number>(this.keys.length).fill(0);
    const needed: number[] = [];
    const pending = [index];
    while (pending.length > 0) {
      const at = pending.pop()!;
      if (seen[at] || this.stateKnown[at]) continue;
      seen[at] = 1;
      needed.push(at);
      const parents = this.parents[at]!;
      for (let n = 0; n < parents.length; n++) {
        if (parents[n] === -1) throw new Error(`oracle: no pack ${clockKey(this.packs[at]!.parents[n]!)}`);
        pending.push(parents[n]!);
      }
    }
    return needed.sort((a, b) => a - b);
  }
}
