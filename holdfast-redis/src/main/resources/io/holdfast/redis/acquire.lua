-- One try of a request, or one poll of a queued waiter, in one atomic step: purge expired holders,
-- grant from the head of the queue, then answer for this owner.
--
-- KEYS     H, Q, W, C (see queue.lua), S (the arrival counter)
-- ARGV     owner, mode (E, S or P), permits, maxPermits, expiryMs, tokenFloor, sessionId,
--          clientName, leaseTimeout (0/1), waitMs (0: try once, never queue), channel, the name's
--          watch channel (told if the step changed the name)
-- Returns  {token, raised}: token 0 if not granted (queued, or busy for a try); raised 1 if the
--          counter had to be lifted to tokenFloor.
-- Errors   HOLDFAST_SIZE n: the name is in use with n permits, not maxPermits.
local H, Q, W, C, S = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local owner, mode = ARGV[1], ARGV[2]
local permits, max, expiry = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local floor, wait, channel, watch_channel = ARGV[6], tonumber(ARGV[10]), ARGV[11], ARGV[12]
local now = now_ms()

local live = live_holders(H, now)
for _, h in ipairs(live) do
  if h.o == owner then
    -- Granted already (a retry after a lost reply, or granted while queued): written again, so
    -- that a WAIT of this client's connection covers it.
    redis.call('HSET', H, owner, redis.call('HGET', H, owner))
    tell_watchers(watch_channel)
    return {tonumber(h.t), 0}
  end
end
local queued = redis.call('HGET', W, owner)
if not queued then
  for _, h in ipairs(live) do
    if h.x ~= max then
      tell_watchers(watch_channel)
      return redis.error_reply('HOLDFAST_SIZE ' .. h.x)
    end
  end
  for _, raw in ipairs(redis.call('HVALS', W)) do
    local w = cjson.decode(raw)
    if w.x ~= max and w.e > now and w.d > now then
      tell_watchers(watch_channel)
      return redis.error_reply('HOLDFAST_SIZE ' .. w.x)
    end
  end
end

local granted = settle(H, Q, W, C, floor, now, live)
announce(channel, granted)
local mine = token_of(granted, owner)
if mine then
  tell_watchers(watch_channel)
  return {mine, raised}
end

local record = {m = mode, p = permits, x = max, ex = expiry, e = now + expiry,
  d = now + wait, s = now, l = tonumber(ARGV[9]), id = ARGV[7], c = ARGV[8]}
if queued then
  local w = cjson.decode(queued)
  w.e = now + expiry -- still polling: keep the place in the queue
  w.d = now + wait
  record = w
elseif redis.call('ZCARD', Q) == 0 and fits(live, mode, permits, max) then
  local token = grant(H, C, floor, now, owner, record, live)
  tell_watchers(watch_channel)
  return {token, raised}
elseif wait <= 0 then
  tell_watchers(watch_channel) -- settle may have cleared expired entries away
  return {0, 0}
else
  redis.call('ZADD', Q, redis.call('INCR', S), owner)
  changed = true
end
redis.call('HSET', W, owner, cjson.encode(record))
for _, key in ipairs({Q, W}) do
  if redis.call('PTTL', key) < expiry + wait then
    redis.call('PEXPIRE', key, expiry + wait)
  end
end
tell_watchers(watch_channel)
return {0, 0}
