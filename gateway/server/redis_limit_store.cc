// The Redis limit store: every admit and settle is one Lua script run atomically by Redis, so
// any number of gateway replicas sharing one Redis enforce one global limit exactly. The scripts
// implement policies::LimitState (policies/limit_state.h, the reference model) step for step.
//
// Key layout, per subject scope S ("key:<id>" or "team:<name>"); the {S} hash tag keeps a
// scope's keys in one Redis Cluster slot:
//   sy:{S}:rpm                 HASH  Unix second -> requests admitted in it; EXPIRE 120 s
//   sy:{S}:tpm                 HASH  Unix second -> tokens of the requests admitted in it
//                                    (worst case at admit, corrected by settle); EXPIRE 120 s
//   sy:{S}:lease               ZSET  request id, scored by its lease's expiry (Unix ms)
//   sy:{S}:reserved            HASH  request id -> "<admit second> <tokens> <micro-USD>"
//                                    (both lease keys: PEXPIRE lease_ttl + 32 days, a backstop)
//   sy:{S}:day:<YYYY-MM-DD>    HASH  spent, reserved (micro-USD); EXPIREAT the day's end + 1 day
//   sy:{S}:month:<YYYY-MM>     HASH  spent, reserved (micro-USD); EXPIREAT the month's end + 1 day
// Time is Redis's own (TIME), so replicas with skewed clocks share one set of buckets and
// periods. Periods are named as LimitState names them (SpendRecord::period).
//
// Both scripts first drop the scopes' expired leases (releasing their reserved cost from the
// day/month they were made in, if still current), as LimitState::normalize does.
// admit: checks every subject in order, per subject rpm, tpm, concurrency, budget_day,
// budget_month (0 = not checked); the first failure is the answer and nothing is counted (tpm
// and budgets first lower the granted output to what fits, as LimitState does). Otherwise, for
// every subject whatever its limits: +1 request and +tokens (at the granted output) in this
// second's buckets, a lease (a reused request id replaces its older lease), +cost to the day's and
// month's reserved. settle: if the request's lease is live, corrects its admit-second token
// bucket to (bucket - reserved, floor 0) + used if that second is still in the window, and drops
// the lease with its reservation; then, lease or not, adds the actual cost to the current day's
// and month's spent. Retry times as in LimitState::check.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "gateway/server/limit_store.h"
#include "gateway/server/redis_client.h"
#include "observability/logging.h"
#include "policies/limit_state.h"

namespace sy::server {
namespace {

// How long a concurrency slot and a reservation outlive a replica that never settles them (a
// crash): the same as the in-process store's.
constexpr std::chrono::milliseconds kLeaseTtl = policies::LimitState::kDefaultLeaseTtl;

// Shared by both scripts: Redis time, UTC periods, windows, leases. Numbers handed to Redis go
// through int(): Lua's default formatting turns large numbers into "1e+15", which HINCRBY
// rejects.
constexpr std::string_view kPrelude = R"lua(
if redis.replicate_commands then redis.replicate_commands() end
local time = redis.call('TIME')
local now = tonumber(time[1])
local now_ms = now * 1000 + math.floor(tonumber(time[2]) / 1000)
local WINDOW = 60
local GRACE = 86400
local LEASE_KEY_TTL_MS = 32 * 86400 * 1000

local function int(x) return string.format('%d', x) end

-- Days since 1970-01-01 <-> proleptic Gregorian date (H. Hinnant's civil calendar algorithms).
local function civil(z)
  z = z + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
                          - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return y, m, d
end
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = m > 2 and m - 3 or m + 9
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

local today = math.floor(now / 86400)
local year, month, mday = civil(today)
local day_key = ':day:' .. string.format('%04d-%02d-%02d', year, month, mday)
local month_key = ':month:' .. string.format('%04d-%02d', year, month)
local day_end = (today + 1) * 86400
local month_end = days_from_civil(month == 12 and year + 1 or year,
                                  month == 12 and 1 or month + 1, 1) * 86400

-- Sliding windows with running totals, so a call costs the same whatever the traffic of the
-- last minute. A window hash holds one field per Unix second that counted something, plus
--   sum   the total of every second field in the hash
--   from  no second field below it is left (those seconds were subtracted and deleted)
--   head  the latest second counted (a clock stepped back below it is handled exactly)
-- Second fields exist only in [from, head] and head - from < WINDOW after every write, so moving
-- the window reads the seconds from `from` to now - WINDOW: each second once over the life of the
-- window (amortised constant), at most WINDOW fields in one HMGET after a quiet spell. A hash
-- without the three fields (none yet, or one written before running totals) is rebuilt from its
-- fields once. window() only reads: a refusal changes nothing; the writes fold the expired
-- seconds away. Read once per script and key: w.total is the window (now - 60, now], w.sum the
-- hash's total after the expired seconds are dropped.
local windows = {}
local function window(key)
  local w = windows[key]
  if w then return w end
  local cut = now - WINDOW  -- seconds <= cut have left the window
  w = {key = key, dead = {}, reset = false}
  local meta = redis.call('HMGET', key, 'sum', 'from', 'head')
  local sum, from, head = tonumber(meta[1]), tonumber(meta[2]), tonumber(meta[3])
  if sum == nil or from == nil or head == nil then
    local flat = redis.call('HGETALL', key)
    w.sum, w.total, w.head = 0, 0, now
    for i = 1, #flat, 2 do
      local name = flat[i]
      local sec, amount = tonumber(name), tonumber(flat[i + 1])
      if name == 'sum' or name == 'from' or name == 'head' then
        -- rewritten by the next write
      elseif sec == nil or amount == nil or sec <= cut then
        w.dead[#w.dead + 1] = name
      else
        w.sum = w.sum + amount
        if sec <= now then w.total = w.total + amount end
        if sec > w.head then w.head = sec end
      end
    end
    w.from = cut + 1
  elseif head <= cut then
    w.reset = true  -- everything left: the next write starts the hash afresh
    w.sum, w.total, w.head, w.from = 0, 0, now, cut + 1
  else
    w.sum, w.head, w.from = sum, math.max(head, now), math.max(from, cut + 1)
    if from <= cut then
      local fields = {}
      for sec = from, cut do fields[#fields + 1] = sec end
      local amounts = redis.call('HMGET', key, unpack(fields))
      for i = 1, #fields do
        local amount = tonumber(amounts[i])
        if amount then
          w.sum = w.sum - amount
          w.dead[#w.dead + 1] = fields[i]
        end
      end
    end
    w.total = w.sum
    if head > now then  -- the clock stepped back: seconds after now are not counted (yet)
      local fields = {}
      for sec = math.max(now + 1, w.from), head do fields[#fields + 1] = sec end
      if #fields > 0 then
        local amounts = redis.call('HMGET', key, unpack(fields))
        for i = 1, #fields do w.total = w.total - (tonumber(amounts[i]) or 0) end
      end
    end
  end
  windows[key] = w
  return w
end

-- Seconds until the oldest buckets holding the excess over `limit` have left the window (only
-- on a refusal: reads the window's seconds in order).
local function window_retry(w, amount, limit)
  local excess, freed = w.total + amount - limit, 0
  if w.reset then return WINDOW end
  local fields = {}
  for sec = w.from, now do fields[#fields + 1] = sec end
  if #fields == 0 then return WINDOW end
  local amounts = redis.call('HMGET', w.key, unpack(fields))
  for i = 1, #fields do
    freed = freed + (tonumber(amounts[i]) or 0)
    if freed >= excess then return math.max(1, fields[i] + WINDOW - now) end
  end
  return WINDOW
end

-- Writes second `sec`'s bucket (`old` -> `value`), folding away the seconds that left the window.
local function write_window(w, sec, old, value)
  local key = w.key
  if w.reset then
    redis.call('DEL', key)
  elseif #w.dead > 0 then
    redis.call('HDEL', key, unpack(w.dead))
  end
  if value > 0 then
    redis.call('HSET', key, int(sec), int(value), 'sum', int(w.sum - old + value),
               'from', int(w.from), 'head', int(w.head))
  else
    redis.call('HDEL', key, int(sec))
    redis.call('HSET', key, 'sum', int(w.sum - old), 'from', int(w.from), 'head', int(w.head))
  end
  redis.call('EXPIRE', key, 2 * WINDOW)
  windows[key] = nil
end

-- Adds `amount` to this second's bucket.
local function add_to_window(key, amount)
  local w = window(key)
  local old = 0
  if not w.reset then old = tonumber(redis.call('HGET', key, int(now))) or 0 end
  write_window(w, now, old, old + amount)
end

local function budget_used(key)
  local v = redis.call('HMGET', key, 'spent', 'reserved')
  return (tonumber(v[1]) or 0) + (tonumber(v[2]) or 0)
end

local function budget_add(key, field, amount, period_end)
  redis.call('HINCRBY', key, field, int(amount))
  redis.call('EXPIREAT', key, int(period_end + GRACE))
end

local function release(key, amount)
  if redis.call('EXISTS', key) == 1 and
     redis.call('HINCRBY', key, 'reserved', int(-amount)) < 0 then
    redis.call('HSET', key, 'reserved', 0)
  end
end

-- Removes lease `rid` of scope `p` and releases its reserved cost from the day and the month it
-- was made in, if they are still current. Returns its admit second and tokens (nil if unknown).
local function drop_lease(p, rid)
  redis.call('ZREM', p .. ':lease', rid)
  local data = redis.call('HGET', p .. ':reserved', rid)
  if not data then return nil end
  redis.call('HDEL', p .. ':reserved', rid)
  local sec, tokens, micro = string.match(data, '^(%d+) (%d+) (%d+)$')
  sec, tokens, micro = tonumber(sec), tonumber(tokens), tonumber(micro)
  if sec == nil then return nil end
  if micro > 0 then
    local day = math.floor(sec / 86400)
    if day == today then release(p .. day_key, micro) end
    local y, m = civil(day)
    if y == year and m == month then release(p .. month_key, micro) end
  end
  return sec, tokens
end

local function expire_leases(p)
  local expired = redis.call('ZRANGEBYSCORE', p .. ':lease', '-inf', int(now_ms))
  for _, rid in ipairs(expired) do drop_lease(p, rid) end
end
)lua";

// KEYS[i] = 'sy:{<scope>}' of subject i.
// ARGV = tokens, micro_usd (>= 0), request_id, lease_ttl_ms, output_tokens, the least output
//        (min(min_output_tokens, output_tokens)), micro_usd_per_output_token, then per
//        subject: rpm, tpm, concurrency, budget_day, budget_month (micro-USD); 0 = not checked.
// Returns {1, granted output} when admitted, else {0, limit, scope, retry_after_seconds}. The
// output lowering is LimitState's (AdmitRequest): tpm and budgets lower the granted output g to
// what fits, and refuse only below the least output.
constexpr std::string_view kAdmit = R"lua(
local tokens = tonumber(ARGV[1])
local micro = tonumber(ARGV[2])
local rid = ARGV[3]
local lease_ttl_ms = tonumber(ARGV[4])
local out = tonumber(ARGV[5])
local least = tonumber(ARGV[6])
local per = tonumber(ARGV[7])
local function limits(i)
  local b = 7 + (i - 1) * 5
  return tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]),
         tonumber(ARGV[b + 4]), tonumber(ARGV[b + 5])
end
-- The reservation at g output tokens.
local function tokens_at(g) return math.max(tokens - (out - g), 0) end
local function micro_at(g) return math.max(micro - math.floor((out - g) * per), 0) end
-- The most output (<= g) whose cost fits `room` micro-USD, or nil.
local function output_within(room, g)
  if micro <= room then return g end
  if per <= 0 then return nil end
  local back = math.ceil((micro - room) / per)
  if back > out then return nil end
  return math.min(g, out - back)
end
local granted = out

for i = 1, #KEYS do expire_leases(KEYS[i]) end

-- Check everything first; nothing below writes until every subject passed.
for i = 1, #KEYS do
  local p = KEYS[i]
  local scope = string.sub(p, 5, -2)
  local rpm, tpm, concurrency, day, mon = limits(i)
  if rpm > 0 then
    local w = window(p .. ':rpm')
    if w.total + 1 > rpm then return {0, 'rpm', scope, window_retry(w, 1, rpm)} end
  end
  if tpm > 0 then
    local smallest = tokens_at(least)
    if smallest > tpm then return {0, 'tpm', scope, WINDOW} end
    local w = window(p .. ':tpm')
    if w.total + smallest > tpm then return {0, 'tpm', scope, window_retry(w, smallest, tpm)} end
    granted = math.min(granted, tpm - w.total - tokens_at(0))
  end
  if concurrency > 0 and redis.call('ZCARD', p .. ':lease') + 1 > concurrency then
    return {0, 'concurrency', scope, 1}
  end
  if day > 0 then
    local fits = output_within(day - budget_used(p .. day_key), granted)
    if fits == nil or fits < least then
      return {0, 'budget_day', scope, math.max(1, day_end - now)}
    end
    granted = fits
  end
  if mon > 0 then
    local fits = output_within(mon - budget_used(p .. month_key), granted)
    if fits == nil or fits < least then
      return {0, 'budget_month', scope, math.max(1, month_end - now)}
    end
    granted = fits
  end
end

tokens = tokens_at(granted)
micro = micro_at(granted)
for i = 1, #KEYS do
  local p = KEYS[i]
  add_to_window(p .. ':rpm', 1)
  if tokens > 0 then add_to_window(p .. ':tpm', tokens) end
  drop_lease(p, rid)  -- a reused id: the newer admission replaces the older
  redis.call('ZADD', p .. ':lease', int(now_ms + lease_ttl_ms), rid)
  redis.call('HSET', p .. ':reserved', rid, int(now) .. ' ' .. int(tokens) .. ' ' .. int(micro))
  redis.call('PEXPIRE', p .. ':lease', int(lease_ttl_ms + LEASE_KEY_TTL_MS))
  redis.call('PEXPIRE', p .. ':reserved', int(lease_ttl_ms + LEASE_KEY_TTL_MS))
  if micro > 0 then
    budget_add(p .. day_key, 'reserved', micro, day_end)
    budget_add(p .. month_key, 'reserved', micro, month_end)
  end
end
return {1, math.floor(granted)}
)lua";

// KEYS as for admit. ARGV = used_tokens, used_micro_usd (>= 0), request_id. Returns 1.
constexpr std::string_view kSettle = R"lua(
local used_tokens = tonumber(ARGV[1])
local used_micro = tonumber(ARGV[2])
local rid = ARGV[3]

for i = 1, #KEYS do
  local p = KEYS[i]
  expire_leases(p)
  local sec, held = drop_lease(p, rid)
  if sec and sec > now - WINDOW then
    local w = window(p .. ':tpm')
    if sec >= w.from then  -- else already folded away (a clock stepped back)
      local old = 0
      if not w.reset then old = tonumber(redis.call('HGET', w.key, int(sec))) or 0 end
      local corrected = math.max(old - held, 0) + used_tokens
      if corrected ~= old then write_window(w, sec, old, corrected) end
    end
  end
  if used_micro > 0 then
    budget_add(p .. day_key, 'spent', used_micro, day_end)
    budget_add(p .. month_key, 'spent', used_micro, month_end)
  end
end
return 1
)lua";

enum Script : size_t { kAdmitScript = 0, kSettleScript = 1 };

// USD -> micro-USD, rounded as LimitState rounds it (a budget under half a micro-USD is none).
int64_t microUsd(double usd) { return usd > 0 ? std::llround(usd * 1e6) : 0; }

Admission admitted(uint64_t output_tokens) {
  Admission admission;
  admission.admitted = true;
  admission.output_tokens = output_tokens;
  return admission;
}

std::string scopeKey(const std::string& scope) { return "sy:{" + scope + "}"; }

class RedisLimitStore final : public LimitStore {
 public:
  explicit RedisLimitStore(redis::Options options) : client_(std::move(options)) {}

  net::awaitable<Result<Admission>> admit(const AdmitRequest& request) override {
    if (request.subjects.empty()) {
      co_return admitted(request.output_tokens);
    }
    std::vector<std::string> keys;
    char per_token[40];  // full precision: the script must lower as LimitState does
    std::snprintf(per_token, sizeof per_token, "%.17g",
                  std::max(request.micro_usd_per_output_token, 0.0));
    std::vector<std::string> args = {
        std::to_string(request.tokens),
        std::to_string(std::max<int64_t>(0, request.micro_usd)),
        request.request_id,
        std::to_string(kLeaseTtl.count()),
        std::to_string(request.output_tokens),
        std::to_string(std::min(request.min_output_tokens, request.output_tokens)),
        per_token};
    for (const LimitSubject& subject : request.subjects) {
      keys.push_back(scopeKey(subject.scope));
      const policies::Limits& limits = subject.limits;
      args.push_back(std::to_string(limits.rpm));
      args.push_back(std::to_string(limits.tpm));
      args.push_back(std::to_string(limits.concurrency));
      args.push_back(std::to_string(microUsd(limits.budget_day_usd)));
      args.push_back(std::to_string(microUsd(limits.budget_month_usd)));
    }
    Result<redis::Reply> reply = co_await client_.evalScript(kAdmitScript, keys, args);
    if (!reply) {
      co_return unavailable(reply.error().message);
    }
    if (reply->type == redis::Reply::Type::Error) {
      co_return unavailable("redis " + client_.address() + ": admit script failed: " + reply->str);
    }
    const auto& e = reply->elements;
    using Type = redis::Reply::Type;
    if (reply->type == Type::Array && e.size() == 2 && e[0].type == Type::Integer &&
        e[0].integer == 1 && e[1].type == Type::Integer && e[1].integer >= 0) {
      co_return admitted(static_cast<uint64_t>(e[1].integer));
    }
    if (reply->type == Type::Array && e.size() == 4 && e[0].type == Type::Integer &&
        e[0].integer == 0 && e[1].type == Type::Bulk && e[2].type == Type::Bulk &&
        e[3].type == Type::Integer) {
      co_return Admission{.admitted = false,
                          .limit = e[1].str,
                          .scope = e[2].str,
                          .retry_after = std::chrono::seconds(std::max<int64_t>(1, e[3].integer))};
    }
    co_return unavailable("redis " + client_.address() + ": unexpected reply to the admit script");
  }

  net::awaitable<void> settle(const AdmitRequest& request, const Usage& used) override {
    if (request.subjects.empty()) {
      co_return;
    }
    std::vector<std::string> keys;
    std::vector<std::string> args = {std::to_string(used.tokens),
                                     std::to_string(std::max<int64_t>(0, used.micro_usd)),
                                     request.request_id};
    for (const LimitSubject& subject : request.subjects) {
      keys.push_back(scopeKey(subject.scope));
    }
    Result<redis::Reply> reply = co_await client_.evalScript(kSettleScript, keys, args);
    std::string failure;
    if (!reply) {
      failure = reply.error().message;
    } else if (reply->type == redis::Reply::Type::Error) {
      failure = "redis " + client_.address() + ": settle script failed: " + reply->str;
    }
    if (!failure.empty()) {
      // The reservation stays until its lease and windows expire; spend is under-recorded.
      log::warn("limit store: settle failed",
                {{"request_id", request.request_id}, {"error", failure}});
    }
  }

 private:
  static std::unexpected<Error> unavailable(std::string message) {
    return makeError(ErrorCode::Unavailable, ErrorSource::Internal,
                     "limit store: " + std::move(message), "limit_store_unavailable");
  }

  redis::Client client_;
};

}  // namespace

Result<std::unique_ptr<LimitStore>> makeRedisLimitStore(const policies::StateConfig& config) {
  Result<redis::Options> options = redis::parseUrl(config.redis_url);
  if (!options) {
    return std::unexpected(std::move(options.error()));
  }
  if (config.redis_timeout <= std::chrono::milliseconds::zero()) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                     "state.redis_timeout: must be positive");
  }
  options->timeout = config.redis_timeout;
  options->scripts = {std::string(kPrelude) + std::string(kAdmit),
                      std::string(kPrelude) + std::string(kSettle)};
  return std::make_unique<RedisLimitStore>(std::move(*options));
}

}  // namespace sy::server
