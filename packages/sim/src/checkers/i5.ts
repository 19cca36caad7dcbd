import { actorKey } from '@troupe/runtime/store';
import { appliedIds, eventIndex } from './history.js';
import { type CheckContext, type CheckResult, Verdict } from './types.js';

/**
 * I5 isolation: no replica ever had two appends of one actor in flight at once (the store
 * wrapper counts them during the run), and no command id is applied twice in any final history
 * (all its events there come from one pack).
 */
export function checkI5(ctx: CheckContext): CheckResult {
  const verdict = new Verdict();
  for (const replica of ctx.replicas) {
    verdict.checked += replica.store.appendsChecked;
    for (const v of replica.store.isolationViolations) verdict.fail(v.actor, v.detail);
  }
  for (const actor of ctx.actors) {
    const key = actorKey(actor);
    const index = eventIndex(ctx, key);
    for (const replica of ctx.replicas) {
      const applied = appliedIds(ctx, actor.type, replica.views.get(key));
      if (!applied) continue;
      const packsByCommand = new Map<string, Set<string>>();
      for (const id of applied) {
        const entry = index.get(id);
        if (!entry || entry.event.causationId.startsWith('merge:')) continue;
        const packs = packsByCommand.get(entry.event.causationId) ?? new Set<string>();
        packs.add(entry.pack);
        packsByCommand.set(entry.event.causationId, packs);
      }
      for (const [commandId, packs] of packsByCommand) {
        verdict.checked++;
        if (packs.size > 1) verdict.fail(key, `${replica.id}: command ${commandId} applied ${packs.size} times (packs ${[...packs].join(' | ')})`);
      }
    }
  }
  return verdict.result();
}
