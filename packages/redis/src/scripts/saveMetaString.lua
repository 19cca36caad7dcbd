-- Stores a string under the meta tag (a replicator checkpoint, the declared regions) unless the
-- Redis lost the store's data: a cursor saved into an emptied target would make the replicator
-- skip what the target lost.
-- KEYS: 1 the store identity under the meta tag (string), 2 the string to set
-- ARGV: 1 the store identity the client read at connect, 2 the value
-- Returns {'ok'} or {'lost', identity found ('' for none)}.
local identity = redis.call('GET', KEYS[1])
if identity ~= ARGV[1] then return {'lost', identity or ''} end
redis.call('SET', KEYS[2], ARGV[2])
return {'ok'}
