/**
 * A view rebuilt beside the live one: a shadow key set (`<version>.shadow`, same hash tag) built
 * from the log's start under its own lease, then swapped in by one script that RENAMEs every
 * shadow key onto the live one. Readers see the old view or the new one, never a missing or
 * half-built one; the live runner (if any) finds another build at its next batch and goes on
 * from the swapped-in cursor.
 */
import { ViewLeaseHeldError } from './errors/index.js';
import type { ViewContext } from './viewContext.js';
import { viewFormatVersion } from './viewCodec.js';
import { dataKeyList, type ViewKeys } from './viewKeys.js';
import { ViewLease } from './viewLease.js';
import type { ViewReply } from './viewScripts.js';
import { readHead, refusal, ViewMovedError, ViewWriter } from './viewWriter.js';

export interface RebuildReport {
  /** Packs the shadow read from the log. */
  readonly packs: number;
  /** Batches it wrote. */
  readonly batches: number;
  /** The position swapped in. */
  readonly position: string | undefined;
  readonly durationMs: number;
}

export async function rebuildView<Row>(ctx: ViewContext<Row>, keys: ViewKeys): Promise<RebuildReport> {
  const started = Date.now();
  const shadow = keys.shadow;
  const lease = new ViewLease(ctx.scripts, shadow, { holder: ctx.options.holder, ttlMs: ctx.options.leaseTtlMs, renewEveryMs: ctx.options.renewEveryMs });
  const got = await lease.acquire();
  if (!got.acquired) throw new ViewLeaseHeldError(`${ctx.projection.id} (its rebuild)`, got.heldBy, got.expiresInMs);
  try {
    // A shadow left by a rebuild that died is not resumed: a rebuild starts from nothing.
    const reset = (await ctx.scripts.call('troupeViewReset', [shadow.lease, ...dataKeyList(shadow)], [got.lease])) as ViewReply[];
    refusal(ctx.projection.id, shadow, reset, lease, got.lease);
    const writer = new ViewWriter(ctx, shadow, lease);
    let packs = 0;
    let batches = 0;
    for (;;) {
      try {
        const report = await writer.step();
        packs += report.packs;
        if (report.wrote) batches++;
        if (report.caughtUp) break;
      } catch (error) {
        if (!(error instanceof ViewMovedError)) throw error;
      }
    }
    const head = await readHead(ctx as ViewContext<unknown>, shadow);
    const { name, version } = ctx.projection;
    const reply = (await ctx.scripts.call(
      'troupeViewSwap',
      [shadow.lease, ...dataKeyList(shadow), ...dataKeyList(keys.live)],
      [got.lease, name, String(version), String(viewFormatVersion), head.meta!.build, head.cursor ?? ''],
    )) as ViewReply[];
    refusal(ctx.projection.id, shadow, reply, lease, got.lease);
    return { packs, batches, position: head.cursor, durationMs: Date.now() - started };
  } finally {
    await lease.release();
  }
}
