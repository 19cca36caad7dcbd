-- Keeps the record of a merge, newest first, at most ARGV[3] per actor (the oldest dropped),
-- unless the Redis lost the store's data.
-- KEYS: 1 the shard's store identity (string), 2 the actor's merge records (list)
-- ARGV: 1 the store identity the client read at connect, 2 the record's bytes, 3 records kept
-- Returns {'ok'} or {'lost', identity found ('' for none)}.
local identity = redis.call('GET', KEYS[1])
if identity ~= ARGV[1] then return {'lost', identity or ''} end
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
return {'ok'}
