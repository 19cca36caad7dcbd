import { type AnyActorDefinition, compareEvents, fold } from '../actor/index.js';
import type { EventRecord, Pack } from '../model/index.js';
import { tick } from '../resolution/index.js';
import { VC } from '../vectorClock/index.js';

/**
 * A deliberately naive reference of divergence resolution, for checkers: it holds every pack of
 * one actor in memory and works with whole ancestor sets instead of the runtime's bounded walk.
 * Slow (each merge costs time linear in the whole history, so checking every merge of a run is
 * quadratic; memory stays linear), simple, and written separately from `computeMerge`, so that
 * the two can be compared on any history.
 */
export class ReferenceModel {
  private readonly packs = new Map<string, Pack>();
  private readonly ancestorSets = new Map<string, Set<string>>();
  private readonly states = new Map<string, unknown>();

  constructor(private readonly definition: AnyActorDefinition, packs: Iterable<Pack>) {
    for (const pack of packs) this.packs.set(VC.encode(pack.version), pack);
  }

  /**
   * The pack and all its ancestors (keys). Computed by a walk each time, with a small cache:
   * keeping every pack's set would take memory quadratic in the history (a 30,000-step
   * simulation ran out of a 4 GB heap that way).
   */
  ancestry(key: string): Set<string> {
    const known = this.ancestorSets.get(key);
    if (known) return known;
    const out = new Set<string>();
    const stack = [key];
    while (stack.length > 0) {
      const k = stack.pop()!;
      if (out.has(k)) continue;
      out.add(k);
      for (const parent of this.parentKeysOf(k)) if (!out.has(parent)) stack.push(parent);
    }
    if (this.ancestorSets.size >= ReferenceModel.cachedSetsMax) this.ancestorSets.clear();
    this.ancestorSets.set(key, out);
    return out;
  }

  private static readonly cachedSetsMax = 64;
  private readonly parentKeys = new Map<string, readonly string[]>();

  private parentKeysOf(key: string): readonly string[] {
    let keys = this.parentKeys.get(key);
    if (keys === undefined) this.parentKeys.set(key, (keys = this.get(key).parents.map((p) => VC.encode(p))));
    return keys;
  }

  /**
   * `key` and its ancestors not in `done`, every pack after its parents: an iterative post-order
   * walk (histories are far deeper than the call stack).
   */
  private parentsFirst(key: string, done: ReadonlyMap<string, unknown>): string[] {
    const order: string[] = [];
    const seen = new Set<string>();
    const stack: { key: string; expanded: boolean }[] = [{ key, expanded: false }];
    while (stack.length > 0) {
      const top = stack.pop()!;
      if (top.expanded) {
        order.push(top.key);
        continue;
      }
      if (seen.has(top.key) || done.has(top.key)) continue;
      seen.add(top.key);
      stack.push({ key: top.key, expanded: true });
      for (const parentKey of this.parentKeysOf(top.key)) {
        if (!seen.has(parentKey) && !done.has(parentKey)) stack.push({ key: parentKey, expanded: false });
      }
    }
    return order;
  }

  /** Maximal command packs whose version is at or before `version`: what a merge at `version` merges. */
  commandHeadsAt(version: Record<string, number>): string[] {
    // Heaviest first: whatever dominates a pack is strictly heavier, so it was seen before it, and
    // some maximal pack already chosen dominates it too (transitivity). So a pack is maximal when
    // no maximal pack chosen so far dominates it: |below| x |maxima| comparisons, not |below|^2.
    const below = [...this.packs.values()]
      .filter((p) => p.kind === 'command' && VC.dominatedBy(p.version, version))
      .sort((a, b) => VC.weight(b.version) - VC.weight(a.version));
    const maxima: Pack[] = [];
    for (const p of below) if (!maxima.some((m) => VC.dominatedBy(p.version, m.version))) maxima.push(p);
    return maxima.map((p) => VC.encode(p.version)).sort();
  }

  /** The latest pack every other pack of the union of the heads' ancestries is an ancestor or a descendant of. */
  latestCut(headKeys: readonly string[]): string | undefined {
    const union = new Set<string>();
    for (const key of headKeys) for (const k of this.ancestry(key)) union.add(k);
    // A cut is an ancestor of every head; cuts are totally ordered, so the latest one is the cut of
    // greatest clock weight. Check common ancestors from the heaviest down and stop at the first cut.
    const headSets = headKeys.map((h) => this.ancestry(h));
    // Lightest first: a pack's parents are strictly lighter, so this lists parents before children.
    const members = [...union].map((k) => ({ k, weight: this.weightOf(k) })).sort((a, b) => a.weight - b.weight || (a.k < b.k ? -1 : 1));
    const common = members.filter(({ k }) => headSets.every((set) => set.has(k))).reverse();
    for (const { k: candidate } of common) {
      // A cut: every member of the union is an ancestor of the candidate or a descendant of it
      // (one of its parents is the candidate or a descendant: parents come first in `members`).
      const below = this.ancestry(candidate);
      const descendants = new Set<string>([candidate]);
      let isCut = true;
      for (const { k } of members) {
        if (below.has(k)) continue;
        if (this.parentKeysOf(k).some((p) => descendants.has(p))) descendants.add(k);
        else {
          isCut = false;
          break;
        }
      }
      if (isCut) return candidate;
    }
    return undefined;
  }

  /** State at a version, recomputed from scratch (snapshots and carried merge states ignored). */
  stateAt(key: string): unknown {
    if (this.states.has(key)) return this.states.get(key);
    // Parents first, so a command pack folds onto its parent's state and a merge finds the state
    // of its common ancestor already computed: no recursion as deep as the history.
    for (const k of this.parentsFirst(key, this.states)) {
      const pack = this.get(k);
      let state: unknown;
      if (pack.kind === 'command') {
        const parent = pack.parents[0];
        const base = parent ? this.states.get(VC.encode(parent)) : this.definition.initial();
        state = fold(this.definition, base, pack.events);
      } else {
        state = this.merge(this.commandHeadsAt(pack.version)).state;
      }
      this.states.set(k, state);
    }
    return this.states.get(key);
  }

  /** The merge of the given command heads: its compensations, state and replay order. */
  merge(headKeys: readonly string[]): { state: unknown; replayed: EventRecord[]; compensations: EventRecord[]; ancestor?: string } {
    const ancestor = this.latestCut(headKeys);
    const below = ancestor ? this.ancestry(ancestor) : new Set<string>();
    const after = new Set<string>();
    for (const key of headKeys) for (const k of this.ancestry(key)) if (!below.has(k)) after.add(k);
    const all: { event: EventRecord; pack: string }[] = [];
    for (const key of after) for (const event of this.get(key).events) all.push({ event, pack: key });
    const ordered = all.sort((a, b) => compareEvents(a.event, b.event));
    const firstPackOfCommand = new Map<string, string>();
    for (const { event, pack } of ordered) {
      if (this.get(pack).commandIds.includes(event.causationId) && !firstPackOfCommand.has(event.causationId)) {
        firstPackOfCommand.set(event.causationId, pack);
      }
    }
    const replayed = ordered
      .filter(({ event, pack }) => (firstPackOfCommand.get(event.causationId) ?? pack) === pack)
      .map((x) => x.event);
    const ancestorState = ancestor ? this.stateAt(ancestor) : this.definition.initial();
    const merged = fold(this.definition, ancestorState, replayed);
    const versionKey = VC.encode(VC.mergeAll(headKeys.map(VC.decode)));
    const ts = Math.max(...headKeys.map((k) => this.get(k).ts)) + tick;
    const branches = headKeys.map((h) => replayed.filter((e) => this.ancestry(h).has(this.packOf(e, after))));
    const emitted = this.definition.onMerge?.(merged, { actor: this.get(headKeys[0]!).actor, ancestorState, replayed, branches }) ?? [];
    const compensations: EventRecord[] = emitted.map((e: { type: string; data: unknown }, i: number) => ({
      id: `m${versionKey}#${String(i).padStart(4, '0')}`,
      actor: this.get(headKeys[0]!).actor,
      type: e.type,
      data: e.data,
      ts,
      correlationId: `merge:${versionKey}`,
      causationId: `merge:${versionKey}`,
      replica: 'merge',
    }));
    return { state: fold(this.definition, merged, compensations), replayed, compensations, ...(ancestor ? { ancestor } : {}) };
  }

  /** Current heads by version dominance. */
  heads(): string[] {
    const all = [...this.packs.values()];
    return all
      .filter((p) => !all.some((q) => q !== p && VC.dominatedBy(p.version, q.version)))
      .map((p) => VC.encode(p.version))
      .sort();
  }

  private readonly weights = new Map<string, number>();

  private weightOf(key: string): number {
    let weight = this.weights.get(key);
    if (weight === undefined) this.weights.set(key, (weight = VC.weight(this.get(key).version)));
    return weight;
  }

  get(key: string): Pack {
    const pack = this.packs.get(key);
    if (!pack) throw new Error(`reference model: no pack ${key}`);
    return pack;
  }

  private packOf(event: EventRecord, keys: Iterable<string>): string {
    for (const key of keys) if (this.get(key).events.includes(event)) return key;
    return '';
  }
}
