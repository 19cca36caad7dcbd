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
