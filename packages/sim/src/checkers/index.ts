import { checkI1 } from './i1.js';
import { checkI2 } from './i2.js';
import { checkI3 } from './i3.js';
import { checkI4 } from './i4.js';
import { checkI5 } from './i5.js';
import { checkI6 } from './i6.js';
import { type ReplyRecord, checkI7 } from './replies.js';
import type { CheckContext, CheckResult } from './types.js';

export type InvariantName = 'I1' | 'I2' | 'I3' | 'I4' | 'I5' | 'I6' | 'I7' | 'I8' | 'I9';
export type Invariants = Record<InvariantName, CheckResult>;

/** Not checked in this run (e.g. I9 with stores that are not region logs): nothing checked, nothing violated. */
export const notChecked: CheckResult = { ok: true, checked: 0, violations: [] };

/**
 * Runs every checker (I7 over the replies the run recorded; I8 and I9, which watch the run, as
 * the run computed them). I4 writes (re-merges, re-resolves), so it runs last.
 */
export async function checkAll(ctx: CheckContext, replies: readonly ReplyRecord[] = [], watched: { readonly I8?: CheckResult; readonly I9?: CheckResult } = {}): Promise<Invariants> {
  const I1 = checkI1(ctx);
  const I2 = checkI2(ctx);
  const I3 = checkI3(ctx);
  const I5 = checkI5(ctx);
  const I6 = checkI6(ctx);
  const I7 = checkI7(ctx, replies);
  const I4 = await checkI4(ctx);
  return { I1, I2, I3, I4, I5, I6, I7, I8: watched.I8 ?? notChecked, I9: watched.I9 ?? notChecked };
}

export { checkI1, checkI2, checkI3, checkI4, checkI5, checkI6, checkI7 };
export type { AcceptedReply, RepliedEvent, RepliedReply, ReplyRecord } from './replies.js';
export type { CheckContext, CheckResult, Violation, ResolutionRecord, FinalReplica } from './types.js';
