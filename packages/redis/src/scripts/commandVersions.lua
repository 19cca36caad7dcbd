-- The versions that applied a command id, confirmed for replication: used with
-- replicasToAcknowledge, when a retry is about to be answered from a command id recorded earlier
-- (the client sends `WAIT n timeout` right after this script, on the same connection).
-- KEYS: 1 command ids (hash), 2 the shard's store identity (string)
-- ARGV: 1 the store identity the client read at connect, 2 the command id
-- Returns {'ok', versions ('|'-separated)}, {'ok'} when the id is not recorded, or
-- {'lost', identity found ('' for none)}.
-- The identity first (see append.lua): rewriting it on a Redis that lost the data would hide the loss.
local identity = redis.call('GET', KEYS[2])
if identity ~= ARGV[1] then return {'lost', identity or ''} end
local versions = redis.call('HGET', KEYS[1], ARGV[2])
if not versions then return {'ok'} end
-- The write that recorded it may have come from another connection: see replicate_marker.
replicate_marker(KEYS[2], identity)
return {'ok', versions}
