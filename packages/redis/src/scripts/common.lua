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
-- merge.lua keeps the list's tail in the script for the packs of one call and flags a merged pack
-- the same way ('c' when its first parent is the tail, else 'm' or 's').
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

-- With replicasToAcknowledge the client sends `WAIT n timeout` right after the script, on the same
-- connection. WAIT counts the replicas that hold everything up to this connection's last write,
-- so a script that finds its work already done (a command id recorded earlier, a merge that only
-- skips) writes nothing and would let WAIT confirm nothing about that earlier write, which may
-- have come from another connection or process and not reached any replica. Such a script
-- rewrites the shard's identity key with the value it just checked it holds: a write that
-- changes nothing but replicates, so the WAIT that follows covers every earlier write to this
-- master, the one it found included.
local function replicate_marker(identity_key, identity)
  redis.call('SET', identity_key, identity)
end
