-- Idempotent merge of packs copied from another store, all of one shard, in order.
-- Stops at the first pack whose parent is missing (the packs before it stay merged).
-- KEYS: 1 shard log (list), 2 the shard's store identity (string), then one key per pack: its
--       actor's packs hash `<tag>:<type>:<id>:p` (repeated for each pack of the actor). The
--       actor's other keys are that name with another last letter: r parent links, h heads,
--       s snapshots, c command ids, l linear-run index; the script makes them from the packs key,
--       and the client declares them too, after the packs' keys (five per actor of the call, not
--       read here): a Cluster slot migration is then answered with ASK / TRYAGAIN before the
--       script runs, never met half-way through it.
-- ARGV: 1 the store identity the client read at connect, 2 'w' when the client sends WAIT after
--       the script (replicasToAcknowledge) else '-', then per pack: version key, pack bytes,
--       parent info (kind, fingerprint, first parent of a command pack), the shard log entry
--       (made by the client, as append's), control, then the pack's command ids, then its
--       parents the parent info does not name (all of a merge pack's, a command pack's after
--       the first), then its snapshot bytes when it ships one. Control: the number of command
--       ids, then '+' and the number of those parents when there are any, then 's' when a
--       snapshot follows ('1' for a command pack of one parent and one command id).
-- Returns {added, skipped, 'ok', n, ...} (the n: 1-based numbers of packs whose actor has several
-- heads once every pack is in, one per such actor), {added, skipped, 'collision' | 'missing',
-- n, version} (n: the failing pack's number; for 'missing', version is the absent parent's key)
-- or {0, 0, 'lost', identity found ('' for none)}.
--
-- The packs are decided one by one, in order; what they write is gathered per actor and written
-- when the call ends (every way it ends: a failing pack leaves the packs before it merged, in
-- the log, and nothing of itself): per actor one HSET of its packs, one RPUSH to its run index,
-- one HSET of its parent links, its heads' SREM / SADD, one HSET of its snapshots; one RPUSH of
-- the shard log entries, in pack order. Per pack only HGET (is the version held?) and HSETNX of
-- its command ids (see add_command) talk to Redis. An actor's heads (SMEMBERS) and run index tail
-- (LINDEX) are read when the call first meets the actor and followed in the script after that.
-- The data is what writing the packs one by one writes, key by key.
--
-- The store identity first (see append.lua): nothing is merged into a Redis that lost the data.
local identity = redis.call('GET', KEYS[2])
if identity ~= ARGV[1] then return {0, 0, 'lost', identity or ''} end
local sub, match, byte = string.sub, string.match, string.byte
-- Redis does not roll a script back when a command in it fails, so nothing is written for a pack
-- before every key it writes is known to hold troupe's type: reads that fail with WRONGTYPE on a
-- foreign type (as in append.lua; the client names the key). LLEN checks the log here, once; per
-- actor, HGET checks :r, HEXISTS (a parent) or HLEN :p, SMEMBERS :h, HLEN :s (with a snapshot);
-- :c is checked by the pack's first write, its first HSETNX; the index (:l) cannot fail the
-- script (pcall: a foreign value there leaves the packs unindexed, see the run index in common.lua).
redis.call('LLEN', KEYS[1])
local added, skipped = 0, 0
-- The log entries of the packs decided, in order.
local entries = {}
-- Per actor (by packs key), in the order the call met them: its keys, what was read of it, what
-- its packs write, the number of its last pack.
local actors, met = {}, {}

local function actor_of(packs_key)
  local a = actors[packs_key]
  if a then return a end
  local base = sub(packs_key, 1, -2)
  a = {packs = packs_key, parents = base .. 'r', heads = base .. 'h', snapshots = base .. 's', commands = base .. 'c', runs = base .. 'l',
       -- made at the actor's first new pack (most actors of a call have one or two packs in it, or
       -- none new): version -> parent info of the packs this call merged, parsed clocks by
       -- version key, what the packs write (pack fields, run index elements and the parent
       -- link each names, parent link fields, snapshot fields)
       written = nil, clocks = nil, pack_fields = nil, run_elements = nil, run_links = nil, links = nil, snapshot_fields = nil}
  actors[packs_key] = a
  met[#met + 1] = a
  return a
end

local function clock_of(a, version)
  local clock = a.clocks[version]
  if not clock then
    -- One replica's entry (most versions): one match instead of parse_clock's loop.
    local name, counter = match(version, '^([^,:]+):(%d+)$')
    if name then clock = {[name] = tonumber(counter)} else clock = parse_clock(version) end
    a.clocks[version] = clock
  end
  return clock
end

-- True when the actor holds the pack at `version` (or this call merged it).
local function holds(a, version)
  if a.written and a.written[version] then return true end
  a.packs_checked = true
  return redis.call('HEXISTS', a.packs, version) == 1
end

-- add_head of common.lua on the heads the script follows: the version joins them unless a head
-- dominates it, and the heads it dominates leave.
local function merge_head(a, version)
  local clock = clock_of(a, version)
  -- One head (an actor that is not diverged): no list to build.
  if #a.members == 1 then
    local head = a.members[1]
    local head_clock = clock_of(a, head)
    if dominated(clock, head_clock) then return end
    if dominated(head_clock, clock) then a.members = {version} else a.members = {head, version} end
    return
  end
  for _, head in ipairs(a.members) do
    if dominated(clock, clock_of(a, head)) then return end
  end
  local kept = {}
  for _, head in ipairs(a.members) do
    if not dominated(clock_of(a, head), clock) then kept[#kept + 1] = head end
  end
  kept[#kept + 1] = version
  a.members = kept
end

-- Writes what the decided packs of one actor write.
local function write_actor(a)
  if not a.pack_fields or #a.pack_fields == 0 then return end
  redis.call('HSET', a.packs, unpack(a.pack_fields))
  -- The index: the elements in one RPUSH; a 'c' element's parent link gets its position.
  local runs = a.run_elements
  if #runs > 0 then
    local length = redis.pcall('RPUSH', a.runs, unpack(runs))
    if type(length) == 'number' then
      local first = length - #runs
      for j, element in ipairs(runs) do
        if byte(element, 1) == 99 then -- 'c'
          local link = a.links[2 * a.run_links[j]]
          a.links[2 * a.run_links[j]] = link .. '@' .. string.format('%d', first + j - 1)
        end
      end
    end
  end
  redis.call('HSET', a.parents, unpack(a.links))
  -- The heads: those read that left, those that joined (no lists to build for one head before
  -- and after, an actor that is not diverged).
  local before, after = a.read_members, a.members
  if #before <= 1 and #after == 1 then
    if before[1] ~= after[1] then
      if before[1] then redis.call('SREM', a.heads, before[1]) end
      redis.call('SADD', a.heads, after[1])
    end
    if a.snapshot_fields then redis.call('HSET', a.snapshots, unpack(a.snapshot_fields)) end
    return
  end
  local final = {}
  for _, head in ipairs(a.members) do final[head] = true end
  local gone, new = {}, {}
  for _, head in ipairs(a.read_members) do
    if final[head] then final[head] = nil else gone[#gone + 1] = head end
  end
  for head in pairs(final) do new[#new + 1] = head end
  if #gone > 0 then redis.call('SREM', a.heads, unpack(gone)) end
  if #new > 0 then redis.call('SADD', a.heads, unpack(new)) end
  if a.snapshot_fields then redis.call('HSET', a.snapshots, unpack(a.snapshot_fields)) end
end

local function run()
  local i = 3
  local number = 0
  while i <= #ARGV do
    number = number + 1
    local a = actor_of(KEYS[2 + number])
    local version, bytes, info, entry, control = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
    local commands, others, snapshot = 1, 0, false
    if control ~= '1' then
      local c, o, s = match(control, '^(%d+)%+?(%d*)(s?)$')
      if not c then return redis.error_reply('troupe merge: control ' .. control .. ' of pack ' .. number .. ' is not <commands>[+<parents>][s]') end
      commands, others, snapshot = tonumber(c), tonumber(o) or 0, s == 's'
    end
    local first_command = i + 5
    local first_other = first_command + commands
    local snapshot_at = first_other + others
    i = snapshot_at + (snapshot and 1 or 0)
    a.last = number
    local held = (a.written and a.written[version]) or redis.call('HGET', a.parents, version)
    if held then
      -- Same version: the same pack (skip) or a different one (two replicas share a replicaId).
      if sub(held, 2, 9) ~= sub(info, 2, 9) then return {added, skipped, 'collision', number, version} end
      skipped = skipped + 1
    else
      if byte(info, 1) == 99 and #info > 9 then -- 'c': a command pack's first parent
        local parent = sub(info, 10)
        if not holds(a, parent) then return {added, skipped, 'missing', number, parent} end
      end
      for j = first_other, snapshot_at - 1 do
        if not holds(a, ARGV[j]) then return {added, skipped, 'missing', number, ARGV[j]} end
      end
      if not a.packs_checked then
        redis.call('HLEN', a.packs)
        a.packs_checked = true
      end
      if not a.members then
        a.read_members = redis.call('SMEMBERS', a.heads)
        a.members = a.read_members
      end
      if snapshot and not a.snapshots_checked then
        redis.call('HLEN', a.snapshots)
        a.snapshots_checked = true
      end
      -- The run index's tail: read once per actor and call (false: the key holds something else).
      if a.tail == nil then
        local tail = redis.pcall('LINDEX', a.runs, '-1')
        if type(tail) == 'table' and tail.err then a.tail = false else a.tail = tail or '' end
        a.written, a.clocks, a.pack_fields, a.links, a.run_elements, a.run_links = {}, {}, {}, {}, {}, {}
      end
      -- The command ids now: the first HSETNX is what checks :c (nothing of the pack is written
      -- if it fails). The rest is gathered for write_actor.
      for j = first_command, first_other - 1 do add_command(a.commands, ARGV[j], version) end
      local pack_fields, links = a.pack_fields, a.links
      pack_fields[#pack_fields + 1] = version
      pack_fields[#pack_fields + 1] = bytes
      links[#links + 1] = version
      links[#links + 1] = info
      if a.tail then
        local flag = 's'
        if #info > 9 and sub(a.tail, 2) == sub(info, 10) then flag = 'c' elseif byte(info, 1) == 109 then flag = 'm' end
        a.tail = flag .. version
        a.run_elements[#a.run_elements + 1] = a.tail
        a.run_links[#a.run_elements] = #links / 2
      end
      merge_head(a, version)
      if snapshot then
        local fields = a.snapshot_fields or {}
        fields[#fields + 1] = version
        fields[#fields + 1] = ARGV[snapshot_at]
        a.snapshot_fields = fields
      end
      a.written[version] = info
      entries[#entries + 1] = entry
      added = added + 1
    end
  end
  local result = {added, skipped, 'ok'}
  for _, a in ipairs(met) do
    local heads = a.members and #a.members or redis.call('SCARD', a.heads)
    if heads > 1 then result[#result + 1] = a.last end
  end
  return result
end

local ok, result = pcall(run)
for _, a in ipairs(met) do write_actor(a) end
for from = 1, #entries, 1000 do
  redis.call('RPUSH', KEYS[1], unpack(entries, from, math.min(from + 999, #entries)))
end
if not ok then return redis.error_reply(type(result) == 'table' and result.err or tostring(result)) end
if result.err then return result end
-- A call that only skipped wrote nothing, yet the packs it found may be on no replica (a retry
-- after a ReplicationTimeoutError): with a WAIT to follow, replicate_marker (see common.lua).
if added == 0 and skipped > 0 and ARGV[2] == 'w' then replicate_marker(KEYS[2], identity) end
return result
