-- A register's compare-and-set, optionally fenced by a grant (VersionedRegister).
--
-- KEYS[1]  the register's hash: v (version), d (value, base64), w (id of the write that made it)
-- KEYS[2]  the fence's holders hash (the register's own key when not fenced)
-- ARGV     expectedVersion, value (base64), writeId, fenceOwner ('' if not fenced), fenceToken,
--          the register's watch channel (optional: told of a write)
-- Returns  {1, newVersion} written; {0, version} the version differs; {-1, version} the fence is
--          no longer a live holder (expired, released or revoked, by Redis's clock).
-- The same write sent again (Lettuce re-sends a command after a reconnect) finds its own id and
-- version and answers as written, instead of a conflict with itself.
local version = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
local expected = tonumber(ARGV[1])
if version == expected + 1 and redis.call('HGET', KEYS[1], 'w') == ARGV[3] then
  return {1, version}
end
if ARGV[4] ~= '' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local raw = redis.call('HGET', KEYS[2], ARGV[4])
  local live = false
  if raw then
    local h = cjson.decode(raw)
    live = tonumber(h.t) == tonumber(ARGV[5]) and h.e > now
  end
  if not live then
    return {-1, version}
  end
end
if version ~= expected then
  return {0, version}
end
redis.call('HSET', KEYS[1], 'v', tostring(version + 1), 'd', ARGV[2], 'w', ARGV[3])
if ARGV[6] then
  redis.call('PUBLISH', ARGV[6], '')
end
return {1, version + 1}
