import { TroupeError } from '@troupe/runtime';
import type { RedisViewErrorCode } from './redisViewErrorCode.js';

/**
 * The view's meta (`…:meta`) names another projection, version or format than the definition
 * opened on it. A view is never reused across versions: bumping a projection's version makes a
 * new view id with its own keys, built from the log's start, so this means keys written by
 * something else (a hand edit, a tool of another troupe release).
 */
export class ViewVersionMismatchError extends TroupeError<RedisViewErrorCode> {
  constructor(
    /** The meta key. */
    readonly key: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(
      'VIEW_VERSION_MISMATCH',
      `the view at ${key} holds ${found}, not ${expected}: a view is never reused by another projection version ` +
        `(a new version is a new view with its own keys); delete these keys or open the projection that wrote them`,
    );
  }
}
