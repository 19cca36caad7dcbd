import type { AnyActorDefinition, EventRecord, Pack } from '@troupe/runtime';
import { clockAtOrBefore, clockKey, clockMax, clockWeight } from './clock.js';
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
 */
export class OrderingOracle {
  private readonly packs = new Map<string, Pack>();
  private readonly parentKeys = new Map<string, readonly string[]>();
  private readonly weights = new Map<string, number>();
  private readonly states = new Map<string, unknown>();
  private readonly merges = new Map<string, OracleMerge>();
  private readonly ancestries = new Map<string, ReadonlySet<string>>();
  /** Ancestor sets kept at once: keeping every pack's set takes memory quadratic in the history. */
  private static readonly ancestriesKeptMax = 64;

  constructor(private readonly definition: AnyActorDefinition, packs: Iterable<Pack>) {
    for (const pack of packs) {
      const key = clockKey(pack.version);
      this.packs.set(key, pack);
      this.parentKeys.set(key, pack.parents.map(clockKey));
      this.weights.set(key, clockWeight(pack.version));
    }
  }

  /** Packs in the history. */
  get size(): number {
    return this.packs.size;
  }

  /** The pack at a version key; throws when the history has none. */
  get(key: string): Pack {
    const pack = this.packs.get(key);
    if (!pack) throw new Error(`oracle: no pack ${key}`);
    return pack;
  }

  /** The pack at `key` and every pack it descends from (keys). */
  ancestry(key: string): ReadonlySet<string> {
    const known = this.ancestries.get(key);
    if (known) return known;
    const out = new Set<string>();
    const pending = [key];
    while (pending.length > 0) {
      const at = pending.pop()!;
      if (out.has(at)) continue;
      this.get(at);
      out.add(at);
      for (const parent of this.parentKeys.get(at)!) pending.push(parent);
    }
    if (this.ancestries.size >= OrderingOracle.ancestriesKeptMax) this.ancestries.clear();
    this.ancestries.set(key, out);
    return out;
  }

  /** The command packs a merge at `version` merges: the maximal ones at or before it (sorted keys). */
  commandHeadsAt(version: Pack['version']): string[] {
    // Heaviest first: a pack that dominates another is heavier, so it is met first, and a pack is
    // maximal when no maximal pack met before it is at or after it (|below| x |maxima| comparisons).
    const below = [...this.packs.entries()]
      .filter(([, p]) => p.kind === 'command' && clockAtOrBefore(p.version, version))
      .sort(([a], [b]) => this.weights.get(b)! - this.weights.get(a)!);
    const maxima: Pack[] = [];
    const keys: string[] = [];
    for (const [key, p] of below) {
      if (maxima.some((m) => clockAtOrBefore(p.version, m.version))) continue;
      maxima.push(p);
      keys.push(key);
    }
    return keys.sort();
  }

  /**
   * The latest pack that every head descends from and that every pack of the heads' histories
   * either descends from or precedes; undefined when there is none (e.g. two roots).
   */
  latestCut(headKeys: readonly string[]): string | undefined {
    const histories = headKeys.map((h) => this.ancestry(h));
    const union = new Set<string>();
    for (const history of histories) for (const key of history) union.add(key);
    const parentsFirst = [...union].sort((a, b) => this.weights.get(a)! - this.weights.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
    const shared = parentsFirst.filter((key) => histories.every((h) => h.has(key)));
    for (let i = shared.length - 1; i >= 0; i--) {
      const candidate = shared[i]!;
      const before = this.ancestry(candidate);
      const after = new Set<string>();
      const isCut = parentsFirst.every((key) => {
        if (before.has(key)) return true;
        if (!this.parentKeys.get(key)!.some((p) => p === candidate || after.has(p))) return false;
        after.add(key);
        return true;
      });
      if (isCut) return candidate;
    }
    return undefined;
  }

  /** The state at a version, from the initial state, snapshots and the states merge packs carry ignored. */
  stateAt(key: string): unknown {
    if (this.states.has(key)) return this.states.get(key);
    for (const at of this.missingStatesUpTo(key)) {
      const pack = this.get(at);
      let state: unknown;
      if (pack.kind === 'merge') state = this.mergeAt(at).state;
      else {
        const parent = this.parentKeys.get(at)![0];
        state = applyEvents(this.definition, parent === undefined ? this.definition.initial() : this.states.get(parent), pack.events);
      }
      this.states.set(at, state);
    }
    return this.states.get(key);
  }

  /** What the merge pack at `key` must be (from the command heads at its version). */
  mergeAt(key: string): OracleMerge {
    let merge = this.merges.get(key);
    if (!merge) this.merges.set(key, (merge = this.merge(this.commandHeadsAt(this.get(key).version))));
    return merge;
  }

  /** The merge of these command heads, by the rules above. */
  merge(headKeys: readonly string[]): OracleMerge {
    const heads = [...headKeys].sort();
    const ancestor = this.latestCut(heads);
    const shared = ancestor === undefined ? new Set<string>() : this.ancestry(ancestor);
    const branchPacks = heads.map((h) => [...this.ancestry(h)].filter((k) => !shared.has(k)));
    const after = [...new Set(branchPacks.flat())].sort();
    const packOf = new Map<EventRecord, string>();
    for (const key of after) for (const event of this.get(key).events) packOf.set(event, key);
    const dropped = this.duplicateCopies(after);
    const replayed = [...packOf.keys()].filter((e) => !dropped.has(e)).sort(replayOrder);
    const ancestorState = ancestor === undefined ? this.definition.initial() : this.stateAt(ancestor);
    const merged = applyEvents(this.definition, ancestorState, replayed);
    const branches = branchPacks.map((keys) => {
      const inBranch = new Set(keys);
      return replayed.filter((e) => inBranch.has(packOf.get(e)!));
    });
    const actor = this.get(heads[0]!).actor;
    const version = clockKey(clockMax(heads.map((h) => this.get(h).version)));
    const ts = Math.max(...heads.map((h) => this.get(h).ts)) + tickMs;
    const emitted = this.definition.onMerge?.(merged, { actor, ancestorState, replayed, branches }) ?? [];
    const compensations: EventRecord[] = emitted.map((e: { type: string; data: unknown }, n: number) => ({
      id: `m${version}#${String(n).padStart(4, '0')}`,
      actor: { type: actor.type, id: actor.id },
      type: e.type,
      data: e.data,
      ts,
      correlationId: `merge:${version}`,
      causationId: `merge:${version}`,
      replica: 'merge',
    }));
    const state = applyEvents(this.definition, merged, compensations);
    return { heads, version, ...(ancestor === undefined ? {} : { ancestor }), replayed, compensations, state };
  }

  /**
   * Events of the copies that lose: for each command id listed by several of `keys`' packs, every
   * copy but the one whose first event (of that command) replays first is dropped.
   */
  private duplicateCopies(keys: readonly string[]): Set<EventRecord> {
    const copies = new Map<string, { key: string; events: EventRecord[] }[]>();
    for (const key of keys) {
      const pack = this.get(key);
      for (const commandId of pack.commandIds) {
        const list = copies.get(commandId) ?? [];
        list.push({ key, events: pack.events.filter((e) => e.causationId === commandId) });
        copies.set(commandId, list);
      }
    }
    const dropped = new Set<EventRecord>();
    for (const list of copies.values()) {
      if (list.length < 2) continue;
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

  /** `key` and its ancestors whose state is not known yet, parents before children (a loop: histories are deeper than the stack). */
  private missingStatesUpTo(key: string): string[] {
    const needed: string[] = [];
    const seen = new Set<string>();
    const pending = [key];
    while (pending.length > 0) {
      const at = pending.pop()!;
      if (seen.has(at) || this.states.has(at)) continue;
      seen.add(at);
      this.get(at);
      needed.push(at);
      for (const parent of this.parentKeys.get(at)!) pending.push(parent);
    }
    return needed.sort((a, b) => this.weights.get(a)! - this.weights.get(b)!);
  }
}
