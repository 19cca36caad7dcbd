/**
 * The Lua scripts of the Redis store. Each runs atomically in Redis; every key one script touches
 * shares the shard hash tag, so they also run on Redis Cluster. `commonLua` is prepended to each.
 */

export const commonLua = `
-- Shared helpers, prepended to every troupe script.
-- Version keys are canonical vector clocks: "a:1,b:2" (sorted, no zero entries).
local function parse_clock(key)
  local clock = {}
  for name, counter in string.gmatch(key, '([^,:]+):(%d+)') do clock[name] = tonumber(counter) end
  return clock
end

local function dominated(a, b)
  for name, counter in pairs(a) do
    if counter > (b[name] or 0) then return false end
  end
  return true
end

-- Adds 'version' to the heads set unless a head dominates it; drops heads it dominates.
local function add_head(heads_key, version)
  local clock = parse_clock(version)
  local heads = redis.call('SMEMBERS', heads_key)
  for _, head in ipairs(heads) do
    if dominated(clock, parse_clock(head)) then return end
  end
  for _, head in ipairs(heads) do
    if dominated(parse_clock(head), clock) then redis.call('SREM', heads_key, head) end
  end
  redis.call('SADD', heads_key, version)
end

-- Redis does not roll a script back when a command in it fails: check every key a script will
-- write holds the type troupe keeps there (or nothing) before the first write.
-- checks: {key, type, key, type, ...}; returns an error reply, or nil when all is well.
local function check_types(checks)
  for i = 1, #checks, 2 do
    local found = redis.call('TYPE', checks[i])['ok']
    if found ~= 'none' and found ~= checks[i + 1] then
      return redis.error_reply('WRONGTYPE ' .. checks[i] .. ' holds a ' .. found .. ' where troupe keeps a ' .. checks[i + 1])
    end
  end
  return nil
end

-- Records that the pack at 'version' applied 'command' (a '|'-separated list, each version once).
local function add_command(commands_key, command, version)
  if redis.call('HSETNX', commands_key, command, version) == 1 then return end
  local held = redis.call('HGET', commands_key, command)
  for existing in string.gmatch(held, '[^|]+') do
    if existing == version then return end
  end
  redis.call('HSET', commands_key, command, held .. '|' .. version)
end
`;

export const appendLua = `
-- Conditional append of one pack: atomic, one round trip.
-- KEYS: 1 shard log (list), 2 packs (hash), 3 parent links (hash), 4 heads (set),
--       5 snapshots (hash), 6 command ids (hash): all with the shard's hash tag, all declared, so
--       Redis Cluster routes (and, during a slot migration, redirects) the script correctly.
-- ARGV: 1 actor type, 2 actor id, 3 version key, 4 pack bytes, 5 parent info (kind 'c' or 'm',
--       8 hex of fingerprint, first parent key), 6 snapshot bytes ('' for none), 7 '1' when the
--       version dominates every expected head (checked by the client; the heads become just this
--       version), 8 n = number of expected heads, 9..8+n the expected heads, then the command ids.
-- Heads are compared as a set (SCARD + SISMEMBER), never by sorting in Lua: Lua's string order
-- follows the server's locale.
local version = ARGV[3]
local expected = tonumber(ARGV[8])
local held = redis.call('SCARD', KEYS[4])
local same = held == expected
if same then
  for i = 9, 8 + expected do
    if redis.call('SISMEMBER', KEYS[4], ARGV[i]) == 0 then
      same = false
      break
    end
  end
end
if not same or redis.call('HEXISTS', KEYS[2], version) == 1 then
  local result = redis.call('SMEMBERS', KEYS[4])
  table.insert(result, 1, 'conflict')
  return result
end
-- Redis does not undo a script's writes when a later command fails, so nothing is written until
-- every key is known to hold its type: SCARD and HEXISTS read :h and :p, TYPE checks :r and :c
-- (and :s), and the first write, RPUSH, is the one that checks the log itself.
local wrong = check_types({KEYS[3], 'hash', KEYS[6], 'hash'})
if not wrong and ARGV[6] ~= '' then wrong = check_types({KEYS[5], 'hash'}) end
if wrong then return wrong end
local with_snapshot = 0
if ARGV[6] ~= '' then with_snapshot = 1 end
redis.call('RPUSH', KEYS[1], cjson.encode({ARGV[1], ARGV[2], version, with_snapshot}))
redis.call('HSET', KEYS[2], version, ARGV[4])
redis.call('HSET', KEYS[3], version, ARGV[5])
if ARGV[7] == '1' then
  if held > 0 then redis.call('DEL', KEYS[4]) end
  redis.call('SADD', KEYS[4], version)
else
  add_head(KEYS[4], version)
end
for i = 9 + expected, #ARGV do add_command(KEYS[6], ARGV[i], version) end
if with_snapshot == 1 then redis.call('HSET', KEYS[5], version, ARGV[6]) end
return {'ok'}
`;

export const mergeLua = `
-- Idempotent merge of packs copied from another store, all of one shard, in order.
-- Stops at the first pack whose parent is missing (the packs before it stay merged).
-- KEYS: 1 shard log (list), then 5 keys per pack: packs, parent links, heads, snapshots, command ids
-- ARGV: 8 arguments per pack: type, id, version key, pack bytes, parent info, parents (JSON array
--       of keys), command ids (JSON array), snapshot bytes ('' for none)
local added, skipped = 0, 0
local pack = 0
for i = 1, #ARGV, 8 do
  local k = 2 + 5 * pack
  local packs, parents, heads, snapshots, commands = KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4]
  pack = pack + 1
  local version = ARGV[i + 2]
  local wrong = check_types({packs, 'hash', parents, 'hash', heads, 'set', snapshots, 'hash', commands, 'hash', KEYS[1], 'list'})
  if wrong then return wrong end
  local held = redis.call('HGET', parents, version)
  if held then
    -- Same version: the same pack (skip) or a different one (two replicas share a replicaId).
    if string.sub(held, 2, 9) ~= string.sub(ARGV[i + 4], 2, 9) then
      return {added, skipped, 'collision', ARGV[i] .. ':' .. ARGV[i + 1], version}
    end
    skipped = skipped + 1
  else
    for _, parent in ipairs(cjson.decode(ARGV[i + 5])) do
      if redis.call('HEXISTS', packs, parent) == 0 then
        return {added, skipped, 'missing', ARGV[i] .. ':' .. ARGV[i + 1], parent}
      end
    end
    redis.call('HSET', packs, version, ARGV[i + 3])
    redis.call('HSET', parents, version, ARGV[i + 4])
    add_head(heads, version)
    for _, command in ipairs(cjson.decode(ARGV[i + 6])) do add_command(commands, command, version) end
    local with_snapshot = 0
    if ARGV[i + 7] ~= '' then
      redis.call('HSET', snapshots, version, ARGV[i + 7])
      with_snapshot = 1
    end
    redis.call('RPUSH', KEYS[1], cjson.encode({ARGV[i], ARGV[i + 1], version, with_snapshot}))
    added = added + 1
  end
end
return {added, skipped}
`;

export const loadChainLua = `
-- Walks back from a version along first parents to the nearest snapshot or merge pack.
-- KEYS: 1 packs, 2 parents, 3 snapshots
-- ARGV: 1 version key, 2 most packs to return in this call
-- Returns {status, base key, base bytes, newest pack, ..., oldest pack}; status is
-- 'snapshot' | 'merge' | 'root' (base is the initial state) | 'more' (call again from base key,
-- base bytes empty) | 'missing' (base key names the absent pack).
-- Follows parent links one HGET at a time, looks for snapshots 64 links at a time (HMGET), and
-- fetches the packs it returns in batches at the end.
local budget = tonumber(ARGV[2])
local chain = {}
local status, base_key, base_bytes = 'root', '', ''
local key = ARGV[1]
while status == 'root' and key ~= '' do
  local keys, infos = {}, {}
  while key ~= '' and #keys < 64 do
    local info = redis.call('HGET', KEYS[2], key)
    if not info then break end
    keys[#keys + 1] = key
    infos[#infos + 1] = info
    if string.sub(info, 1, 1) == 'm' then break end
    key = string.sub(info, 10)
  end
  if #keys == 0 then
    status, base_key = 'missing', key
    break
  end
  local snapshots = redis.call('HMGET', KEYS[3], unpack(keys))
  for i = 1, #keys do
    if snapshots[i] then
      status, base_key, base_bytes = 'snapshot', keys[i], snapshots[i]
      break
    end
    if string.sub(infos[i], 1, 1) == 'm' then
      status, base_key = 'merge', keys[i]
      base_bytes = redis.call('HGET', KEYS[1], keys[i])
      if not base_bytes then status, base_bytes = 'missing', '' end
      break
    end
    if #chain == budget then
      status, base_key = 'more', keys[i]
      break
    end
    chain[#chain + 1] = keys[i]
  end
  if status == 'root' and #keys == 64 and key == '' then break end
  if status == 'root' and key ~= '' and string.sub(infos[#infos], 1, 1) ~= 'm' and #keys < 64 then
    status, base_key = 'missing', key
  end
end
local result = {status, base_key, base_bytes}
for first = 1, #chain, 1000 do
  local last = math.min(first + 999, #chain)
  local packs = redis.call('HMGET', KEYS[1], unpack(chain, first, last))
  for i = 1, #packs do
    if not packs[i] then return {'missing', chain[first + i - 1], ''} end
    result[#result + 1] = packs[i]
  end
end
return result
`;

export const headsLua = `
-- The heads of an actor: {key1, pack1, key2, pack2, ...} (the client sorts them: Lua's string
-- order follows the server's locale).
-- KEYS: 1 packs, 2 heads
local heads = redis.call('SMEMBERS', KEYS[2])
local result = {}
for _, key in ipairs(heads) do
  result[#result + 1] = key
  result[#result + 1] = redis.call('HGET', KEYS[1], key) or ''
end
return result
`;

