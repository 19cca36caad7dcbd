import { actorKey } from '@troupe/runtime/store';
import { appliedIds, eventIndex } from './history.js';
import type { ReplyRecord } from './replies.js';
import { type CheckContext, type CheckResult, Verdict } from './types.js';

/**
 * I1 no lost acknowledged event: on every replica, the final state of each actor holds every
 * acknowledged command's events exactly once. Per command id: a command accepted at two replicas
 * (a retry during a partition) must be present through exactly one of its copies, whole; and no
 * event is folded twice.
 */
export function checkI1(ctx: CheckContext): CheckResult {
  const verdict = new Verdict();
  const byActor = new Map<string, string[]>();
  for (const [commandId, replies] of ctx.acks) {
    const key = actorKey(replies[0]!.command.actor);
    const ids = byActor.get(key);
    if (ids) ids.push(commandId);
    else byActor.set(key, [commandId]);
  }
  for (const actor of ctx.actors) {
    const key = actorKey(actor);
    const index = eventIndex(ctx, key);
    for (const replica of ctx.replicas) {
      const applied = appliedIds(ctx, actor.type, replica.views.get(key));
      if (!applied) continue; // not converged: I2 says so
      const seen = new Set<string>();
      for (const id of applied) {
        if (seen.has(id)) verdict.fail(key, `${replica.id}: event ${id} (${index.get(id)?.event.type}) is in the history twice`);
        seen.add(id);
      }
      // The history's event ids by the command that caused them, in one pass (not one per command).
      const byCommand = new Map<string, string[]>();
      for (const id of applied) {
        const cause = index.get(id)?.event.causationId;
        if (cause === undefined) continue;
        const ids = byCommand.get(cause);
        if (ids) ids.push(id);
        else byCommand.set(cause, [id]);
      }
      for (const commandId of byActor.get(key) ?? []) {
        verdict.checked++;
        const inHistory = byCommand.get(commandId) ?? [];
        const packs = new Set(inHistory.map((id) => index.get(id)!.pack));
        const copies = ctx.acks.get(commandId)!;
        if (inHistory.length === 0) {
          verdict.fail(key, `${replica.id}: acknowledged command ${commandId} (${eventType(copies[0]!)}) lost: none of its events is in the final history`);
        } else if (packs.size > 1) {
          verdict.fail(key, `${replica.id}: command ${commandId} is in the history through ${packs.size} copies`);
        } else {
          const [pack] = packs;
          const whole = ctx.allPacks.get(key)!.get(pack!)!.events.filter((e) => e.causationId === commandId).length;
          if (whole !== new Set(inHistory).size) verdict.fail(key, `${replica.id}: command ${commandId} has ${inHistory.length} of its ${whole} events in the history`);
        }
      }
    }
  }
  return verdict.result();
}

/** The type of the first event an acknowledged command's reply listed. */
function eventType(record: ReplyRecord): string | undefined {
  return record.reply.status === 'accepted' ? record.reply.events[0]?.type : undefined;
}
