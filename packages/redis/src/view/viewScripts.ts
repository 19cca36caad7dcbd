/**
 * The Lua scripts of a Redis view. Each runs atomically in Redis and touches the keys of one view
 * only (one hash tag, one Cluster slot), every key declared. They live here as strings rather
 * than .lua files beside the store's scripts because the package's build copies only
 * src/scripts/*.lua.
 *
 * Redis does not roll a script back when a command in it fails, so each script checks the types
 * of the keys it writes, and everything it refuses (the lease, the meta, the cursor), before its
 * first write: a refused batch writes nothing.
 */
import type { Cluster, Redis } from 'ioredis';
import type { CommandRunner } from '../redisStore/errorMapping.js';

const typeCheck = `
local function check_types(checks)
  for i = 1, #checks, 2 do
    local found = redis.call('TYPE', checks[i])['ok']
    if found ~= 'none' and found ~= checks[i + 1] then return {'type', checks[i], found, checks[i + 1]} end
  end
  return nil
end
`;

/**
 * One batch, with its checkpoint: the actors' contributions, the parts and rows of the keys they
 * touched, and the new cursor, all or nothing, after checking that the caller holds the lease
 * (its token is the current one), that the meta names this projection, version and format and
 * the build the batch was computed on, and that the cursor is still the one the batch read from.
 * KEYS: 1 lease, 2 meta, 3 cursor, 4 contrib, 5 parts, 6 rows
 * ARGV: 1 the lease value the caller holds, 2 name, 3 version, 4 format, 5 build, 6 the cursor the
 *   batch read from ('' for none), 7 the new cursor, 8 '1' when the batch reached the log's end,
 *   9 now (ms), then: n, n (actor, contribution) pairs; n, n (key, parts) pairs; n, n keys whose
 *   parts go; n, n (key, row) pairs; n, n keys whose row goes.
 * Returns {'ok'}, or what refused it: {'lease', current}, {'meta', name, version, format},
 * {'build', current}, {'moved', current cursor}, {'nometa'}, {'type', key, found, expected}.
 */
const writeBatchLua = `${typeCheck}
local bad = check_types({KEYS[1], 'string', KEYS[2], 'hash', KEYS[3], 'string', KEYS[4], 'hash', KEYS[5], 'hash', KEYS[6], 'hash'})
if bad then return bad end
local lease = redis.call('GET', KEYS[1])
if lease ~= ARGV[1] then return {'lease', lease or ''} end
local cursor = redis.call('GET', KEYS[3])
local fresh = redis.call('EXISTS', KEYS[2]) == 0
if fresh then
  if cursor then return {'nometa'} end
  if ARGV[6] ~= '' then return {'moved', ''} end
else
  local meta = redis.call('HMGET', KEYS[2], 'name', 'version', 'format', 'build')
  if meta[1] ~= ARGV[2] or meta[2] ~= ARGV[3] or meta[3] ~= ARGV[4] then return {'meta', meta[1] or '', meta[2] or '', meta[3] or ''} end
  if meta[4] ~= ARGV[5] then return {'build', meta[4] or ''} end
  if (cursor or '') ~= ARGV[6] then return {'moved', cursor or ''} end
end
if fresh then
  redis.call('HSET', KEYS[2], 'name', ARGV[2], 'version', ARGV[3], 'format', ARGV[4], 'build', ARGV[5], 'createdAt', ARGV[9])
end
local i = 10
local function each_pair(key, command)
  local n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do redis.call(command, key, ARGV[i], ARGV[i + 1]); i = i + 2 end
end
local function each_field(key)
  local n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do redis.call('HDEL', key, ARGV[i]); i = i + 1 end
end
each_pair(KEYS[4], 'HSET')
each_pair(KEYS[5], 'HSET')
each_field(KEYS[5])
each_pair(KEYS[6], 'HSET')
each_field(KEYS[6])
redis.call('SET', KEYS[3], ARGV[7])
redis.call('HSET', KEYS[2], 'writer', ARGV[1], 'updatedAt', ARGV[9])
if ARGV[8] == '1' then redis.call('HSETNX', KEYS[2], 'readyAt', ARGV[9]) end
return {'ok'}
`;

/**
 * Takes the lease when nobody holds it: a new token from the fence counter (INCR: tokens only
 * grow, even across expiries), and the lease `<token> <holder>` with a TTL.
 * KEYS: 1 lease, 2 fence. ARGV: 1 holder, 2 ttl (ms).
 * Returns {1, lease} when taken, {0, lease held, its TTL in ms} when someone holds it.
 */
const acquireLua = `${typeCheck}
local bad = check_types({KEYS[1], 'string', KEYS[2], 'string'})
if bad then return bad end
local held = redis.call('GET', KEYS[1])
if held then return {0, held, redis.call('PTTL', KEYS[1])} end
local token = redis.call('INCR', KEYS[2])
local lease = token .. ' ' .. ARGV[1]
redis.call('SET', KEYS[1], lease, 'PX', ARGV[2])
return {1, lease}
`;

/** Extends the lease when the caller still holds it. KEYS: 1 lease. ARGV: 1 lease value, 2 ttl (ms). Returns 1, or 0 (lost). */
const renewLua = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

/** Gives the lease up when the caller still holds it. KEYS: 1 lease. ARGV: 1 lease value. Returns 1, or 0. */
const releaseLua = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;

/**
 * Empties a key set's data (a rebuild starting its shadow afresh), under its lease.
 * KEYS: 1 lease, 2-6 meta, cursor, contrib, parts, rows. ARGV: 1 lease value.
 * Returns {'ok'} or {'lease', current}.
 */
const resetLua = `
local lease = redis.call('GET', KEYS[1])
if lease ~= ARGV[1] then return {'lease', lease or ''} end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])
return {'ok'}
`;

/**
 * A rebuild's swap: every data key of the shadow RENAMEd onto the live one (a live key the shadow
 * does not have, an empty hash, is deleted), in one script: readers see the old view or the new
 * one, never a mix or nothing. Under the shadow's lease, after checking the shadow is the build
 * the rebuild made, at the cursor it reached. The live runner's next batch then finds another
 * build and starts again from the swapped-in cursor.
 * KEYS: 1 shadow lease, 2-6 shadow meta, cursor, contrib, parts, rows, 7-11 the live ones.
 * ARGV: 1 shadow lease value, 2 name, 3 version, 4 format, 5 build, 6 cursor.
 * Returns {'ok'}, {'lease', current}, {'meta', name, version, format}, {'build', current}, {'moved', cursor}.
 */
const swapLua = `
local lease = redis.call('GET', KEYS[1])
if lease ~= ARGV[1] then return {'lease', lease or ''} end
local meta = redis.call('HMGET', KEYS[2], 'name', 'version', 'format', 'build')
if meta[1] ~= ARGV[2] or meta[2] ~= ARGV[3] or meta[3] ~= ARGV[4] then return {'meta', meta[1] or '', meta[2] or '', meta[3] or ''} end
if meta[4] ~= ARGV[5] then return {'build', meta[4] or ''} end
local cursor = redis.call('GET', KEYS[3])
if (cursor or '') ~= ARGV[6] then return {'moved', cursor or ''} end
for k = 2, 6 do
  if redis.call('EXISTS', KEYS[k]) == 1 then redis.call('RENAME', KEYS[k], KEYS[k + 5]) else redis.call('DEL', KEYS[k + 5]) end
end
return {'ok'}
`;

const scripts = {
  troupeViewWriteBatch: { numberOfKeys: 6, lua: writeBatchLua },
  troupeViewAcquire: { numberOfKeys: 2, lua: acquireLua },
  troupeViewRenew: { numberOfKeys: 1, lua: renewLua },
  troupeViewRelease: { numberOfKeys: 1, lua: releaseLua },
  troupeViewReset: { numberOfKeys: 6, lua: resetLua },
  troupeViewSwap: { numberOfKeys: 11, lua: swapLua },
} as const;

export type ViewScriptName = keyof typeof scripts;
/** A script's reply (text replies; the values a batch sends may be binary). */
export type ViewReply = string | number | null | ViewReply[];

/**
 * The view scripts on one client (ioredis `defineCommand`: EVALSHA, EVAL after NOSCRIPT), their
 * errors mapped by the store's CommandRunner (StoreUnavailableError, WRONGTYPE → CorruptDataError).
 */
export class ViewScripts {
  constructor(
    private readonly client: Redis | Cluster,
    private readonly runner: CommandRunner,
  ) {
    for (const [name, script] of Object.entries(scripts)) {
      if (!(name in client)) client.defineCommand(name, { numberOfKeys: script.numberOfKeys, lua: script.lua });
    }
  }

  call(name: ViewScriptName, keys: readonly string[], args: readonly (string | Buffer | number)[]): Promise<ViewReply> {
    if (keys.length !== scripts[name].numberOfKeys) throw new Error(`${name} takes ${scripts[name].numberOfKeys} keys, got ${keys.length}`);
    const call = (this.client as unknown as Record<ViewScriptName, (...a: (string | Buffer | number)[]) => Promise<ViewReply>>)[name].bind(this.client);
    return this.runner.run(() => call(...keys, ...args), keys);
  }
}
