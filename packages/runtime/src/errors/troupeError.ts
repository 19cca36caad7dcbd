/**
 * Stable machine-readable codes of the errors the runtime throws. Each package owns its codes
 * (`@troupe/rabbitmq` has the bus's, `@troupe/redis` the Redis store's); they all extend `TroupeError`.
 */
export type RuntimeErrorCode =
  | 'UNKNOWN_ACTOR_TYPE'
  | 'UNKNOWN_COMMAND'
  | 'INVALID_ACTOR_ID'
  | 'INVALID_PAYLOAD'
  | 'INVALID_DECISION'
  | 'INVALID_DEFINITION'
  | 'INVALID_OPTION'
  | 'INVALID_CURSOR'
  | 'APPEND_CONFLICT'
  | 'DUPLICATE_COMMAND'
  | 'CORRUPT_DATA'
  | 'MISSING_ANCESTOR'
  | 'RUNTIME_STOPPED'
  | 'LIMIT_EXCEEDED'
  | 'STORE_UNAVAILABLE'
  | 'VERSION_COLLISION'
  | 'NOT_REPLICATED'
  | 'REGION_CONFIG'
  | 'PROJECTION_FAILED'
  | 'VIEW_TIMEOUT';

/**
 * Base class: every operating error of troupe carries a stable `code` callers can switch on. The
 * type parameter is the code list of the package that throws it.
 */
export class TroupeError<Code extends string = string> extends Error {
  readonly code: Code;
  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}
