import { actorKey } from '@troupe/runtime/store';
import { eventIndex, reportPerReplica } from './history.js';
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
    let index: ReturnType<typeof eventIndex> | undefined;
    const commandIds = byActor.get(key) ?? [];
    reportPerReplica(ctx, actor, verdict, (applied) => {
      index ??= eventIndex(ctx, key);
      const failures: string[] = [];
      const seen = new Set<string>();
      for (const id of applied) {
        if (seen.has(id)) failures.push(`event ${id} (${index.get(id)?.event.type}) is in the history twice`);
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
      for (const commandId of commandIds) {
        const inHistory = byCommand.get(commandId) ?? [];
        if (inHistory.length === 0) {
          failures.push(`acknowledged command ${commandId} (${eventType(ctx.acks.get(commandId)![0]!)}) lost: none of its events is in the final history`);
          continue;
        }
        // Sets only for a command with several events in the history (most have one).
        const packs = inHistory.length === 1 ? [index.get(inHistory[0]!)!.pack] : [...new Set(inHistory.map((id) => index!.get(id)!.pack))];
        if (packs.length > 1) {
          failures.push(`command ${commandId} is in the history through ${packs.length} copies`);
        } else {
          let whole = 0;
          for (const e of ctx.allPacks.get(key)!.get(packs[0]!)!.events) if (e.causationId === commandId) whole++;
          const distinct = inHistory.length === 1 ? 1 : new Set(inHistory).size;
          if (whole !== distinct) failures.push(`command ${commandId} has ${inHistory.length} of its ${whole} events in the history`);
        }
      }
      return { checked: commandIds.length, failures };
    });
  }
  return verdict.result();
}

/** The type of the first event an acknowledged command's reply listed. */
function eventType(record: ReplyRecord): string | undefined {
  return record.reply.status === 'accepted' ? record.reply.events[0]?.type : undefined;
}
