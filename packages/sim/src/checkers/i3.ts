import { type Pack, type VectorClock, VC, actorKey } from '@troupe/runtime/store';
import { canonical, canonicalEqual } from '../canonical.js';
import { appliedIds, versionKey } from './history.js';
import { type CheckContext, type CheckResult, Verdict } from './types.js';

/**
 * I3 deterministic order: each replica's final state equals the ordering oracle's recomputation
 * at its head (`oracle/`, written from the README's rules and sharing no code with the runtime;
 * same events, same order: the traced state lists them); every merge pack is the one the oracle
 * computes for its version (state, parents = command heads, version = their pointwise max,
 * compensations with their ids and ts); no event is folded before an event of one of its pack's
 * ancestors (causes before effects); and the events of one pack are folded in the order the pack
 * lists them (a command's events in the order it emitted them).
 */
export function checkI3(ctx: CheckContext): CheckResult {
  const verdict = new Verdict();
  for (const actor of ctx.actors) {
    const key = actorKey(actor);
    const reference = ctx.references.get(key)!;
    // States and events are compared as canonical texts (`canonicalEqual`: the texts are written
    // only when the values are not plainly equal, e.g. to show a difference).
    for (const replica of ctx.replicas) {
      const heads = replica.heads.get(key) ?? [];
      const view = replica.views.get(key);
      if (heads.length !== 1 || !view) continue; // I2
      verdict.checked++;
      const headKey = VC.encode(heads[0]!.version);
      const expected = reference.stateAt(headKey);
      if (!canonicalEqual(view.state, expected)) {
        verdict.fail(key, `${replica.id}: state at ${headKey} differs from the reference: ${canonical(view.state).slice(0, 300)} vs ${canonical(expected).slice(0, 300)}`);
      }
    }
    const packs: ReadonlyMap<string, Pack> = ctx.allPacks.get(key) ?? new Map();
    for (const [packKey, pack] of packs) {
      if (pack.kind !== 'merge') continue;
      verdict.checked++;
      if (!canonicalEqual(pack.state, reference.stateAt(packKey))) verdict.fail(key, `merge pack ${packKey} carries a state that differs from the reference`);
      const merge = reference.mergeAt(packKey);
      if (merge.version !== packKey) verdict.fail(key, `merge pack ${packKey}: the pointwise max of its command heads (${merge.heads.join(' ')}) is ${merge.version}`);
      const parents = pack.parents.map(versionKey).sort();
      if (parents.join(' ') !== merge.heads.join(' ')) verdict.fail(key, `merge pack ${packKey}: parents ${parents.join(' ')}, but its command heads are ${merge.heads.join(' ')}`);
      if (!canonicalEqual(pack.events, merge.compensations)) {
        const compensations = canonical(pack.events);
        verdict.fail(key, `merge pack ${packKey}: compensations ${compensations.slice(0, 300)} differ from the reference's ${canonical(merge.compensations).slice(0, 300)}`);
      }
    }
    // Causes before effects, in the first replica's final history.
    const first = ctx.replicas.find((r) => r.views.get(key));
    const applied = appliedIds(ctx, actor.type, first?.views.get(key));
    if (!applied) continue;
    const position = new Map<string, number>();
    applied.forEach((id, i) => position.has(id) || position.set(id, i));
    // Per pack (in `packs` order): the positions of its events in the history (undefined: not
    // folded) and its parents' version keys, each made once (a parent is mostly its parent pack's
    // very version object, whose key is known).
    const entries = [...packs];
    const keyOfVersion = new Map<VectorClock, string>();
    for (const [packKey, pack] of entries) keyOfVersion.set(pack.version, packKey);
    const positions: (number | undefined)[][] = [];
    const parentKeys: string[][] = [];
    const weights: number[] = [];
    for (const [, pack] of entries) {
      const at: (number | undefined)[] = [];
      for (const e of pack.events) at.push(position.get(e.id));
      positions.push(at);
      const keys: string[] = [];
      for (const parent of pack.parents) keys.push(keyOfVersion.get(parent) ?? VC.encode(parent));
      parentKeys.push(keys);
      weights.push(VC.weight(pack.version));
    }
    // latest(pack) = the latest position of an event of the pack or of any of its ancestors,
    // computed once per pack over the parent links: linear in the history, where comparing each
    // pack with each ancestor was quadratic (and made long simulations slow down as they grew).
    // Lighter versions first: a pack's parents are strictly lighter, so they are done before it
    // (a loop, not a recursion as deep as the history).
    const latest = new Map<string, number>();
    const byWeight = [...entries.keys()].sort((a, b) => weights[a]! - weights[b]!);
    for (const i of byWeight) {
      let at = -1;
      for (const p of positions[i]!) if (p !== undefined && p > at) at = p;
      for (const parentKey of parentKeys[i]!) at = Math.max(at, latest.get(parentKey) ?? -1);
      latest.set(entries[i]![0], at);
    }
    // Inside one pack: its events in the order the pack lists them (one command's events share a
    // ts, so only the id tie-break orders them in a merge's replay).
    for (let i = 0; i < entries.length; i++) {
      const [packKey, pack] = entries[i]!;
      // The first event folded before the folded event the pack lists before it, if any.
      let folded = 0;
      let previous = -1;
      let outOfOrder = -1;
      const at = positions[i]!;
      for (let n = 0; n < at.length; n++) {
        if (at[n] === undefined) continue;
        folded++;
        if (folded > 1 && at[n]! < at[previous]!) {
          outOfOrder = n;
          break;
        }
        previous = n;
      }
      if (folded < 2) continue;
      verdict.checked++;
      if (outOfOrder !== -1) {
        verdict.fail(key, `${first!.id}: event ${pack.events[outOfOrder]!.id} of pack ${packKey} is folded before ${pack.events[previous]!.id}, which the pack lists before it`);
      }
    }
    for (let i = 0; i < entries.length; i++) {
      const [packKey] = entries[i]!;
      let earliest = Infinity;
      for (const p of positions[i]!) if (p !== undefined && p < earliest) earliest = p;
      if (earliest === Infinity) continue; // no effect folded
      verdict.checked++;
      let latestCause = -1;
      for (const parentKey of parentKeys[i]!) latestCause = Math.max(latestCause, latest.get(parentKey) ?? -1);
      if (latestCause < earliest) continue;
      // Name the offending cause (the slow way, only for a failure).
      for (const ancestorKey of reference.ancestry(packKey)) {
        if (ancestorKey === packKey) continue;
        for (const cause of reference.get(ancestorKey).events) {
          const at = position.get(cause.id);
          if (at !== undefined && at > earliest) {
            verdict.fail(key, `${first!.id}: ${cause.id} (pack ${ancestorKey}) replays after an effect in descendant pack ${packKey}`);
          }
        }
      }
    }
  }
  return verdict.result();
}
