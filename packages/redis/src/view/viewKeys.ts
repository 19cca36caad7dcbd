/**
 * The Redis keys of one view (`RedisView`). Every key of a view, of every version of it and of
 * its shadow copy, carries the same hash tag `{<prefix>.view.<name>}`: they live in one Cluster
 * slot, so one script can check the lease and write the rows, the contributions and the cursor
 * together, and the rebuild's swap can RENAME the shadow's keys onto the live ones.
 *
 * ```
 * <prefix>:{<prefix>.view.<name>}:<version>:rows      hash   row key → combined row
 * <prefix>:{<prefix>.view.<name>}:<version>:contrib   hash   actor key → its contribution (version, row keys)
 * <prefix>:{<prefix>.view.<name>}:<version>:parts     hash   row key → every contributor's row under it
 * <prefix>:{<prefix>.view.<name>}:<version>:cursor    string the position in the store's log
 * <prefix>:{<prefix>.view.<name>}:<version>:meta      hash   name, version, format, build, writer, readyAt, ...
 * <prefix>:{<prefix>.view.<name>}:<version>:lease     string `<token> <holder>`, with a TTL: the runner's lease
 * <prefix>:{<prefix>.view.<name>}:<version>:fence     string the last lease token handed out (INCR)
 * ```
 *
 * The shadow copy a rebuild builds uses `<version>.shadow` in place of `<version>`. The store's
 * `destroy()` deletes views too: every key starts with `<prefix>:{<prefix>.`.
 */

/** The keys a view's data lives in: what a batch writes and a rebuild's swap renames. */
export interface ViewDataKeys {
  readonly rows: string;
  readonly contributions: string;
  readonly parts: string;
  readonly cursor: string;
  readonly meta: string;
}

/** The keys of the lease one runner holds while it writes a key set (live or shadow). */
export interface ViewLeaseKeys {
  readonly lease: string;
  readonly fence: string;
}

export interface ViewKeySet extends ViewDataKeys, ViewLeaseKeys {}

/** The data keys in the order the swap script takes them (shadow's, then the live ones in the same order). */
export function dataKeyList(keys: ViewDataKeys): string[] {
  return [keys.meta, keys.cursor, keys.contributions, keys.parts, keys.rows];
}

/** The hash tag of a view: `<prefix>:{<prefix>.view.<name>}`. */
export function viewTag(prefix: string, name: string): string {
  return `${prefix}:{${prefix}.view.${name}}`;
}

function keySet(base: string): ViewKeySet {
  return {
    rows: `${base}:rows`,
    contributions: `${base}:contrib`,
    parts: `${base}:parts`,
    cursor: `${base}:cursor`,
    meta: `${base}:meta`,
    lease: `${base}:lease`,
    fence: `${base}:fence`,
  };
}

/** The live keys of a view at one version, and the shadow copy a rebuild builds beside them. */
export interface ViewKeys {
  readonly tag: string;
  readonly live: ViewKeySet;
  readonly shadow: ViewKeySet;
}

export function viewKeys(prefix: string, name: string, version: number): ViewKeys {
  const tag = viewTag(prefix, name);
  return { tag, live: keySet(`${tag}:${version}`), shadow: keySet(`${tag}:${version}.shadow`) };
}
