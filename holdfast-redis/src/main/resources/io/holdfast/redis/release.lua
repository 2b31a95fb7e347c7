-- Gives one grant back and tells the waiters of the name (pub/sub), in one step.
--
-- KEYS[1]  the name's hash
-- ARGV     owner, token, channel, message (R followed by the name)
-- Returns  1 if the grant was still live; 0 if the store no longer had it (expired or revoked).
--          A grant of another token (a later grant of the same owner cannot exist) is not touched.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then
  return 0
end
local h = cjson.decode(raw)
if h.t ~= tonumber(ARGV[2]) then
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[3], ARGV[4])
if h.e <= now then
  return 0
end
return 1
