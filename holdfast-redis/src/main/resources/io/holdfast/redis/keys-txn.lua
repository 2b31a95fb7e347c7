-- A transaction on keys (Keys.commit; get, put, delete and add are transactions of one op): every
-- compare read, then every op of the branch checked, then applied, in one step.
--
-- ARGV     [1] prefix of Holdfast's keys, [2] this client's session, [3] the session's TTL in ms,
--          [4] the call's write id ('' for a read: nothing to remember), [5] compares, [6] ops
--          of then, [7] ops of else, [8] the most keys attached to one session
--          (Keys.MAX_KEYS_PER_SESSION); then five arguments per compare and per op:
--          V key order(EQUAL|NOT_EQUAL|LESS|GREATER) version . | D key value . . | A key . . . |
--          F lock token . . | H lock session . . | S session . . . |
--          P key value expectedVersion lifetime(0 detach|1 attach|k keep)+ttlMs as 'a:ttl' | X key expectedVersion . . |
--          C key delta(8 bytes, base64) . . | G key . . .   (values in base64; '.' unused)
-- Returns  {1, branch (1 then, 0 else), per op: version, value ('' none), and an add's counter
--          (8 bytes, base64) or a get's owner ('' none)}; {0, branch, op, key, version, expected}: an op's expected version
--          differs; {-2, branch, op, key, value (base64)}: an add that does not count (the value
--          is not 8 bytes, or the sum overflows), which the caller words as Counters.refusal does;
--          {-3, count}: the session would have too many keys. Nothing changed unless the first
--          element is 1.
-- A call sent again with the same write id (a reconnect) is answered as the first time, for 2 min.
sweep()
local S, TTL, WID = ARGV[2], tonumber(ARGV[3]), ARGV[4]
if WID ~= '' then
  local done = redis.call('GET', P .. 'txn:' .. WID)
  if done then return cjson.decode(done) end
end
local NC, NT, NE, LIMIT = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local function arg(i, j) return ARGV[9 + (i - 1) * 5 + j] end

-- The keys as the branch sees them so far: false when absent.
local state = {}
local function get(k)
  if state[k] == nil then
    local f = live(k)
    state[k] = f and {v = tonumber(f[1]), d = f[2] or '', o = f[3], x = f[4]} or false
  end
  return state[k]
end

local function holds(i)
  local kind, a, b = arg(i, 0), arg(i, 1), arg(i, 2)
  if kind == 'V' then
    local e = get(a)
    local v, n = e and e.v or 0, tonumber(arg(i, 3))
    if b == 'EQUAL' then return v == n elseif b == 'NOT_EQUAL' then return v ~= n
    elseif b == 'LESS' then return v < n else return v > n end
  elseif kind == 'D' then
    local e = get(a)
    return e and e.d == b
  elseif kind == 'A' then
    return not get(a)
  elseif kind == 'S' then
    return session_alive(a)
  end
  -- F (this session's grant of lock a with token b) or H (session b holds lock a), live by TIME
  for _, raw in ipairs(redis.call('HVALS', P .. 'lock:' .. a)) do
    local h = cjson.decode(raw)
    if tonumber(h.e) > NOW then
      if kind == 'F' and h.id == S and tonumber(h.t) == tonumber(b) then return true end
      if kind == 'H' and h.id == b then return true end
    end
  end
  return false
end

local ok = true
for i = 1, NC do
  if not holds(i) then ok = false break end
end
local first, count, branch = NC + 1, NT, 1
if not ok then first, count, branch = NC + NT + 1, NE, 0 end

-- Base64 of 8 bytes and back, and their sum as two unsigned 32-bit halves (Lua numbers are doubles).
local B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
local function unb64(s)
  local bits, out = 0, {}
  local n = 0
  for c in s:gmatch('[^=]') do
    bits = bits * 64 + (B64:find(c, 1, true) - 1)
    n = n + 6
    if n >= 8 then
      n = n - 8
      local byte = math.floor(bits / 2 ^ n)
      table.insert(out, byte)
      bits = bits - byte * 2 ^ n
    end
  end
  return out
end
local function b64(bytes)
  local out = {}
  for i = 1, #bytes, 3 do
    local a, b, c = bytes[i], bytes[i + 1] or 0, bytes[i + 2] or 0
    local n = a * 65536 + b * 256 + c
    local chars = 4
    if bytes[i + 1] == nil then chars = 2 elseif bytes[i + 2] == nil then chars = 3 end
    for j = 1, 4 do
      local v = math.floor(n / 2 ^ (6 * (4 - j))) % 64
      table.insert(out, j <= chars and B64:sub(v + 1, v + 1) or '=')
    end
  end
  return table.concat(out)
end
local function halves(bytes)
  return ((bytes[1] * 256 + bytes[2]) * 256 + bytes[3]) * 256 + bytes[4],
    ((bytes[5] * 256 + bytes[6]) * 256 + bytes[7]) * 256 + bytes[8]
end
local function sum(value, delta)
  local ah, al = halves(value)
  local bh, bl = halves(delta)
  local l = al + bl
  local carry = 0
  if l >= 2 ^ 32 then l, carry = l - 2 ^ 32, 1 end
  local h = (ah + bh + carry) % 2 ^ 32
  local neg = function(x) return x >= 2 ^ 31 end
  if neg(ah) == neg(bh) and neg(h) ~= neg(ah) then return nil end
  local out = {}
  for i, half in ipairs({h, l}) do
    for j = 3, 0, -1 do
      out[(i - 1) * 4 + 4 - j] = math.floor(half / 2 ^ (8 * j)) % 256
    end
  end
  return b64(out)
end

-- Checks every op against the state the ops before it leave; plans what each writes.
local plan, results = {}, {1, branch}
local attaching, writes = {}, false
for n = 1, count do
  local i = first + n - 1
  local kind, k = arg(i, 0), arg(i, 1)
  local e = get(k)
  local version = e and e.v or 0
  if kind == 'G' then
    table.insert(results, version)
    table.insert(results, e and e.d or '')
    table.insert(results, e and e.o or '')
  elseif kind == 'P' or kind == 'X' then
    local expected = tonumber(kind == 'P' and arg(i, 3) or arg(i, 2))
    if expected >= 0 and expected ~= version then return {0, branch, n, k, version, expected} end
    writes = true
    if kind == 'P' then
      local attached, ttl = arg(i, 4):match('^([01k]):(%d+)$')
      local owner = attached == '1' and S or nil
      local x = tonumber(ttl) > 0 and tostring(NOW + tonumber(ttl)) or nil
      if attached == 'k' then -- keeps the key's lifetime: its session, its expiry
        owner, x = e and e.o or nil, e and e.x or nil
      end
      if owner then attaching[k] = true end
      state[k] = {v = version + 1, d = arg(i, 2), o = owner, x = x}
      table.insert(results, version + 1)
    else
      state[k] = false
      table.insert(results, version)
    end
    table.insert(results, '')
    table.insert(results, '')
    table.insert(plan, k)
  else -- C: counter add
    local value = e and unb64(e.d) or {0, 0, 0, 0, 0, 0, 0, 0}
    if #value ~= 8 then return {-2, branch, n, k, e.d} end
    local total = sum(value, unb64(arg(i, 2)))
    if not total then return {-2, branch, n, k, e.d} end
    writes = true
    state[k] = {v = version + 1, d = total, o = e and e.o or nil, x = e and e.x or nil}
    table.insert(results, version + 1)
    table.insert(results, '')
    table.insert(results, total)
    table.insert(plan, k)
  end
end

-- The session's attached keys stay within the limit.
if next(attaching) then
  local mine = session_alive(S) and redis.call('SCARD', skeys(S)) or 0
  for k in pairs(attaching) do
    if not (session_alive(S) and redis.call('SISMEMBER', skeys(S), k) == 1) then mine = mine + 1 end
  end
  if mine > LIMIT then return {-3, mine} end
  if not session_alive(S) then
    end_session(S)
    redis.call('ZADD', SESSIONS, NOW + TTL, S)
  end
end

-- Applies each written key's final state (the last op on a key decides it).
local applied = {}
for _, k in ipairs(plan) do
  if not applied[k] then
    applied[k] = true
    local e = state[k]
    if not e then
      if redis.call('EXISTS', hkey(k)) == 1 then drop(k) end
    else
      local old = redis.call('HGET', hkey(k), 'o')
      if old and old ~= e.o then redis.call('SREM', skeys(old), k) end
      if redis.call('HGET', hkey(k), 'v') and not live(k) then drop(k) end
      redis.call('HSET', hkey(k), 'v', tostring(e.v), 'd', e.d, 'w', WID)
      if e.o then
        redis.call('HSET', hkey(k), 'o', e.o)
        redis.call('SADD', skeys(e.o), k)
      else
        redis.call('HDEL', hkey(k), 'o')
      end
      if e.x then
        redis.call('HSET', hkey(k), 'x', e.x)
        redis.call('ZADD', TTLS, tonumber(e.x), k)
      else
        redis.call('HDEL', hkey(k), 'x')
        redis.call('ZREM', TTLS, k)
      end
      redis.call('ZADD', INDEX, 0, k)
      redis.call('PUBLISH', channel(k), '')
    end
  end
end
if writes and WID ~= '' then
  redis.call('SET', P .. 'txn:' .. WID, cjson.encode(results), 'PX', 120000)
end
return results
