-- Conditional append of one pack: atomic, one round trip.
-- KEYS: 1 shard log (list), 2 packs (hash), 3 parent links (hash), 4 heads (set),
--       5 snapshots (hash), 6 command ids (hash), 7 linear-run index (list), 8 the shard's store
--       identity (string): all with the shard's hash tag, all declared, so
--       Redis Cluster routes (and, during a slot migration, redirects) the script correctly.
-- ARGV: 1 the shard log entry (JSON [type, id, version, 0 or 1 = with a snapshot], made by the
--       client), 2 version key, 3 pack bytes, 4 parent info (kind 'c' or 'm', 8 hex of
--       fingerprint, first parent key), 5 snapshot bytes ('' for none), 6 three fields in one
--       argument (fewer arguments cost the client less): '1' when the version dominates every
--       expected head (checked by the client; the heads become just this version) else '0', then
--       the pack's flag in the run index ('c' when it is a command pack whose first parent is the
--       one expected head and it dominates it: that head is then the last pack this store
--       indexed, the list's tail, unless a writer without the index wrote it, which loads notice
--       and fall back from; 's' or 'm' otherwise), then 'w' when the client sends WAIT after the
--       script (replicasToAcknowledge) else '-', then n = the number of expected heads;
--       7 the store identity the client read at connect, 8..7+n the expected heads, then the
--       command ids.
-- Returns {'ok'}, {'conflict', head, ...} (the heads differ from the expected ones, or the version
-- is held), {'duplicate', command id} or {'lost', identity found ('' for none)}.
-- Heads are compared as a set (SCARD + SISMEMBER), never by sorting in Lua: Lua's string order
-- follows the server's locale.
-- First of all, the store identity (see storeIdentity.ts): a Redis that lost the data lost it too,
-- and the empty heads it would report must not decide anything. Nothing is written.
local identity = redis.call('GET', KEYS[8])
if identity ~= ARGV[7] then return {'lost', identity or ''} end
local version = ARGV[2]
local control = ARGV[6]
local expected = tonumber(string.sub(control, 4))
local held = redis.call('SCARD', KEYS[4])
local same = held == expected
if same then
  for i = 8, 7 + expected do
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
-- A command id this store already recorded for the actor: the command was applied here, whatever
-- its sender claimed (a resend that says it is new), so it is not applied again and nothing is
-- written (the client throws DuplicateCommandError). merge does not check this: a retry accepted
-- on two branches during a partition is a fact both branches hold.
-- With a WAIT to follow, the earlier write must be confirmed like a new one: a retry after a
-- ReplicationTimeoutError must not be answered from a write no replica has (replicate_marker).
for i = 8 + expected, #ARGV do
  if redis.call('HEXISTS', KEYS[6], ARGV[i]) == 1 then
    if string.sub(control, 3, 3) == 'w' then replicate_marker(KEYS[8], identity) end
    return {'duplicate', ARGV[i]}
  end
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
for i = 8 + expected, #ARGV do add_command(KEYS[6], ARGV[i], version) end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[5], version, ARGV[5]) end
return {'ok'}
