-- Shared functions of the keys scripts (RedisKeys), sent in front of each of them.
--
-- A key is the register's hash <prefix>reg:<key>: v (version), d (value, base64), w (id of the
-- write that made it), o (the session it is attached to; absent when none), x (when it expires,
-- Redis milliseconds; absent when never). Beside it: <prefix>keys, every key's name with score 0
-- (ZRANGEBYLEX lists them in byte order); <prefix>kttl, the keys with a time to live by expiry;
-- <prefix>sessions, the sessions with attached keys by expiry; <prefix>skeys:<session>, the names
-- of a session's attached keys. A key whose expiry or session's expiry has passed is absent to
-- every script, and each script first sweeps (a bounded number of) such keys away.
local P = ARGV[1]
local T = redis.call('TIME')
local NOW = tonumber(T[1]) * 1000 + math.floor(tonumber(T[2]) / 1000)
local INDEX = P .. 'keys'
local TTLS = P .. 'kttl'
local SESSIONS = P .. 'sessions'

local function hkey(k) return P .. 'reg:' .. k end
local function skeys(s) return P .. 'skeys:' .. s end
local function channel(k) return P .. 'watch:reg:' .. k end

local function session_alive(s)
  local score = redis.call('ZSCORE', SESSIONS, s)
  return score ~= false and tonumber(score) > NOW
end

-- The key's fields {v, d, o, x} when it is live; nil when absent, expired or of an ended session.
local function live(k)
  local f = redis.call('HMGET', hkey(k), 'v', 'd', 'o', 'x')
  if not f[1] then return nil end
  if f[4] and tonumber(f[4]) <= NOW then return nil end
  if f[3] and not session_alive(f[3]) then return nil end
  return f
end

-- Deletes the key's record and its index entries, and tells its watchers.
local function drop(k)
  local o = redis.call('HGET', hkey(k), 'o')
  if o then redis.call('SREM', skeys(o), k) end
  redis.call('DEL', hkey(k))
  redis.call('ZREM', INDEX, k)
  redis.call('ZREM', TTLS, k)
  redis.call('PUBLISH', channel(k), '')
end

-- Deletes every key attached to session s (those still its own) and the session's record.
local function end_session(s)
  for _, k in ipairs(redis.call('SMEMBERS', skeys(s))) do
    if redis.call('HGET', hkey(k), 'o') == s then drop(k) end
  end
  redis.call('DEL', skeys(s))
  redis.call('ZREM', SESSIONS, s)
end

-- Deletes what has expired: at most 16 sessions and 256 keys a step (reads check liveness anyway).
local function sweep()
  for _, s in ipairs(redis.call('ZRANGEBYSCORE', SESSIONS, '-inf', NOW, 'LIMIT', 0, 16)) do
    end_session(s)
  end
  for _, k in ipairs(redis.call('ZRANGEBYSCORE', TTLS, '-inf', NOW, 'LIMIT', 0, 256)) do
    local x = redis.call('HGET', hkey(k), 'x')
    if x and tonumber(x) <= NOW then drop(k) else redis.call('ZREM', TTLS, k) end
  end
end
