-- Gives one grant back and grants the next waiters in the same step.
--
-- KEYS     H, Q, W, C (see queue.lua)
-- ARGV     owner, token, tokenFloor, channel, the name's watch channel
-- Returns  1 if the grant was still live; 0 if the store no longer had it (expired or revoked).
--          A grant of another token is not touched.
local H, Q, W, C = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = now_ms()
local raw = redis.call('HGET', H, ARGV[1])
if not raw then
  return 0
end
local h = cjson.decode(raw)
if tonumber(h.t) ~= tonumber(ARGV[2]) then
  return 0
end
redis.call('HDEL', H, ARGV[1])
changed = true
announce(ARGV[4], settle(H, Q, W, C, ARGV[3], now, live_holders(H, now)))
tell_watchers(ARGV[5])
if h.e <= now then
  return 0
end
return 1
