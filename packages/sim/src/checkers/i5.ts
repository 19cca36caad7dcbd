import { actorKey } from '@troupe/runtime/store';
import { eventIndex, reportPerReplica } from './history.js';
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
    let index: ReturnType<typeof eventIndex> | undefined;
    reportPerReplica(ctx, actor, verdict, (applied) => {
      index ??= eventIndex(ctx, key);
      // The packs each command's events came from: a pack key while there is one, a set from a second.
      const packsByCommand = new Map<string, string | Set<string>>();
      for (const id of applied) {
        const entry = index.get(id);
        if (!entry || entry.event.causationId.startsWith('merge:')) continue;
        const packs = packsByCommand.get(entry.event.causationId);
        if (packs === undefined) packsByCommand.set(entry.event.causationId, entry.pack);
        else if (typeof packs !== 'string') packs.add(entry.pack);
        else if (packs !== entry.pack) packsByCommand.set(entry.event.causationId, new Set([packs, entry.pack]));
      }
      const failures: string[] = [];
      for (const [commandId, packs] of packsByCommand) {
        if (typeof packs !== 'string') failures.push(`command ${commandId} applied ${packs.size} times (packs ${[...packs].join(' | ')})`);
      }
      return { checked: packsByCommand.size, failures };
    });
  }
  return verdict.result();
}
