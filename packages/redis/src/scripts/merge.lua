-- Idempotent merge of packs copied from another store, all of one shard, in order.
-- Stops at the first pack whose parent is missing (the packs before it stay merged).
-- KEYS: 1 shard log (list), 2 the shard's store identity (string), then 6 keys per pack: packs,
--       parent links, heads, snapshots, command ids, linear-run index (list)
-- ARGV: 1 the store identity the client read at connect, 2 'w' when the client sends WAIT after
--       the script (replicasToAcknowledge) else '-', then 8 arguments per pack: type, id,
--       version key, pack bytes, parent info, parents (JSON array of keys), command ids (JSON
--       array), snapshot bytes ('' for none)
-- Returns {added, skipped, 'ok', i, ...} (the i: 1-based numbers of packs whose actor has several
-- heads once every pack is in, one per such actor), {added, skipped, 'collision' | 'missing',
-- actor, version} or {0, 0, 'lost', identity found ('' for none)}.
-- The store identity first (see append.lua): nothing is merged into a Redis that lost the data.
local identity = redis.call('GET', KEYS[2])
if identity ~= ARGV[1] then return {0, 0, 'lost', identity or ''} end
local added, skipped = 0, 0
-- A call that only skipped wrote nothing, yet the packs it found may be on no replica (a retry
-- after a ReplicationTimeoutError): with a WAIT to follow, replicate_marker (see common.lua).
local function finish(result)
  if added == 0 and skipped > 0 and ARGV[2] == 'w' then replicate_marker(KEYS[2], identity) end
  return result
end
local pack = 0
-- heads key -> number of the last pack of that actor in this call
local last_of = {}
for i = 3, #ARGV, 8 do
  local k = 3 + 6 * pack
  local packs, parents, heads, snapshots, commands, runs = KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5]
  pack = pack + 1
  local version = ARGV[i + 2]
  last_of[heads] = pack
  local wrong = check_types({packs, 'hash', parents, 'hash', heads, 'set', snapshots, 'hash', commands, 'hash', KEYS[1], 'list'})
  if wrong then return wrong end
  local held = redis.call('HGET', parents, version)
  if held then
    -- Same version: the same pack (skip) or a different one (two replicas share a replicaId).
    if string.sub(held, 2, 9) ~= string.sub(ARGV[i + 4], 2, 9) then
      return finish({added, skipped, 'collision', ARGV[i] .. ':' .. ARGV[i + 1], version})
    end
    skipped = skipped + 1
  else
    for _, parent in ipairs(cjson.decode(ARGV[i + 5])) do
      if redis.call('HEXISTS', packs, parent) == 0 then
        return finish({added, skipped, 'missing', ARGV[i] .. ':' .. ARGV[i + 1], parent})
      end
    end
    redis.call('HSET', packs, version, ARGV[i + 3])
    redis.call('HSET', parents, version, index_pack(runs, version, ARGV[i + 4], run_flag(runs, ARGV[i + 4])))
    add_head(heads, version)
    for _, command in ipairs(cjson.decode(ARGV[i + 6])) do add_command(commands, command, version) end
    local with_snapshot = 0
    if ARGV[i + 7] ~= '' then
      redis.call('HSET', snapshots, version, ARGV[i + 7])
      with_snapshot = 1
    end
    redis.call('RPUSH', KEYS[1], cjson.encode({ARGV[i], ARGV[i + 1], version, with_snapshot}))
    added = added + 1
  end
end
local result = {added, skipped, 'ok'}
for heads, number in pairs(last_of) do
  if redis.call('SCARD', heads) > 1 then table.insert(result, number) end
end
return finish(result)
