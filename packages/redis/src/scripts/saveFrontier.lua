-- Writes entries of the frontier table unless the Redis lost the store's data (the client has
-- already chosen them: only the entries that move the table forward).
-- KEYS: 1 the store identity under the meta tag (string), 2 the frontier table (hash)
-- ARGV: 1 the store identity the client read at connect, then field, value, field, value, ...
-- Returns {'ok'} or {'lost', identity found ('' for none)}.
local identity = redis.call('GET', KEYS[1])
if identity ~= ARGV[1] then return {'lost', identity or ''} end
redis.call('HSET', KEYS[2], unpack(ARGV, 2))
return {'ok'}
