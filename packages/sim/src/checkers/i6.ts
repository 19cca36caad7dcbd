import { actorKey } from '@troupe/runtime/store';
import { type CheckContext, type CheckResult, type ResolutionRecord, Verdict } from './types.js';

/**
 * I6 bounded cost. Each resolution read only packs after the latest common ancestor of the heads
 * it merged (the ordering oracle's cut), plus at most `snapshotEvery` packs at or below it to load
 * the ancestor's state; each load outside resolutions read at most `snapshotEvery` packs after its
 * snapshot (or merge). Never the whole history.
 */
export function checkI6(ctx: CheckContext): CheckResult {
  const verdict = new Verdict();
  // Actor by actor (in the order first resolved), so each actor's oracle is made once (`References`).
  const byActor = new Map<string, ResolutionRecord[]>();
  for (const resolution of ctx.resolutions) {
    const key = actorKey(resolution.actor);
    const list = byActor.get(key);
    if (list) list.push(resolution);
    else byActor.set(key, [resolution]);
  }
  for (const [key, resolutions] of byActor) {
    const reference = ctx.references.get(key);
    if (!reference) continue;
    for (const resolution of resolutions) {
      verdict.checked++;
      const bound = ctx.definitions.get(resolution.actor.type)!.snapshotEvery;
      // The packs read at or before the cut (the oracle keeps each cut and the last ancestor sets:
      // the replicas resolve the same heads, and I3 asked for the cuts of the merges already).
      let readBelow: number;
      try {
        const cut = reference.latestCut(resolution.headKeys);
        readBelow = cut ? reference.countInAncestry(cut, resolution.readKeys) : 0;
      } catch (error) {
        verdict.fail(key, `r${resolution.replica}: merge ${resolution.version}: ${(error as Error).message}`);
        continue;
      }
      if (readBelow <= bound) continue;
      verdict.fail(
        key,
        `r${resolution.replica}: merge ${resolution.version} read ${readBelow} packs at or before the common ancestor (snapshotEvery ${bound}; ${resolution.readKeys.length} read in all)`,
      );
    }
  }
  for (const replica of ctx.replicas) {
    // Checked by the store wrapper as they happened (against the type's snapshotEvery).
    verdict.checked += replica.store.loadsChecked;
    for (const load of replica.store.oversizeLoads) {
      verdict.fail(load.actor, `${replica.id}: loading ${load.version} read ${load.packs} packs (snapshotEvery ${load.bound})`);
    }
  }
  return verdict.result();
}
