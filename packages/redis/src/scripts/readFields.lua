-- One field of each of several hashes of one shard, in one call: what `changesSince` reads for a
-- page of a shard log (each pack, and the snapshot of a pack that ships one). A pipeline of one
-- HGET per pack cost the client several microseconds per command (a command object, a promise, a
-- reply each); this is one command and one reply. Reads only.
-- KEYS: the hashes (the same key once per field read); ARGV: the field of each, in the same order.
-- Returns the values in that order (nil where the field is absent).
local out = {}
for i = 1, #KEYS do out[i] = redis.call('HGET', KEYS[i], ARGV[i]) end
return out
