-- One page of the live keys under a prefix, in byte order (Keys.list).
--
-- ARGV     prefix of Holdfast's keys, the listed prefix, after ('' for the first page), limit
-- Returns  {more (0/1), key, version, value (base64), owner ('' when none), key, ...}
sweep()
local prefix, after, limit = ARGV[2], ARGV[3], tonumber(ARGV[4])
-- Lua compares strings by the server's locale: compare the bytes.
local function before(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = a:byte(i), b:byte(i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
local min = '[' .. prefix
if after ~= '' and not before(after, prefix) then min = '(' .. after end
local max = '[' .. prefix .. '\255'
local out, found = {0}, 0
while true do
  local names = redis.call('ZRANGEBYLEX', INDEX, min, max, 'LIMIT', 0, 256)
  for _, k in ipairs(names) do
    local f = live(k)
    if f then
      if found == limit then
        out[1] = 1
        return out
      end
      found = found + 1
      table.insert(out, k)
      table.insert(out, tonumber(f[1]))
      table.insert(out, f[2] or '')
      table.insert(out, f[3] or '')
    end
    min = '(' .. k
  end
  if #names < 256 then return out end
end
