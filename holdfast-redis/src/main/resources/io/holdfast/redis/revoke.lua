-- An operator takes a name back from all its holders. Their watchdogs find the grant gone; the
-- message (V, the highest token granted so far, a colon, the name) tells their clients at once
-- and wakes the waiters.
--
-- KEYS[1]  the name's hash
-- KEYS[2]  the global token counter
-- ARGV     channel, name
-- Returns  the number of live grants revoked.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local fields = redis.call('HGETALL', KEYS[1])
local revoked = 0
for i = 2, #fields, 2 do
  if cjson.decode(fields[i]).e > now then
    revoked = revoked + 1
  end
end
redis.call('DEL', KEYS[1])
if revoked > 0 then
  local highest = redis.call('GET', KEYS[2]) or '0'
  redis.call('PUBLISH', ARGV[1], 'V' .. highest .. ':' .. ARGV[2])
end
return revoked
