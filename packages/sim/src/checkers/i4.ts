import { VC, actorKey } from '@troupe/runtime/store';
import { commandHeads } from '@troupe/runtime/resolution';
import { canonicalEqual } from '../canonical.js';
import { collectPageSize } from '../collect.js';
import { type CheckContext, type CheckResult, type FinalReplica, Verdict } from './types.js';

/**
 * I4 idempotent resolution: recomputing each replica's final merge (with the resolution that
 * replica runs) gives back the very pack it holds; merging every replica's whole log into every
 * store again adds nothing; resolving again does nothing.
 */
export async function checkI4(ctx: CheckContext): Promise<CheckResult> {
  const verdict = new Verdict();
  for (const actor of ctx.actors) {
    const key = actorKey(actor);
    const definition = ctx.definitions.get(actor.type)!;
    for (const replica of ctx.replicas) {
      const heads = replica.heads.get(key) ?? [];
      if (heads.length !== 1 || heads[0]!.kind !== 'merge') continue;
      verdict.checked++;
      const head = heads[0]!;
      try {
        const merged = await commandHeads(replica.store.inner, actor, [head]);
        const again = await replica.strategy(replica.store.inner, definition, actor, merged);
        if (!canonicalEqual(again.pack, head)) {
          verdict.fail(key, `${replica.id}: resolving the heads of merge ${VC.encode(head.version)} again gives a different pack (version ${VC.encode(again.pack.version)})`);
        }
      } catch (error) {
        verdict.fail(key, `${replica.id}: resolving the heads of merge ${VC.encode(head.version)} again failed: ${(error as Error).message}`);
      }
    }
  }
  for (const source of ctx.replicas) {
    // Page by page, in log order (parents before children, as replication sends them): the whole
    // log decoded at once was a long run's peak memory.
    const added = new Map<FinalReplica, number>();
    const failed = new Map<FinalReplica, string>();
    let cursor: string | undefined;
    for (;;) {
      const page = await source.store.inner.changesSince(cursor, collectPageSize);
      if (page.packs.length === 0) break;
      for (const target of ctx.replicas) {
        if (failed.has(target)) continue;
        try {
          const report = await target.store.inner.merge(page.packs);
          added.set(target, (added.get(target) ?? 0) + report.added);
        } catch (error) {
          failed.set(target, (error as Error).message);
        }
      }
      cursor = page.cursor;
    }
    for (const target of ctx.replicas) {
      verdict.checked++;
      const error = failed.get(target);
      if (error !== undefined) verdict.fail('*', `merging ${source.id}'s log into ${target.id} again failed: ${error}`);
      else if ((added.get(target) ?? 0) > 0) verdict.fail('*', `merging ${source.id}'s log into ${target.id} again added ${added.get(target)} packs`);
    }
  }
  for (const replica of ctx.replicas) {
    for (const actor of ctx.actors) {
      if ((replica.heads.get(actorKey(actor)) ?? []).length !== 1) continue;
      verdict.checked++;
      try {
        const reply = await replica.runtime.resolve(actor);
        if (reply.resolved) verdict.fail(actorKey(actor), `${replica.id}: resolving again wrote merge ${VC.encode(reply.version ?? {})}`);
      } catch (error) {
        verdict.fail(actorKey(actor), `${replica.id}: resolving again failed: ${(error as Error).message}`);
      }
    }
  }
  return verdict.result();
}
