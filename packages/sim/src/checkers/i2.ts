import { VC, actorKey } from '@troupe/runtime/store';
import { canonical, canonicalEqual } from '../canonical.js';
import { type CheckContext, type CheckResult, Verdict } from './types.js';

/**
 * I2 convergence: after the heal, replication went quiet within the allowed rounds, and every
 * replica holds the same packs and one head per actor, with equal versions and equal states.
 */
export function checkI2(ctx: CheckContext): CheckResult {
  const verdict = new Verdict();
  verdict.checked++;
  if (!ctx.convergence.converged) verdict.fail('*', ctx.convergence.detail ?? `did not converge within ${ctx.convergence.rounds} rounds`);
  for (const actor of ctx.actors) {
    const key = actorKey(actor);
    const first = ctx.replicas[0];
    // States are compared as canonical texts (`canonicalEqual`: written only to show a difference).
    const describe = (r: typeof first) => {
      const heads = r!.heads.get(key) ?? [];
      return { heads: heads.map((h) => VC.encode(h.version)), state: r!.views.get(key)?.state, packs: [...(r!.packs.get(key) ?? [])].sort().join(' ') };
    };
    const reference = describe(first);
    for (const replica of ctx.replicas) {
      verdict.checked++;
      const mine = replica === first ? reference : describe(replica);
      if (mine.heads.length !== 1) {
        verdict.fail(key, `${replica.id} has ${mine.heads.length} heads: ${mine.heads.join(' | ')}`);
        continue;
      }
      if (replica === first) continue;
      if (mine.heads[0] !== reference.heads[0]) verdict.fail(key, `${replica.id} head ${mine.heads[0]} differs from ${first!.id} head ${reference.heads[0]}`);
      else if (!canonicalEqual(mine.state, reference.state)) {
        verdict.fail(key, `${replica.id} state differs from ${first!.id}: ${String(canonical(mine.state)).slice(0, 200)} vs ${String(canonical(reference.state)).slice(0, 200)}`);
      }
      if (mine.packs !== reference.packs) verdict.fail(key, `${replica.id} does not hold the same packs as ${first!.id}`);
    }
  }
  return verdict.result();
}
