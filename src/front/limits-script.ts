/**
 * The Lua scripts the inbound limits run in Redis (redis-limits.ts), kept apart so the TypeScript
 * reads as TypeScript. Every script reads the clock with Redis's own TIME, so the instances'
 * clocks never matter, and runs atomically: no other admission sees a half-taken request.
 *
 * ADMIT  one admission: every window and bucket of the request's scopes is checked first and
 *        taken from only if all allow (the in-process semantics of limit-scope.ts, exactly).
 *
 *   KEYS   each limit's key(s), in the order of ARGV's limits
 *   ARGV   [1] tokens the request needs (its estimate; a bucket takes at most its capacity)
 *          then 3 per limit: kind, capacity, window or refill period in ms
 *            w  exact sliding window  1 key: a list of admission times (ms), oldest first
 *            g  coarse sliding window 2 keys: a list of "first last count" entries, oldest first,
 *                                     admissions less than window/4096 apart sharing one (as in
 *                                     sliding-window.ts), and the units they hold
 *            b  token bucket          1 key: a hash {l: level, t: time of the last change}
 *   reply  {admitted 1|0, then 3 per limit: remaining, wait ms (> 0: this limit refused), reset ms}
 *
 * ADJUST one bucket corrected after the answer: KEYS[1] the bucket, ARGV capacity, period ms, n
 *        (n > 0 gives back, n < 0 takes more, never above capacity; a debt is kept).
 *
 * PRESENCE this instance is alive: KEYS[1] a sorted set of instances by their last beat,
 *        ARGV member, ms after which a silent instance is gone; replies how many are alive.
 *
 * Every key written gets a TTL after which it would be empty or full anyway, so idle scopes vanish.
 * Numbers are stored with %.3f: a µs-precise ms from the epoch needs 16 digits, which tostring loses.
 */

const CLOCK = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local function num(x) return string.format('%.3f', x) end
`;

const BUCKET = `
local function bucket(key, cap, per, now)
  local s = redis.call('HMGET', key, 'l', 't')
  local level, last = tonumber(s[1]), tonumber(s[2])
  if level == nil or last == nil then return cap end
  local dt = now - last
  if dt > 0 and level < cap then
    level = level + dt * cap / per
    if level > cap then level = cap end
  end
  return level
end
local function store(key, cap, per, level, now)
  redis.call('HSET', key, 'l', num(level), 't', num(now))
  redis.call('PEXPIRE', key, math.ceil((cap - level) * per / cap) + 1000)
end
`;

/** The admission script (see the module comment for its KEYS, ARGV and reply). */
export const ADMIT_SCRIPT = `${CLOCK}${BUCKET}
local need = tonumber(ARGV[1])
local limits = (#ARGV - 1) / 3
local kinds, caps, pers, firstKey, held, waits = {}, {}, {}, {}, {}, {}
local refused = false
local k = 1
for i = 1, limits do
  local kind, cap, per = ARGV[i * 3 - 1], tonumber(ARGV[i * 3]), tonumber(ARGV[i * 3 + 1])
  kinds[i], caps[i], pers[i], firstKey[i] = kind, cap, per, k
  local key = KEYS[k]
  local wait = 0
  if kind == 'w' then
    k = k + 1
    while true do
      local head = redis.call('LINDEX', key, 0)
      if not head or tonumber(head) + per > now then break end
      redis.call('LPOP', key)
    end
    held[i] = redis.call('LLEN', key)
    if held[i] >= cap then wait = tonumber(redis.call('LINDEX', key, 0)) + per - now end
  elseif kind == 'g' then
    k = k + 2
    local units = tonumber(redis.call('GET', KEYS[k - 1]) or '0')
    while true do
      local head = redis.call('LINDEX', key, 0)
      if not head then units = 0 break end
      local _, last, count = string.match(head, '^(%S+) (%S+) (%S+)$')
      if tonumber(last) + per > now then break end
      units = units - tonumber(count)
      redis.call('LPOP', key)
    end
    held[i] = units
    if units >= cap then
      local _, last = string.match(redis.call('LINDEX', key, 0), '^(%S+) (%S+)')
      wait = tonumber(last) + per - now
    end
  else
    k = k + 1
    held[i] = bucket(key, cap, per, now)
    local take = math.min(need, cap)
    if take > 0 and held[i] < take then wait = (take - held[i]) * per / cap end
  end
  if wait > 0 then
    refused = true
    waits[i] = math.max(1, math.ceil(wait))
  else
    waits[i] = 0
  end
end
local out = {refused and 0 or 1}
for i = 1, limits do
  local kind, cap, per, key = kinds[i], caps[i], pers[i], KEYS[firstKey[i]]
  local remaining, reset = 0, 0
  if kind == 'b' then
    local level = held[i]
    if not refused and need > 0 then
      level = level - math.min(need, cap)
      store(key, cap, per, level, now)
    end
    remaining = math.floor(level)
    reset = math.ceil((cap - level) * per / cap)
  else
    local units = held[i]
    if not refused then
      units = units + 1
      if kind == 'w' then
        redis.call('RPUSH', key, num(now))
      else
        local grain = per / 4096
        local n = redis.call('LLEN', key)
        local tail = n > 0 and redis.call('LINDEX', key, -1) or nil
        local first, count
        if tail then
          local f, _, c = string.match(tail, '^(%S+) (%S+) (%S+)$')
          first, count = tonumber(f), tonumber(c)
        end
        if first ~= nil and (now - first < grain or n >= 4098) then
          redis.call('LSET', key, -1, num(first) .. ' ' .. num(now) .. ' ' .. (count + 1))
        else
          redis.call('RPUSH', key, num(now) .. ' ' .. num(now) .. ' 1')
        end
        redis.call('SET', KEYS[firstKey[i] + 1], units, 'PX', math.ceil(per) + 1000)
      end
      redis.call('PEXPIRE', key, math.ceil(per) + 1000)
    end
    remaining = cap - units
    if remaining < 0 then remaining = 0 end
    if units > 0 then
      local tail = redis.call('LINDEX', key, -1)
      local last = kind == 'w' and tonumber(tail) or tonumber(string.match(tail, '^%S+ (%S+)'))
      reset = math.ceil(last + per - now)
    end
  end
  out[#out + 1] = remaining
  out[#out + 1] = waits[i]
  out[#out + 1] = reset
end
return out
`;

/** The correction of one bucket after the answer (see the module comment). */
export const ADJUST_SCRIPT = `${CLOCK}${BUCKET}
local cap, per, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local level = bucket(KEYS[1], cap, per, now) + n
if level > cap then level = cap end
if level >= cap then
  redis.call('DEL', KEYS[1])
else
  store(KEYS[1], cap, per, level, now)
end
return 1
`;

/** The heartbeat of one instance (see the module comment). */
export const PRESENCE_SCRIPT = `${CLOCK}
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('ZCARD', KEYS[1])
`;
