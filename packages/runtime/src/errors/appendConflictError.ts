import { type RuntimeErrorCode, TroupeError } from './troupeError.js';

/** The store's heads were not the ones the writer expected: someone else appended first. */
export class AppendConflictError extends TroupeError<RuntimeErrorCode> {
  readonly actorKey: string;
  readonly expected: readonly string[];
  readonly actual: readonly string[];
  constructor(actorKey: string, expected: readonly string[], actual: readonly string[]) {
    super(
      'APPEND_CONFLICT',
      `append conflict on ${actorKey}: expected heads [${expected.join(' | ')}], found [${actual.join(' | ')}]`,
    );
    this.actorKey = actorKey;
    this.expected = expected;
    this.actual = actual;
  }
}
