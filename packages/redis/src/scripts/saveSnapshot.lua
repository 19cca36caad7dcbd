-- Stores a snapshot (a cache, not shipped in the log) unless the Redis lost the store's data.
-- KEYS: 1 the shard's store identity (string), 2 the actor's snapshots (hash)
-- ARGV: 1 the store identity the client read at connect, 2 version key, 3 snapshot bytes
-- Returns {'ok'} or {'lost', identity found ('' for none)}.
local identity = redis.call('GET', KEYS[1])
if identity ~= ARGV[1] then return {'lost', identity or ''} end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return {'ok'}
