import { VC, actorKey, commandHeads } from '@troupe/runtime';
import { canonical } from '../canonical.js';
import { type CheckContext, type CheckResult, Verdict } from './types.js';

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
        if (canonical(again.pack) !== canonical(head)) {
          verdict.fail(key, `${replica.id}: resolving the heads of merge ${VC.encode(head.version)} again gives a different pack (version ${VC.encode(again.pack.version)})`);
        }
      } catch (error) {
        verdict.fail(key, `${replica.id}: resolving the heads of merge ${VC.encode(head.version)} again failed: ${(error as Error).message}`);
      }
    }
  }
  for (const source of ctx.replicas) {
    const { packs } = await source.store.inner.changesSince(undefined, Number.MAX_SAFE_INTEGER);
    for (const target of ctx.replicas) {
      verdict.checked++;
      try {
        const report = await target.store.inner.merge(packs);
        if (report.added > 0) verdict.fail('*', `merging ${source.id}'s log into ${target.id} again added ${report.added} packs`);
      } catch (error) {
        verdict.fail('*', `merging ${source.id}'s log into ${target.id} again failed: ${(error as Error).message}`);
      }
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
