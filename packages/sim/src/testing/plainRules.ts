import type { AnyActorDefinition, EventRecord, Pack, VectorClock } from '@troupe/runtime';
import { applyEvents, clockAtOrBefore, clockKey, clockMax, clockWeight, replayOrder, tickMs } from '../oracle/index.js';

/**
 * The ordering oracle's rules written the plain way (key sets, filters, sorts, recursion; nothing
 * kept between calls), for the specs that hold `OrderingOracle` to them on random histories
 * (oracleRules: command heads, cuts, ancestries; oracleMergeRules: states and merges). The oracle
 * keeps indices, marks and caches for the checks' speed; this must answer the same.
 */
export class PlainRules {
  private readonly packs = new Map<string, Pack>();
  constructor(private readonly definition: AnyActorDefinition, packs: readonly Pack[]) {
    for (const pack of packs) this.packs.set(clockKey(pack.version), pack);
  }
  private get(key: string): Pack {
    const pack = this.packs.get(key);
    if (!pack) throw new Error(`oracle: no pack ${key}`);
    return pack;
  }
  private weight = (key: string): number => clockWeight(this.get(key).version);
  ancestry(key: string): Set<string> {
    const out = new Set<string>();
    const pending = [key];
    while (pending.length > 0) {
      const at = pending.pop()!;
      if (out.has(at)) continue;
      out.add(at);
      for (const parent of this.get(at).parents) pending.push(clockKey(parent));
    }
    return out;
  }
  commandHeadsAt(version: VectorClock): string[] {
    const below = [...this.packs.entries()].filter(([, p]) => p.kind === 'command' && clockAtOrBefore(p.version, version)).sort(([, a], [, b]) => clockWeight(b.version) - clockWeight(a.version));
    const maxima: [string, Pack][] = [];
    for (const [key, p] of below) if (!maxima.some(([, m]) => clockAtOrBefore(p.version, m.version))) maxima.push([key, p]);
    return maxima.map(([key]) => key).sort();
  }
  latestCut(heads: readonly string[]): string | undefined {
    const histories = heads.map((h) => this.ancestry(h));
    const parentsFirst = [...new Set(histories.flatMap((h) => [...h]))].sort((a, b) => this.weight(a) - this.weight(b) || (a < b ? -1 : 1));
    const shared = parentsFirst.filter((key) => histories.every((h) => h.has(key)));
    for (const candidate of shared.reverse()) {
      const before = this.ancestry(candidate);
      const after = new Set<string>();
      const isCut = parentsFirst.every((key) => {
        if (before.has(key)) return true;
        if (!this.get(key).parents.some((p) => clockKey(p) === candidate || after.has(clockKey(p)))) return false;
        after.add(key);
        return true;
      });
      if (isCut) return candidate;
    }
    return undefined;
  }
  /** The state at a version: recursion over the parents, nothing kept. */
  stateAt(key: string): unknown {
    const pack = this.get(key);
    if (pack.kind === 'merge') return this.merge(this.commandHeadsAt(pack.version)).state;
    const parent = pack.parents[0];
    return applyEvents(this.definition, parent === undefined ? this.definition.initial() : this.stateAt(clockKey(parent)), pack.events);
  }
  merge(headKeys: readonly string[]) {
    const heads = [...headKeys].sort();
    if (heads.length === 0) throw new Error('oracle: a merge of no command heads');
    const ancestor = this.latestCut(heads);
    const shared = ancestor === undefined ? new Set<string>() : this.ancestry(ancestor);
    const branchPacks = heads.map((h) => [...this.ancestry(h)].filter((k) => !shared.has(k)));
    const after = [...new Set(branchPacks.flat())].sort();
    const packOf = new Map<EventRecord, string>();
    for (const key of after) for (const event of this.get(key).events) packOf.set(event, key);
    // Duplicate copies: per command id listed by several packs, all but the copy whose first event replays first.
    const copies = new Map<string, { key: string; events: EventRecord[] }[]>();
    for (const key of after) {
      for (const commandId of this.get(key).commandIds) copies.set(commandId, [...(copies.get(commandId) ?? []), { key, events: this.get(key).events.filter((e) => e.causationId === commandId) }]);
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
    const replayed = [...packOf.keys()].filter((e) => !dropped.has(e)).sort(replayOrder);
    const ancestorState = ancestor === undefined ? this.definition.initial() : this.stateAt(ancestor);
    const merged = applyEvents(this.definition, ancestorState, replayed);
    const branches = branchPacks.map((keys) => replayed.filter((e) => keys.includes(packOf.get(e)!)));
    const actor = this.get(heads[0]!).actor;
    const version = clockKey(clockMax(heads.map((h) => this.get(h).version)));
    const ts = Math.max(...heads.map((h) => this.get(h).ts)) + tickMs;
    const emitted = this.definition.onMerge?.(merged, { actor, ancestorState, replayed, branches }) ?? [];
    const compensations = emitted.map((e: { type: string; data: unknown }, n: number) => ({
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
}
