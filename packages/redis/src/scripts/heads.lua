-- The heads of an actor: {key1, pack1, key2, pack2, ...} (the client sorts them: Lua's string
-- order follows the server's locale).
-- KEYS: 1 packs, 2 heads
local heads = redis.call('SMEMBERS', KEYS[2])
local result = {}
for _, key in ipairs(heads) do
  result[#result + 1] = key
  result[#result + 1] = redis.call('HGET', KEYS[1], key) or ''
end
return result
