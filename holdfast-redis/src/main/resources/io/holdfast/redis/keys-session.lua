-- Keeps this client's session record alive, or ends it (RedisKeyStore).
--
-- ARGV     prefix of Holdfast's keys, session id, 'renew' or 'end', the session's TTL in ms
-- Returns  1 when the session was alive (renewed, or ended by this call); 0 when its record had
--          lapsed: its attached keys are gone, and a renewal begins a new record.
sweep()
local s = ARGV[2]
local alive = session_alive(s)
if not alive or ARGV[3] == 'end' then
  end_session(s)
end
if ARGV[3] == 'renew' then
  redis.call('ZADD', SESSIONS, NOW + tonumber(ARGV[4]), s)
end
if alive then return 1 end
return 0
