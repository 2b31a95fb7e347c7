-- Pushes one holder's expiry to a full expiryMs from now, by Redis's clock.
--
-- KEYS[1]  the name's hash
-- ARGV     owner, token, expiryMs
-- Returns  1 if renewed; 0 if the store no longer has this grant (expired, released or revoked).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then
  return 0
end
local h = cjson.decode(raw)
if tonumber(h.t) ~= tonumber(ARGV[2]) then
  return 0
end
if h.e <= now then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 0
end
local expiry = tonumber(ARGV[3])
h.e = now + expiry
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(h))
if redis.call('PTTL', KEYS[1]) < expiry then
  redis.call('PEXPIRE', KEYS[1], expiry)
end
return 1
