-- An operator takes a name back from all its holders, and the waiters are granted. The message
-- V<highest token>:<name> tells the holders' clients at once.
--
-- KEYS     H, Q, W, C (see queue.lua)
-- ARGV     channel, name, tokenFloor, the name's watch channel
-- Returns  the number of live grants revoked.
local H, Q, W, C = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = now_ms()
local revoked = #live_holders(H, now)
redis.call('DEL', H)
if revoked > 0 then
  changed = true
  redis.call('PUBLISH', ARGV[1], 'V' .. (redis.call('GET', C) or '0') .. ':' .. ARGV[2])
end
announce(ARGV[1], settle(H, Q, W, C, ARGV[3], now, {}))
tell_watchers(ARGV[4])
return revoked
