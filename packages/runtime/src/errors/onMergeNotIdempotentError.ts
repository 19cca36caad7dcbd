import { type RuntimeErrorCode, TroupeError } from './troupeError.js';

/**
 * An `onMerge` that emits compensations again when applied to the state its own compensations
 * produced: a delta ("book a fee of 5") instead of a record ("record the overdraft if not yet
 * recorded"). A later merge that covers this one recomputes compensations from all branches, so
 * such an onMerge books the same compensation twice.
 */
export class OnMergeNotIdempotentError extends TroupeError<RuntimeErrorCode> {
  readonly actorType: string;
  constructor(actorType: string, actorKey: string, again: readonly { readonly type: string }[]) {
    super(
      'INVALID_DEFINITION',
      `onMerge of '${actorType}' is not idempotent (resolving ${actorKey}): applied to the state its compensations produced, ` +
        `it emitted [${again.map((e) => e.type).join(', ')}] again. onMerge must record a compensation only if the merged ` +
        `state does not record it yet (the rule: onMerge(fold(merged, onMerge(merged))) = []); a delta is booked twice ` +
        `when a later merge covers this one`,
    );
    this.actorType = actorType;
  }
}
