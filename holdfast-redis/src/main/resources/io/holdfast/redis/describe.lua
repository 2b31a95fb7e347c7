-- What an operator sees of one name, read only.
--
-- KEYS     H, Q, W (see queue.lua)
-- Returns  {now, holders, waiters}: holders as {session, client, mode, permits, size, token,
--          granted at, expiry, lease timeout 0/1}; waiters in queue order as {session, client,
--          mode, permits, size, arrived at, deadline}. Expired entries are left out.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local holders, waiters = {}, {}
local fields = redis.call('HGETALL', KEYS[1])
for i = 2, #fields, 2 do
  local h = cjson.decode(fields[i])
  if h.e > now then
    holders[#holders + 1] = {h.id, h.c, h.m, h.p, h.x, tonumber(h.t), h.s, h.e, h.l}
  end
end
for _, owner in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local raw = redis.call('HGET', KEYS[3], owner)
  if raw then
    local w = cjson.decode(raw)
    if w.e > now and w.d > now then
      waiters[#waiters + 1] = {w.id, w.c, w.m, w.p, w.x, w.s, w.d}
    end
  end
end
return {now, holders, waiters}
