-- Shared by the scripts that change a name's holders or queue; the provider puts it in front of
-- each of them (Redis 6.2 has no script libraries). Every time is Redis's clock (TIME), in ms.
--
-- Per name: H, a hash of holders (field: owner, value: JSON {m mode, p permits, x semaphore size,
-- t token, e expiry, s granted at, l lease timeout 0/1, id session, c client name}); Q, a sorted set
-- of waiting owners scored by arrival; W, a hash of waiters (owner -> JSON {m, p, x, ex expiry
-- the grant will get, e liveness: the waiter is dropped unless it polls before this, d its
-- deadline, s arrival time, l, id, c}). C is the one token counter of every name; KEYS[5], in
-- every script that includes this library, holds the run_id of the Redis process that last took a
-- token from C.

local raised = 0
local COUNTER_SERVER = KEYS[5]

-- Tokens follow Redis's clock: at least PER_MS per millisecond since 1970, so a counter Redis lost
-- entirely starts again above every token it gave out, unless it had run ahead of the clock (more
-- than 16,000 grants a second, or a jump less than 4 s ago). When another Redis process takes
-- the next token (a restart that lost the last second, a failover that lost what the replica had
-- not received), the counter first jumps by JUMP, more tokens than such a lost tail holds beyond
-- the clock line. Tokens
-- must stay below 10^14: Lua prints numbers, and cjson encodes them, with 14 significant digits;
-- 16 * the clock in ms is near 3 * 10^13 in 2026 and reaches 10^14 in the year 2168.
local JUMP = 65536 -- 2^16: 4 s of the clock line
local PER_MS = 16

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The live holders of H, each with its owner in .o; expired ones are deleted on the way.
local function live_holders(H, now)
  local fields = redis.call('HGETALL', H)
  local live = {}
  for i = 1, #fields, 2 do
    local h = cjson.decode(fields[i + 1])
    if h.e <= now then
      redis.call('HDEL', H, fields[i])
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

-- The next fencing token: one above the counter, the clock line (now * PER_MS) and floor (the
-- highest token the calling client has seen), whichever is highest; the counter first jumps by JUMP
-- if another Redis process took the last token. raised: 1 lifted to floor, 2 jumped.
local server_checked = false
local function next_token(C, floor, now)
  if not server_checked then
    server_checked = true
    local me = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
    local last = redis.call('GET', COUNTER_SERVER)
    if last ~= me then
      if last or redis.call('EXISTS', C) == 1 then -- a counter of unknown origin jumps too
        redis.call('INCRBY', C, JUMP)
        raised = 2
      end
      redis.call('SET', COUNTER_SERVER, me)
    end
  end
  local current = tonumber(redis.call('GET', C) or '0')
  local target = math.max(current, now * PER_MS)
  if target < tonumber(floor) then
    target = tonumber(floor)
    raised = 1
  end
  if target > current then
    redis.call('SET', C, string.format('%d', target))
  end
  return redis.call('INCR', C)
end

-- Records the grant of r (a waiter record or a new request) to owner; returns its token.
local function grant(H, C, floor, now, owner, r, live)
  local token = next_token(C, floor, now)
  local h = {m = r.m, p = r.p, x = r.x, t = token, e = now + r.ex, s = now, l = r.l, id = r.id, c = r.c}
  redis.call('HSET', H, owner, cjson.encode(h))
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
    redis.call('PUBLISH', channel, 'G' .. g[2] .. ':' .. g[1])
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
