-- A wait ends without a grant (deadline, interrupt, cancel, close): the owner leaves the queue, and
-- a grant it may have received meanwhile is given back; the waiters behind it move up.
--
-- KEYS     H, Q, W, C (see queue.lua)
-- ARGV     owner, tokenFloor, channel, the name's watch channel
-- Returns  1 if a grant was given back, else 0.
local H, Q, W, C = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = now_ms()
local left = redis.call('ZREM', Q, ARGV[1]) + redis.call('HDEL', W, ARGV[1])
local released = redis.call('HDEL', H, ARGV[1])
if left + released > 0 then
  changed = true
end
announce(ARGV[3], settle(H, Q, W, C, ARGV[2], now, live_holders(H, now)))
tell_watchers(ARGV[4])
return released
