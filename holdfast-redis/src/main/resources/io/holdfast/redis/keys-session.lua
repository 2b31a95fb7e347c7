-- Keeps this client's session alive for its keys, or ends it (RedisKeys).
--
-- ARGV     prefix of Holdfast's keys, session id, 'renew' or 'end', the session's TTL in ms
-- Returns  1 when the session was alive (renewed, or ended by this call); 0 when it had already
--          ended (its attached keys are gone).
sweep()
local s = ARGV[2]
if not session_alive(s) then
  end_session(s)
  return 0
end
if ARGV[3] == 'end' then
  end_session(s)
else
  redis.call('ZADD', SESSIONS, 'XX', NOW + tonumber(ARGV[4]), s)
end
return 1
