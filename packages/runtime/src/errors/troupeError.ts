/** Stable machine-readable codes of every error troupe throws or returns. */
export type TroupeErrorCode =
  | 'UNKNOWN_ACTOR_TYPE'
  | 'UNKNOWN_COMMAND'
  | 'INVALID_PAYLOAD'
  | 'COMMAND_REJECTED'
  | 'APPEND_CONFLICT'
  | 'CORRUPT_DATA'
  | 'MISSING_ANCESTOR'
  | 'RUNTIME_STOPPED'
  | 'LIMIT_EXCEEDED'
  | 'INVALID_DEFINITION'
  | 'STORE_UNAVAILABLE'
  | 'VERSION_COLLISION'
  | 'BUS_UNAVAILABLE'
  | 'COMMAND_TIMEOUT'
  | 'COMMAND_FAILED'
  | 'TOPOLOGY_MISMATCH';

/** Base class: every operating error carries a stable `code` callers can switch on. */
export class TroupeError extends Error {
  readonly code: TroupeErrorCode;
  constructor(code: TroupeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}
