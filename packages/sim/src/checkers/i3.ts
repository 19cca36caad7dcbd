import { type Pack, VC, actorKey } from '@troupe/runtime/store';
import { canonical } from '../canonical.js';
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
    const expectedByHead = new Map<string, string>();
    for (const replica of ctx.replicas) {
      const heads = replica.heads.get(key) ?? [];
      const view = replica.views.get(key);
      if (heads.length !== 1 || !view) continue; // I2
      verdict.checked++;
      const headKey = VC.encode(heads[0]!.version);
      let expected = expectedByHead.get(headKey);
      if (expected === undefined) {
        expected = canonical(reference.stateAt(headKey));
        expectedByHead.set(headKey, expected);
      }
      const actual = canonical(view.state);
      if (actual !== expected) verdict.fail(key, `${replica.id}: state at ${headKey} differs from the reference: ${actual.slice(0, 300)} vs ${expected.slice(0, 300)}`);
    }
    const packs: ReadonlyMap<string, Pack> = ctx.allPacks.get(key) ?? new Map();
    for (const [packKey, pack] of packs) {
      if (pack.kind !== 'merge') continue;
      verdict.checked++;
      const expected = canonical(reference.stateAt(packKey));
      if (canonical(pack.state) !== expected) verdict.fail(key, `merge pack ${packKey} carries a state that differs from the reference`);
      const merge = reference.mergeAt(packKey);
      if (merge.version !== packKey) verdict.fail(key, `merge pack ${packKey}: the pointwise max of its command heads (${merge.heads.join(' ')}) is ${merge.version}`);
      const parents = pack.parents.map(versionKey).sort();
      if (parents.join(' ') !== merge.heads.join(' ')) verdict.fail(key, `merge pack ${packKey}: parents ${parents.join(' ')}, but its command heads are ${merge.heads.join(' ')}`);
      const compensations = canonical(pack.events);
      const expectedCompensations = canonical(merge.compensations);
      if (compensations !== expectedCompensations) {
        verdict.fail(key, `merge pack ${packKey}: compensations ${compensations.slice(0, 300)} differ from the reference's ${expectedCompensations.slice(0, 300)}`);
      }
    }
    // Causes before effects, in the first replica's final history.
    const first = ctx.replicas.find((r) => r.views.get(key));
    const applied = appliedIds(ctx, actor.type, first?.views.get(key));
    if (!applied) continue;
    const position = new Map<string, number>();
    applied.forEach((id, i) => position.has(id) || position.set(id, i));
    // latest(pack) = the latest position of an event of the pack or of any of its ancestors,
    // computed once per pack over the parent links: linear in the history, where comparing each
    // pack with each ancestor was quadratic (and made long simulations slow down as they grew).
    // Lighter versions first: a pack's parents are strictly lighter, so they are done before it
    // (a loop, not a recursion as deep as the history).
    const latest = new Map<string, number>();
    const byWeight = [...packs.entries()].sort(([, a], [, b]) => VC.weight(a.version) - VC.weight(b.version));
    for (const [packKey, pack] of byWeight) {
      let at = -1;
      for (const e of pack.events) at = Math.max(at, position.get(e.id) ?? -1);
      for (const parent of pack.parents) at = Math.max(at, latest.get(VC.encode(parent)) ?? -1);
      latest.set(packKey, at);
    }
    const latestOf = (packKey: string): number => latest.get(packKey) ?? -1;
    // Inside one pack: its events in the order the pack lists them (one command's events share a
    // ts, so only the id tie-break orders them in a merge's replay).
    for (const [packKey, pack] of packs) {
      const folded = pack.events.filter((e) => position.has(e.id));
      if (folded.length < 2) continue;
      verdict.checked++;
      const outOfOrder = folded.findIndex((e, i) => i > 0 && position.get(e.id)! < position.get(folded[i - 1]!.id)!);
      if (outOfOrder > 0) {
        verdict.fail(key, `${first!.id}: event ${folded[outOfOrder]!.id} of pack ${packKey} is folded before ${folded[outOfOrder - 1]!.id}, which the pack lists before it`);
      }
    }
    for (const [packKey, pack] of packs) {
      const effects = pack.events.filter((e) => position.has(e.id));
      if (effects.length === 0) continue;
      const earliest = Math.min(...effects.map((e) => position.get(e.id)!));
      verdict.checked++;
      const latestCause = Math.max(-1, ...pack.parents.map((p) => latestOf(VC.encode(p))));
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
