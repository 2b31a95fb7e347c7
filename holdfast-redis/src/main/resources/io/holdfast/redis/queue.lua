-- Shared by the scripts that change a name's holders or queue; the provider puts it in front of
-- each of them (Redis 6.2 has no script libraries). Every time is Redis's clock (TIME), in ms.
--
-- Per name: H, a hash of holders (field: owner, value: JSON {m mode, p permits, x semaphore size,
-- t token, e expiry, s granted at, l lease timeout 0/1, id session, c client name}); Q, a sorted set
-- of waiting owners scored by arrival; W, a hash of waiters (owner -> JSON {m, p, x, ex expiry
-- the grant will get, e liveness: the waiter is dropped unless it polls before this, d its
-- deadline, s arrival time, l, id, c}). C is the token counter: one for every name on one Redis,
-- the name's own on a Redis Cluster (where every key of a name is in the name's hash slot).
--
-- A token is written as a string (string.format '%d', and t in the JSON records): Lua prints
-- numbers, and cjson encodes them, with 14 significant digits, and tokens are near 2 * 10^15.

local raised = 0

-- Whether this step changed the name (a holder or waiter came or went, or an expired one was cleared
-- away): then tell_watchers publishes on the name's watch channel, and its watches read at once.
local changed = false

-- Tokens follow Redis's clock: the counter never falls below PER_MS per millisecond since 1970 (the
-- clock line), so a counter that lost its last increments, or all of them (a restart without the
-- last writes, a failover to a replica that had not received them), goes on above every token it
-- gave out: that would take more than a million grants a second, or a clock that went back by
-- more than the restart or failover took. 1024 * the clock in ms is near 1.8 * 10^15 in 2026 and
-- reaches 2^53, where Lua's numbers end, in the year 2248. The line moves with the clock's
-- microseconds (1.024 a microsecond), so counters of different names (a Redis Cluster's, one per
-- name) give grants made a microsecond apart tokens in the order of their grants.
local PER_MS = 1024

-- The clock line at the last now_ms(), in tokens.
local clock_line = 0

local function now_ms()
  local t = redis.call('TIME')
  local us = tonumber(t[2])
  clock_line = tonumber(t[1]) * 1000 * PER_MS + math.floor(us * PER_MS / 1000)
  return tonumber(t[1]) * 1000 + math.floor(us / 1000)
end

-- The live holders of H, each with its owner in .o; expired ones are deleted on the way.
local function live_holders(H, now)
  local fields = redis.call('HGETALL', H)
  local live = {}
  for i = 1, #fields, 2 do
    local h = cjson.decode(fields[i + 1])
    if h.e <= now then
      redis.call('HDEL', H, fields[i])
      changed = true
    else
      h.o = fields[i]
      live[#live + 1] = h
    end
  end
  return live
end

-- Whether a request of mode m for p of x permits can be granted beside the live holders.
local function fits(live, m, p, x)
  local used = 0
  for _, h in ipairs(live) do
    if m == 'E' or h.m ~= m or h.x ~= x then
      return false
    end
    used = used + h.p
  end
  return m ~= 'P' or used + p <= x
end

-- The next fencing token: one above the counter, the clock line (now * PER_MS, and the
-- microseconds) and floor (the highest token the calling client has seen), whichever is highest.
-- raised: 1 lifted to floor.
local function next_token(C, floor, now)
  local current = tonumber(redis.call('GET', C) or '0')
  local target = math.max(current, now * PER_MS, clock_line)
  if target < tonumber(floor) then
    target = tonumber(floor)
    raised = 1
  end
  if target > current then
    return redis.call('INCRBY', C, string.format('%d', target - current + 1))
  end
  return redis.call('INCR', C)
end

-- Records the grant of r (a waiter record or a new request) to owner; returns its token.
local function grant(H, C, floor, now, owner, r, live)
  local token = next_token(C, floor, now)
  local h = {m = r.m, p = r.p, x = r.x, t = string.format('%d', token), e = now + r.ex, s = now, l = r.l, id = r.id, c = r.c}
  redis.call('HSET', H, owner, cjson.encode(h))
  changed = true
  if redis.call('PTTL', H) < r.ex then
    redis.call('PEXPIRE', H, r.ex) -- the hash outlives its longest-lived holder, and no more
  end
  h.o = owner
  live[#live + 1] = h
  return token
end

-- Grants waiters from the head of the queue, in arrival order, while they fit (every leading
-- reader together; a large semaphore request at the head is not overtaken). Waiters that stopped
-- polling or whose deadline passed are dropped on the way. Returns {{owner, token}, ...}.
local function settle(H, Q, W, C, floor, now, live)
  local granted = {}
  while true do
    local head = redis.call('ZRANGE', Q, 0, 0)
    if #head == 0 then
      break
    end
    local owner = head[1]
    local raw = redis.call('HGET', W, owner)
    local w = raw and cjson.decode(raw)
    if not w or w.e <= now or w.d <= now then
      redis.call('ZREM', Q, owner)
      redis.call('HDEL', W, owner)
      changed = true
    elseif fits(live, w.m, w.p, w.x) then
      redis.call('ZREM', Q, owner)
      redis.call('HDEL', W, owner)
      granted[#granted + 1] = {owner, grant(H, C, floor, now, owner, w, live)}
    else
      break
    end
  end
  return granted
end

-- Tells the clients of granted waiters: G<token>:<owner> on the channel.
local function announce(channel, granted)
  for _, g in ipairs(granted) do
    redis.call('PUBLISH', channel, 'G' .. string.format('%d', g[2]) .. ':' .. g[1])
  end
end

-- Tells the watches of the name (an empty message on its watch channel) if this step changed it.
-- A grant that lapses by itself publishes nothing until a later step finds it expired: watches see
-- that by their own reads.
local function tell_watchers(watch_channel)
  if changed then
    redis.call('PUBLISH', watch_channel, '')
  end
end

local function token_of(granted, owner)
  for _, g in ipairs(granted) do
    if g[1] == owner then
      return g[2]
    end
  end
  return nil
end
