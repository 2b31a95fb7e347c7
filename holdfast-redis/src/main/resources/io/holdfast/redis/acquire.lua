-- Grants a lock, a shared lock or semaphore permits if they are free for this request, in one step
-- with the fencing token. Expiry is computed from Redis's own clock (TIME), never the client's.
--
-- KEYS[1]  the name's hash: one field per holder (the owner), a JSON record per field
-- KEYS[2]  the global token counter, shared by every name under the prefix
-- ARGV     owner, mode (E exclusive, S shared, P permits), permits, maxPermits, expiryMs,
--          tokenFloor (the highest token the calling client has seen), sessionId, clientName,
--          leaseTimeout (1 if the caller asked for one, else 0)
-- Returns  {token, raised}: token 0 if the request conflicts with a live holder; raised 1 if the
--          counter was below tokenFloor (Redis lost it) and was lifted to it first.
-- Errors   HOLDFAST_SIZE n: a live holder uses the name with n permits, not maxPermits.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local owner, mode = ARGV[1], ARGV[2]
local permits, max, expiry = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])

local fields = redis.call('HGETALL', KEYS[1])
local live = {}
for i = 1, #fields, 2 do
  local h = cjson.decode(fields[i + 1])
  if h.e <= now then
    redis.call('HDEL', KEYS[1], fields[i])
  elseif fields[i] == owner then
    return {h.t, 0} -- an earlier attempt of this owner was granted: the same grant, the same token
  else
    live[#live + 1] = h
  end
end

local used, latest = 0, now + expiry
for _, h in ipairs(live) do
  if h.x ~= max then
    return redis.error_reply('HOLDFAST_SIZE ' .. h.x)
  end
  if mode == 'E' or h.m ~= mode then
    return {0, 0}
  end
  used = used + h.p
  if h.e > latest then
    latest = h.e
  end
end
if mode == 'P' and used + permits > max then
  return {0, 0}
end

local raised = 0
local floor = tonumber(ARGV[6])
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if current < floor then
  redis.call('SET', KEYS[2], ARGV[6])
  raised = 1
end
local token = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], owner, cjson.encode({
  m = mode, p = permits, x = max, t = token, e = now + expiry, s = now,
  l = tonumber(ARGV[9]), id = ARGV[7], c = ARGV[8]
}))
-- The hash lives as long as its longest-lived holder: an abandoned name cleans itself up.
redis.call('PEXPIRE', KEYS[1], latest - now)
return {token, raised}
