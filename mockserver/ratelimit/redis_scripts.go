package ratelimit

import "github.com/gomodule/redigo/redis"

// The Redis backend keeps, per scope, one sorted set (the log: member = reservation id,
// score = the millisecond it was admitted at) and one hash (the costs: reservation id →
// tokens it counts, plus ".t" the sum of those tokens, ".g" the generation the scope
// belongs to and ".c" the latest instant the scope has seen). Requests in the minute
// window are the log's cardinality, its tokens are ".t"; the second window is the tail of
// the log. A global hash (meta) holds "o", the clock offset in microseconds, and "g", the
// generation, which Reset increments so that every scope of an older generation counts as
// empty (and is wiped when next touched, or expires). A global sorted set (index) lists the
// scopes admitted to in the last minute, for Snapshot.
//
// Every script reads the clock itself: now = TIME + o, in milliseconds, never earlier than
// the scope's ".c" (or, while the clock is frozen, meta field "f" + o). So every replica decides on the same clock, and an Advance anywhere
// moves it for all. Windows are decided by scores alone; expiry (PEXPIRE, in real time)
// only collects keys whose entries have all left the window, which takes at most 60 s of
// real time as the clock never runs slower than TIME.

// scriptBaseTime defines basetime(f): the base of the shared clock in microseconds, which
// is the frozen time f (meta field "f", set by Freeze) if there is one, else TIME.
const scriptBaseTime = `
local function basetime(f)
  if f then return tonumber(f) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
`

// scriptPrelude is shared by every per-scope script. KEYS[1] is meta, KEYS[2] the index,
// KEYS[3] the scope's log and KEYS[4] its cost hash.
const scriptPrelude = scriptBaseTime + `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local MIN, SEC, CHUNK = 60000, 1000, 512
local meta, index, log, h = KEYS[1], KEYS[2], KEYS[3], KEYS[4]

-- clock returns the shared instant (ms), the offset (us), the generation and whether the
-- clock is frozen.
local function clock()
  local m = redis.call('HMGET', meta, 'o', 'g', 'f')
  local off = tonumber(m[1]) or 0
  return math.floor((basetime(m[3]) + off) / 1000), off, (m[2] or '0'), (m[3] ~= false)
end

-- keep sets the expiry of a key written at the shared clock: real-time expiry is safe
-- only while the clock follows TIME, so a frozen clock keeps its keys until they empty.
local function keep(key, frozen, ttl)
  if frozen then redis.call('PERSIST', key) else redis.call('PEXPIRE', key, ttl) end
end

-- open wipes the scope if it belongs to an older generation, and returns the scope's
-- instant: now, or the latest instant the scope has seen if that is later.
local function open(now, gen)
  local s = redis.call('HMGET', h, '.g', '.c')
  if s[1] ~= gen then
    if s[1] or redis.call('EXISTS', log) == 1 then redis.call('DEL', log, h) end
    return now
  end
  local c = tonumber(s[2]) or 0
  if c > now then return c end
  return now
end

-- sumcosts adds up the costs of the reservation ids in ids.
local function sumcosts(ids)
  local total = 0
  for i = 1, #ids, CHUNK do
    local c = redis.call('HMGET', h, unpack(ids, i, math.min(i + CHUNK - 1, #ids)))
    for k = 1, #c do total = total + (tonumber(c[k]) or 0) end
  end
  return total
end

-- expire drops the entries that have left the minute window (now-60s, now].
local function expire(now)
  local ids = redis.call('ZRANGEBYSCORE', log, '-inf', now - MIN)
  if #ids == 0 then return end
  local freed = sumcosts(ids)
  for i = 1, #ids, CHUNK do
    redis.call('HDEL', h, unpack(ids, i, math.min(i + CHUNK - 1, #ids)))
  end
  redis.call('ZREMRANGEBYSCORE', log, '-inf', now - MIN)
  if redis.call('EXISTS', log) == 0 then
    redis.call('DEL', h)
  else
    redis.call('HINCRBY', h, '.t', 0 - freed) -- never -0, which HINCRBY refuses
  end
end

-- state returns the requests and tokens of the minute window and the times (ms from now)
-- until it holds no request and no token.
local function state(now)
  local req = redis.call('ZCARD', log)
  local tok = tonumber(redis.call('HGET', h, '.t')) or 0
  local rr, rt = 0, 0
  if req > 0 then
    local i = 0
    while i < req do
      local r = redis.call('ZREVRANGE', log, i, i + 31, 'WITHSCORES')
      if #r == 0 then break end
      if i == 0 then rr = tonumber(r[2]) + MIN - now end
      local ids = {}
      for k = 1, #r, 2 do ids[#ids + 1] = r[k] end
      local c = redis.call('HMGET', h, unpack(ids))
      for k = 1, #c do
        if (tonumber(c[k]) or 0) ~= 0 then
          return req, tok, rr, tonumber(r[2 * k]) + MIN - now
        end
      end
      i = i + 32
    end
  end
  return req, tok, rr, rt
end
`

// admitScript decides one request and, if admitted, records it: the whole read, check and
// write is one script, so no other admission can come between them.
//
// ARGV: scope name (for the index), reservation id, estimate, RPM, TPM, per-second rule
// (0/1), burst rule (0/1), burst floor, burst factor, want state (0/1), key TTL (ms).
//
// Reply: {code, now, offset, entry, kind, window, limit, retry, req, tok, resetReq,
// resetTok}: code 1 admitted, 2 admitted by an earlier try with the same id (entry is the
// instant it was recorded at), 0 refused (kind 1 requests, 2 tokens, 3 burst; window and
// retry in ms; retry −1 for never). The last four are the state after the decision when
// asked for.
var admitScript = redis.NewScript(-1, scriptPrelude+`
local id, est = ARGV[2], tonumber(ARGV[3])
local rpm, tpm = tonumber(ARGV[4]), tonumber(ARGV[5])
local persec, burst = ARGV[6] == '1', ARGV[7] == '1'
local bfloor, bfactor = tonumber(ARGV[8]), tonumber(ARGV[9])
local seconds = persec or burst
local ttl = tonumber(ARGV[11])

local function ceildiv(a, b) return math.floor((a + b - 1) / b) end

-- check applies the rules in order: requests per minute, requests per second, tokens
-- per minute, tokens per second, burst.
local function check(w)
  if rpm > 0 then
    if w.req + 1 > rpm then return 1, MIN, rpm end
    local rps = ceildiv(rpm, 60)
    if persec and w.req1 + 1 > rps then return 1, SEC, rps end
  end
  if tpm > 0 then
    if w.tok + est > tpm then return 2, MIN, tpm end
    local tps = ceildiv(tpm, 60)
    if persec and w.req1 > 0 and w.tok1 + est > tps then return 2, SEC, tps end
  end
  if burst then
    local floor = bfloor
    if floor <= 0 then
      if rpm > 0 then floor = ceildiv(rpm, 120) else floor = -1 end
    end
    if floor >= 0 then
      local factor = bfactor
      if factor <= 0 then factor = 2 end
      local allowed = math.max(floor, math.floor(factor * (w.req - w.req1) / 59))
      if w.req1 + 1 > allowed then return 3, SEC, allowed end
    end
  end
  return 0, 0, 0
end

-- entry returns the instant and cost of the entry of rank i (0 = oldest), reading the
-- log in batches.
local cache = {}
local function entry(i)
  local b = math.floor(i / 128)
  local c = cache[b]
  if not c then
    local r = redis.call('ZRANGE', log, b * 128, b * 128 + 127, 'WITHSCORES')
    local ids, sc = {}, {}
    for k = 1, #r, 2 do
      ids[#ids + 1] = r[k]
      sc[#sc + 1] = tonumber(r[k + 1])
    end
    c = {sc = sc, cs = redis.call('HMGET', h, unpack(ids))}
    cache[b] = c
  end
  local k = i - b * 128 + 1
  return c.sc[k], tonumber(c.cs[k]) or 0
end

-- earliest replays the future: the windows change only when an entry leaves one, so it
-- visits those instants in order and returns the first at which the request passes, or
-- -1 if it never will.
local function earliest(w, now)
  if tpm > 0 and est > tpm then return -1 end
  if check(w) == 0 then return now end
  local n = w.req
  local i60, i1 = 0, w.req - w.req1
  while true do
    local t = nil
    if i60 < n then t = entry(i60) + MIN end
    if seconds and i1 < n then
      local s1 = entry(i1) + SEC
      if t == nil or s1 < t then t = s1 end
    end
    if t == nil then return -1 end
    while seconds and i1 < n do
      local ms, c = entry(i1)
      if ms + SEC > t then break end
      w.req1, w.tok1, i1 = w.req1 - 1, w.tok1 - c, i1 + 1
    end
    while i60 < n do
      local ms, c = entry(i60)
      if ms + MIN > t then break end
      w.req, w.tok, i60 = w.req - 1, w.tok - c, i60 + 1
    end
    if check(w) == 0 then return t end
  end
end

local now, off, gen, frozen = clock()
now = open(now, gen)
local res = {1, now, off, now, 0, 0, 0, 0, 0, 0, 0, 0}

local prev = redis.call('ZSCORE', log, id)
if prev and tonumber(prev) > now - MIN then
  res[1], res[4] = 2, tonumber(prev)
else
  expire(now)
  local w = {req = redis.call('ZCARD', log), tok = tonumber(redis.call('HGET', h, '.t')) or 0, req1 = 0, tok1 = 0}
  if seconds and w.req > 0 then
    local ids = redis.call('ZRANGEBYSCORE', log, '(' .. (now - SEC), '+inf')
    w.req1 = #ids
    if persec and tpm > 0 and #ids > 0 then w.tok1 = sumcosts(ids) end
  end
  local kind, window, limit = check(w)
  if kind ~= 0 then
    local t = earliest(w, now)
    local retry = -1
    if t >= 0 then retry = t - now end
    res[1], res[4], res[5], res[6], res[7], res[8] = 0, 0, kind, window, limit, retry
  else
    redis.call('ZADD', log, now, id)
    redis.call('HSET', h, id, est, '.g', gen, '.c', now)
    redis.call('HINCRBY', h, '.t', est)
    keep(log, frozen, ttl)
    keep(h, frozen, ttl)
    redis.call('ZADD', index, now, ARGV[1])
    redis.call('ZREMRANGEBYSCORE', index, '-inf', now - MIN)
    keep(index, frozen, ttl)
  end
end
if ARGV[10] == '1' then
  res[9], res[10], res[11], res[12] = state(now)
end
return res
`)

// settleScript replaces the cost of one reservation while it is still in its window.
// ARGV: reservation id, actual tokens. Reply: {settled (0/1), now, offset}.
var settleScript = redis.NewScript(-1, scriptPrelude+`
local now, off, gen = clock()
now = open(now, gen)
local sc = redis.call('ZSCORE', log, ARGV[1])
if not sc or tonumber(sc) <= now - MIN then return {0, now, off} end
local actual = tonumber(ARGV[2])
local old = tonumber(redis.call('HGET', h, ARGV[1])) or 0
redis.call('HSET', h, ARGV[1], actual, '.c', now)
redis.call('HINCRBY', h, '.t', actual - old)
return {1, now, off}
`)

// stateScript reports one scope. Reply: {now, offset, req, tok, resetReq, resetTok}.
var stateScript = redis.NewScript(-1, scriptPrelude+`
local now, off, gen = clock()
now = open(now, gen)
expire(now)
local req, tok, rr, rt = state(now)
return {now, off, req, tok, rr, rt}
`)

// listScript returns the clock and the scopes admitted to in the last minute.
// KEYS: meta, index. Reply: {now, offset, name...}.
var listScript = redis.NewScript(-1, scriptBaseTime+`
local m = redis.call('HMGET', KEYS[1], 'o', 'f')
local off = tonumber(m[1]) or 0
local now = math.floor((basetime(m[2]) + off) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 60000)
local res = {now, off}
for _, name in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do res[#res + 1] = name end
return res
`)

// clockScript reads the shared clock. KEYS: meta. Reply: {now in us, offset in us}.
var clockScript = redis.NewScript(-1, scriptBaseTime+`
local m = redis.call('HMGET', KEYS[1], 'o', 'f')
local off = tonumber(m[1]) or 0
return {basetime(m[2]) + off, off}
`)

// resetScript starts a new generation and forgets the index. KEYS: meta, index.
var resetScript = redis.NewScript(-1, `
redis.call('HINCRBY', KEYS[1], 'g', 1)
redis.call('DEL', KEYS[2])
return {1}
`)
