-- The heads of an actor: {'ok', key1, pack1, key2, pack2, ...} (the client sorts them: Lua's
-- string order follows the server's locale), or {'lost', identity found ('' for none)} when the
-- shard's store identity is not the one the client read at connect (see append.lua): every load
-- starts here, so no command is decided on the empty state of a Redis that lost the data, not even
-- one the actor rejects (a rejection writes nothing, so the write scripts' check would miss it).
-- KEYS: 1 packs, 2 heads, 3 the shard's store identity
-- ARGV: 1 the store identity the client read at connect
local identity = redis.call('GET', KEYS[3])
if identity ~= ARGV[1] then return {'lost', identity or ''} end
local heads = redis.call('SMEMBERS', KEYS[2])
local result = {'ok'}
for _, key in ipairs(heads) do
  result[#result + 1] = key
  result[#result + 1] = redis.call('HGET', KEYS[1], key) or ''
end
return result
