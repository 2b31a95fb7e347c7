-- Whether a fencing token is the token of a live holder of the name (Chubby's CheckSequencer).
--
-- KEYS[1]  the name's hash
-- ARGV     token
-- Returns  1 if some live holder has this token, else 0.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local token = tonumber(ARGV[1])
local fields = redis.call('HGETALL', KEYS[1])
for i = 2, #fields, 2 do
  local h = cjson.decode(fields[i])
  if tonumber(h.t) == token and h.e > now then
    return 1
  end
end
return 0
