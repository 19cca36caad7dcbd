/**
 * The Lua scripts of the Redis store, one `.lua` file each next to this loader. Each runs
 * atomically in Redis; every key one script touches shares the shard hash tag, so they also run
 * on Redis Cluster. `commonLua` (shared helpers) is prepended to each.
 *
 * The files are read once, when this module loads, relative to this module's own URL: from
 * `src/scripts/` under vitest (the 'source' export condition) and from `dist/scripts/` once built
 * (the build copies the `.lua` files there, see `build.mjs`), which is also what a packed tarball
 * holds. Reading them synchronously here keeps every script ready before the first store exists.
 */
import { readFileSync } from 'node:fs';

function lua(name: string): string {
  return readFileSync(new URL(`./${name}.lua`, import.meta.url), 'utf8');
}

/** Helpers every script uses: clock parsing, heads upkeep, the run index, command ids, the replication marker. */
export const commonLua = lua('common');
/** Conditional append of one pack (KEYS: 8). */
export const appendLua = lua('append');
/** Idempotent merge of packs of one shard (KEYS: the log, the shard's identity, then 1 per pack). */
export const mergeLua = lua('merge');
/** A field of each of several hashes of one shard: a page of `changesSince` (KEYS: 1 per field). */
export const readFieldsLua = lua('readFields');
/** One batch of the first-parent walk of `loadChain` (KEYS: 4). */
export const loadChainLua = lua('loadChain');
/** The heads of an actor with their packs, after the store identity check (KEYS: 3). */
export const headsLua = lua('heads');
/** A snapshot write checked against the store identity (KEYS: 2). */
export const saveSnapshotLua = lua('saveSnapshot');
/** A string under the meta tag (a checkpoint, the declared regions) written after the store identity check (KEYS: 2). */
export const saveMetaStringLua = lua('saveMetaString');
/** Entries of the frontier table written after the store identity check (KEYS: 2). */
export const saveFrontierLua = lua('saveFrontier');
/** A merge record pushed to the actor's list, trimmed to the most kept, after the store identity check (KEYS: 2). */
export const recordMergeLua = lua('recordMerge');
/** The versions that applied a command id, made to replicate for the WAIT after it (KEYS: 2). */
export const commandVersionsLua = lua('commandVersions');
