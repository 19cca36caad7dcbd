/** Stable codes of the errors a `RedisView` throws beside the runtime's (`ProjectionError`, `CorruptDataError`, ...). */
export type RedisViewErrorCode =
  /** The view's keys hold another projection, version or format than the one opened: never reused. */
  | 'VIEW_VERSION_MISMATCH'
  /** Another runner holds the view's lease (`catchUp`, `rebuild`): one runner per view per region. */
  | 'VIEW_LEASE_HELD'
  /** This runner's lease expired or was taken over: its write was refused, nothing written. */
  | 'VIEW_LEASE_LOST';
