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
-- KEYS: 1 shard log (list). The actor's keys are built from the shard tag (same slot):
--       <tag>:<type>:<id>:p packs (hash), :r parent links (hash), :h heads (set),
--       :s snapshots (hash), :c command ids (hash)
-- ARGV: 1 shard tag, 2 actor type, 3 actor id, 4 expected heads joined by '|' in sorted order
--       ('' for none), 5 version key, 6 pack bytes, 7 parent info (kind 'c' or 'm', 8 hex of
--       fingerprint, first parent key), 8 snapshot bytes ('' for none), 9 '1' when the version
--       dominates every expected head (checked by the client; the heads become just this
--       version), 10.. command ids
local base = ARGV[1] .. ':' .. ARGV[2] .. ':' .. ARGV[3]
local packs, parents, heads_key, snapshots, commands = base .. ':p', base .. ':r', base .. ':h', base .. ':s', base .. ':c'
local version = ARGV[5]
-- Redis does not undo a script's writes when a later command fails, so nothing is written until
-- every key is known to hold its type: SMEMBERS and HEXISTS read :h and :p, TYPE checks :r and :c
-- (and :s), and the first write, RPUSH, is the one that checks the log itself.
local heads = redis.call('SMEMBERS', heads_key)
table.sort(heads)
local actual = table.concat(heads, '|')
if actual ~= ARGV[4] or redis.call('HEXISTS', packs, version) == 1 then
  return {'conflict', actual}
end
local wrong = check_types({parents, 'hash', commands, 'hash'})
if not wrong and ARGV[8] ~= '' then wrong = check_types({snapshots, 'hash'}) end
if wrong then return wrong end
local with_snapshot = 0
if ARGV[8] ~= '' then with_snapshot = 1 end
redis.call('RPUSH', KEYS[1], cjson.encode({ARGV[2], ARGV[3], version, with_snapshot}))
redis.call('HSET', packs, version, ARGV[6])
redis.call('HSET', parents, version, ARGV[7])
if ARGV[9] == '1' then
  if #heads > 0 then redis.call('DEL', heads_key) end
  redis.call('SADD', heads_key, version)
else
  add_head(heads_key, version)
end
for i = 10, #ARGV do add_command(commands, ARGV[i], version) end
if with_snapshot == 1 then redis.call('HSET', snapshots, version, ARGV[8]) end
return {'ok'}
`;

export const mergeLua = `
-- Idempotent merge of packs copied from another store, all of one shard, in order.
-- Stops at the first pack whose parent is missing.
-- KEYS: 1 shard log (list)
-- ARGV: 1 shard tag prefix ('<prefix>:{<n>}'), then 8 arguments per pack:
--       type, id, version key, pack bytes, parent info, parents (JSON array of keys),
--       command ids (JSON array), snapshot bytes ('' for none)
local tag = ARGV[1]
local added, skipped = 0, 0
for i = 2, #ARGV, 8 do
  local base = tag .. ':' .. ARGV[i] .. ':' .. ARGV[i + 1]
  local version = ARGV[i + 2]
  local wrong = check_types({base .. ':p', 'hash', base .. ':r', 'hash', base .. ':h', 'set', base .. ':s', 'hash', base .. ':c', 'hash', KEYS[1], 'list'})
  if wrong then return wrong end
  local held = redis.call('HGET', base .. ':r', version)
  if held then
    -- Same version: the same pack (skip) or a different one (two replicas share a replicaId).
    if string.sub(held, 2, 9) ~= string.sub(ARGV[i + 4], 2, 9) then
      return {added, skipped, 'collision', ARGV[i] .. ':' .. ARGV[i + 1], version}
    end
    skipped = skipped + 1
  else
    for _, parent in ipairs(cjson.decode(ARGV[i + 5])) do
      if redis.call('HEXISTS', base .. ':p', parent) == 0 then
        return {added, skipped, 'missing', ARGV[i] .. ':' .. ARGV[i + 1], parent}
      end
    end
    redis.call('HSET', base .. ':p', version, ARGV[i + 3])
    redis.call('HSET', base .. ':r', version, ARGV[i + 4])
    add_head(base .. ':h', version)
    for _, command in ipairs(cjson.decode(ARGV[i + 6])) do add_command(base .. ':c', command, version) end
    local with_snapshot = 0
    if ARGV[i + 7] ~= '' then
      redis.call('HSET', base .. ':s', version, ARGV[i + 7])
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
-- The heads of an actor: {key1, pack1, key2, pack2, ...} in sorted key order.
-- KEYS: 1 packs, 2 heads
local heads = redis.call('SMEMBERS', KEYS[2])
table.sort(heads)
local result = {}
for _, key in ipairs(heads) do
  result[#result + 1] = key
  result[#result + 1] = redis.call('HGET', KEYS[1], key) or ''
end
return result
`;

export const changesLua = `
-- A page of one shard's replication log with the packs (and shipped snapshots) it names.
-- KEYS: 1 shard log
-- ARGV: 1 shard tag prefix, 2 first index, 3 most entries
-- Returns {entry JSON, pack bytes, snapshot bytes or '', ...}
local tag = ARGV[1]
local first = tonumber(ARGV[2])
local entries = redis.call('LRANGE', KEYS[1], first, first + tonumber(ARGV[3]) - 1)
local result = {}
for _, entry in ipairs(entries) do
  -- An entry troupe did not write is returned without pack: the caller reports it as corrupt.
  local ok, e = pcall(cjson.decode, entry)
  local pack, snapshot = '', ''
  if ok and type(e) == 'table' and type(e[1]) == 'string' and type(e[2]) == 'string' and type(e[3]) == 'string' then
    local base = tag .. ':' .. e[1] .. ':' .. e[2]
    pack = redis.call('HGET', base .. ':p', e[3]) or ''
    if e[4] == 1 then snapshot = redis.call('HGET', base .. ':s', e[3]) or '' end
  end
  result[#result + 1] = entry
  result[#result + 1] = pack
  result[#result + 1] = snapshot
end
return result
`;
