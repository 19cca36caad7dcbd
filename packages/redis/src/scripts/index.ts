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

-- The linear-run index (runs_key, a list): every pack once, in the order this store wrote it, as a
-- flag and its version key. Flag 'c': a command pack whose first parent is the element just before
-- it; 'm': a merge pack; 's': any other pack (a root, or a command pack whose first parent is not
-- the previous element: a fork, a branch arriving by replication, a pack written before the index).
-- A 'c' pack's parent info gets '@' .. its position in the list appended (version keys never hold
-- '@'), so the walk of loadChain finds where its run ends and reads the run with LRANGE instead
-- of following one parent link per pack.
-- The index is advisory: loadChain's client checks every chain it returns against the packs'
-- own parents and walks the parent links alone when they disagree, so a wrong flag costs a
-- slower load, never a wrong chain. That is why append may take the flag from the client (see
-- the append script) and why the index is written with pcall: a foreign value at the key leaves
-- the pack unindexed (loaded through its parent links) instead of failing a write.
-- run_flag: the flag for a pack merged from another store, from the list's tail (nil when the
-- key holds something else than a list).
local function run_flag(runs_key, info)
  local tail = redis.pcall('LINDEX', runs_key, '-1')
  if type(tail) == 'table' and tail.err then return nil end
  if tail and #info > 9 and string.sub(tail, 2) == string.sub(info, 10) then return 'c' end
  if string.sub(info, 1, 1) == 'm' then return 'm' end
  return 's'
end

-- Pushes the pack to the index and returns the parent info to store.
local function index_pack(runs_key, version, info, flag)
  if not flag then return info end
  local length = redis.pcall('RPUSH', runs_key, flag .. version)
  if flag == 'c' and type(length) == 'number' then return info .. '@' .. string.format('%d', length - 1) end
  return info
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
--       5 snapshots (hash), 6 command ids (hash), 7 linear-run index (list): all with the shard's
--       hash tag, all declared, so
--       Redis Cluster routes (and, during a slot migration, redirects) the script correctly.
-- ARGV: 1 the shard log entry (JSON [type, id, version, 0 or 1 = with a snapshot], made by the
--       client), 2 version key, 3 pack bytes, 4 parent info (kind 'c' or 'm', 8 hex of
--       fingerprint, first parent key), 5 snapshot bytes ('' for none), 6 three fields in one
--       argument (fewer arguments cost the client less): '1' when the version dominates every
--       expected head (checked by the client; the heads become just this version) else '0', then
--       the pack's flag in the run index ('c' when it is a command pack whose first parent is the
--       one expected head and it dominates it: that head is then the last pack this store
--       indexed, the list's tail, unless a writer without the index wrote it, which loads notice
--       and fall back from; 's' or 'm' otherwise), then n = the number of expected heads;
--       7..6+n the expected heads, then the command ids.
-- Heads are compared as a set (SCARD + SISMEMBER), never by sorting in Lua: Lua's string order
-- follows the server's locale.
local version = ARGV[2]
local control = ARGV[6]
local expected = tonumber(string.sub(control, 3))
local held = redis.call('SCARD', KEYS[4])
local same = held == expected
if same then
  for i = 7, 6 + expected do
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
-- every key is known to hold its type: SCARD and HEXISTS read :h and :p, HLEN reads :r and :c (and
-- :s), and the first write, RPUSH, is the one that checks the log itself. A read of a key of
-- another type fails the script with WRONGTYPE before any write (the client names the key); HLEN
-- is the cheapest such read. The index (:l) cannot fail the script (index_pack).
redis.call('HLEN', KEYS[3])
redis.call('HLEN', KEYS[6])
if ARGV[5] ~= '' then redis.call('HLEN', KEYS[5]) end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], version, ARGV[3])
redis.call('HSET', KEYS[3], version, index_pack(KEYS[7], version, ARGV[4], string.sub(control, 2, 2)))
if string.byte(control, 1) == 49 then -- '1'
  if held > 0 then redis.call('DEL', KEYS[4]) end
  redis.call('SADD', KEYS[4], version)
else
  add_head(KEYS[4], version)
end
for i = 7 + expected, #ARGV do add_command(KEYS[6], ARGV[i], version) end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[5], version, ARGV[5]) end
return {'ok'}
`;

export const mergeLua = `
-- Idempotent merge of packs copied from another store, all of one shard, in order.
-- Stops at the first pack whose parent is missing (the packs before it stay merged).
-- KEYS: 1 shard log (list), then 6 keys per pack: packs, parent links, heads, snapshots, command ids,
--       linear-run index (list)
-- ARGV: 8 arguments per pack: type, id, version key, pack bytes, parent info, parents (JSON array
--       of keys), command ids (JSON array), snapshot bytes ('' for none)
local added, skipped = 0, 0
local pack = 0
for i = 1, #ARGV, 8 do
  local k = 2 + 6 * pack
  local packs, parents, heads, snapshots, commands, runs = KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5]
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
    redis.call('HSET', parents, version, index_pack(runs, version, ARGV[i + 4], run_flag(runs, ARGV[i + 4])))
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
-- KEYS: 1 packs, 2 parents, 3 snapshots, 4 linear-run index (list, see index_pack)
-- ARGV: 1 version key, 2 most packs to return in this call, 3 '1' to use the run index, '0' to
--       follow parent links only (the client's second attempt when a chain read through the
--       index did not match the packs' own parents)
-- Returns {status, base key, base bytes, newest pack, ..., oldest pack}, each pack as a flag
-- character and its version key (as the index holds it): the client reads the packs with HMGET
-- (packs are written once and never changed or removed, so reading them after the script is
-- safe, and a plain HMGET costs Redis a fraction of building the same reply in Lua). Status is
-- 'snapshot' | 'merge' | 'root' (base is the initial state) | 'more' (call again from base key,
-- base bytes empty) | 'missing' (base key names the absent pack).
-- Inside a linear run of the index it reads the run with LRANGE (8 elements at the end of each
-- run, then twice as many each time while the run goes on, up to 1,024) and looks at one byte
-- per element; elsewhere (packs written before the
-- index, the first pack of a run) it follows parent links one HGET at a time. It looks for
-- snapshots once per batch (HMGET), and not at all when the actor has none.
local sub, byte = string.sub, string.byte
local budget = tonumber(ARGV[2])
local use_index = ARGV[3] == '1'
local chain = {}
local status, base_key, base_bytes = 'root', '', ''
local with_snapshots = redis.call('EXISTS', KEYS[3]) == 1

-- Takes elements[from], elements[from + step], ..., elements[to] (newest first; flag .. version
-- key) into the chain until a snapshot, a merge pack or the budget: returns true when the walk
-- stops there.
local function visit(elements, from, to, step)
  local snapshots = nil
  if with_snapshots then
    local keys = {}
    for i = from, to, step do keys[#keys + 1] = sub(elements[i], 2) end
    if #keys == 0 then return false end
    snapshots = redis.call('HMGET', KEYS[3], unpack(keys))
  end
  local n, j = #chain, 0
  for i = from, to, step do
    local element = elements[i]
    j = j + 1
    if snapshots and snapshots[j] then
      status, base_key, base_bytes = 'snapshot', sub(element, 2), snapshots[j]
      return true
    end
    if byte(element, 1) == 109 then -- 'm': a merge pack
      status, base_key = 'merge', sub(element, 2)
      base_bytes = redis.call('HGET', KEYS[1], base_key)
      if not base_bytes then status, base_bytes = 'missing', '' end
      return true
    end
    if n == budget then
      status, base_key = 'more', sub(element, 2)
      return true
    end
    n = n + 1
    chain[n] = element
  end
  return false
end

-- A pack's parent link: kind ('c' or 'm'), its position in the index (nil when it has none), its
-- first parent.
local function link(key)
  local info = redis.call('HGET', KEYS[2], key)
  if not info then return nil end
  if byte(info, 1) == 109 then return 'm', nil, '' end
  local parent, position = string.match(info, '^(.*)@(%d+)$', 10)
  if position then return 'c', tonumber(position), parent end
  return 'c', nil, sub(info, 10)
end

local first_span = 8
local key, at, span = ARGV[1], nil, first_span
while status == 'root' do
  if at then
    -- A linear run of the index ends at position 'at': read it back from there. Elements after
    -- the newest one flagged 'c' (99) belong to the run; the first other flag starts it.
    local first = math.max(0, at - math.min(span, budget - #chain + 1) + 1)
    local elements = redis.call('LRANGE', KEYS[4], string.format('%d', first), string.format('%d', at))
    if #elements == 0 then
      status, base_key = 'missing', key
      break
    end
    local oldest = #elements
    while oldest > 1 and byte(elements[oldest], 1) == 99 do oldest = oldest - 1 end
    local continues = byte(elements[oldest], 1) == 99 and first > 0
    -- A run that goes on before this range is read with twice as many elements next time; the
    -- next run (reached through a parent link) starts small again: its length is unknown, and
    -- a short run must not cost a long read (runs of 2 packs would otherwise each read 1,024).
    if continues then span = math.min(2 * span, 1024) else span = first_span end
    if visit(elements, #elements, oldest, -1) then break end
    if continues then
      at = first - 1
    else
      -- The first pack of the run: its first parent comes from its parent link.
      at = nil
      local run_start = sub(elements[oldest], 2)
      local kind, _, parent = link(run_start)
      if not kind then
        status, base_key = 'missing', run_start
        break
      end
      key = parent
      if key == '' then break end
    end
  else
    -- Parent links, one HGET each, until a pack the index places in a linear run.
    local elements = {}
    while key ~= '' and #elements < 64 do
      local kind, position, parent = link(key)
      if not kind then break end
      if position and use_index and redis.pcall('LINDEX', KEYS[4], string.format('%d', position)) == 'c' .. key then
        at = position
        break
      end
      elements[#elements + 1] = kind .. key
      if kind == 'm' then break end
      key = parent
    end
    if visit(elements, 1, #elements, 1) then break end
    if not at then
      if key == '' then break end
      if #elements < 64 then
        status, base_key = 'missing', key
        break
      end
    end
  end
end
local result = {status, base_key, base_bytes}
for i = 1, #chain do result[i + 3] = chain[i] end
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

