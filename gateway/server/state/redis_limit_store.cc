// The Redis limit store: every admit and settle is one Lua script run atomically by Redis, so
// any number of gateway replicas sharing one Redis enforce one global limit exactly. The scripts
// implement policies::LimitState (policies/limit_state.h, the reference model) step for step.
//
// Key layout, per subject scope S ("key:<id>" or "team:<name>") of a request with hash tag T
// (AdmitRequest::hash_tag: the team's scope when the key has a team, else the key's; hashTag()),
// prefix P = sy:{S} when S is T, else sy:{T}:S. So every key one script touches is in slot {T}: a
// key's and its team's counters share one Redis Cluster slot (a key's move when its team changes).
//   P:rpm                 HASH  Unix second -> requests admitted in it, plus the running
//                           total: sum, from, head (see window() below); EXPIRE 120 s
//   P:tpm                 HASH  Unix second -> tokens of the requests admitted in it
//                           (worst case at admit, corrected by settle), plus sum, from,
//                           head; EXPIRE 120 s
//   P:lease               ZSET  request id, scored by its lease's expiry (Unix ms)
//   P:reserved            HASH  request id -> "<admit second> <tokens> <micro-USD>"
//                           (both lease keys: PEXPIRE lease_ttl + 32 days, a backstop)
//   P:day:<YYYY-MM-DD>    HASH  spent, reserved (micro-USD); EXPIREAT the day's end + 1 day
//   P:month:<YYYY-MM>     HASH  spent, reserved (micro-USD); EXPIREAT the month's end + 1 day
// A script declares all six keys of each subject (the day and month by the caller's names: see
// below), as Redis Cluster needs to route it during a slot migration: on the migrating node it
// runs only while every declared key is still there, on the importing node (after ASK) only when
// all have arrived, and fails with TRYAGAIN when they are split (the store then fails as `fail`
// says until the migration ends), so it never decides on half-moved counters.
// Time is Redis's own (TIME), so replicas with skewed clocks share one set of buckets and
// periods. Periods are named as LimitState names them (SpendRecord::period); the caller's names
// are used only when its day is Redis's.
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
#include <array>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "gateway/server/state/limit_store.h"
#include "gateway/server/state/redis_client.h"
#include "gateway/server/state/redis_op_metrics.h"
#include "observability/logging.h"
#include "observability/metrics.h"
#include "policies/limit_state.h"

namespace sy::server {
namespace {

// How long a concurrency slot and a reservation outlive a replica that never settles them (a
// crash): the same as the in-process store's.
constexpr std::chrono::milliseconds kLeaseTtl = policies::LimitState::kDefaultLeaseTtl;

// Shared by both scripts: Redis time, UTC periods, windows, leases. Numbers are handed to
// redis.call() as Lua numbers: Redis formats integral ones up to 2^53 as plain digits ("%.17g"
// before 7.0, fpconv since), about ten times cheaper than string.format. Only text built in Lua
// goes through int(): Lua's own tostring turns 1e15 into "1e+15".
constexpr std::string_view kPrelude = R"lua(
if redis.replicate_commands then redis.replicate_commands() end
local time = redis.call('TIME')
local now = tonumber(time[1])
local now_ms = now * 1000 + math.floor(tonumber(time[2]) / 1000)
local WINDOW = 60
local GRACE = 86400
local LEASE_KEY_TTL_MS = 32 * 86400 * 1000

local function int(x) return string.format('%d', x) end

-- KEYS: six per subject (appendScopeKeys: P:rpm first); SUBJECTS[i] is subject i's prefix P.
local SUBJECTS = {}
for i = 1, #KEYS, 6 do SUBJECTS[#SUBJECTS + 1] = string.sub(KEYS[i], 1, -5) end

-- UTC periods of Redis's clock. ARGV[1..5] are the caller's guess from its own clock (day index,
-- day name, month name, first and one-past-last day index of the month), used when the day
-- index agrees; otherwise (a skewed replica around midnight) they are computed here with H.
-- Hinnant's civil calendar algorithms.
local today = math.floor(now / 86400)
local day_key, month_key, month_first, month_last
if tonumber(ARGV[1]) == today then
  day_key, month_key = ':day:' .. ARGV[2], ':month:' .. ARGV[3]
  month_first, month_last = tonumber(ARGV[4]), tonumber(ARGV[5])
else
  local function days_from_civil(y, m, d)
    if m <= 2 then y = y - 1 end
    local era = math.floor(y / 400)
    local yoe = y - era * 400
    local mp = m > 2 and m - 3 or m + 9
    local doy = math.floor((153 * mp + 2) / 5) + d - 1
    local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
    return era * 146097 + doe - 719468
  end
  local z = today + 719468
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
  day_key = ':day:' .. string.format('%04d-%02d-%02d', y, m, d)
  month_key = ':month:' .. string.format('%04d-%02d', y, m)
  month_first = days_from_civil(y, m, 1)
  month_last = days_from_civil(m == 12 and y + 1 or y, m == 12 and 1 or m + 1, 1)
end
local day_end = (today + 1) * 86400
local month_end = month_last * 86400

-- Sliding windows with running totals, so a call costs the same whatever the traffic of the
-- last minute. A window hash holds one field per Unix second that counted something, plus
--   sum   the total of every second field in the hash
--   from  no second field below it is left (those seconds were subtracted and deleted)
--   head  the latest second counted (a clock stepped back below it is handled exactly)
-- Second fields exist only in [from, head], so moving the window reads the seconds from `from`
-- to now - WINDOW: each second once over the life of the window (amortised constant), at most
-- WINDOW fields after a quiet spell. A hash without the three fields (none yet, or one written
-- before running totals) is rebuilt from its fields once. window() only reads (a refusal
-- changes nothing); writes fold the expired seconds away. Read once per script and key, with
-- the bucket of second `sec` (w.old): w.total is the window (now - 60, now], w.sum the hash's
-- total once the expired seconds are dropped.
local windows = {}
local function window(key, sec)
  local w = windows[key]
  if w then return w end
  local cut = now - WINDOW  -- seconds <= cut have left the window
  w = {key = key, dead = {}, reset = false, fresh = false}
  local meta = redis.call('HMGET', key, 'sum', 'from', 'head', sec)
  local sum, from, head = tonumber(meta[1]), tonumber(meta[2]), tonumber(meta[3])
  w.old = tonumber(meta[4]) or 0
  if sum == nil or from == nil or head == nil then
    local flat = redis.call('HGETALL', key)
    w.sum, w.total, w.head, w.fresh = 0, 0, now, true
    for i = 1, #flat, 2 do
      local name = flat[i]
      local s, amount = tonumber(name), tonumber(flat[i + 1])
      if name == 'sum' or name == 'from' or name == 'head' then
        -- rewritten by the next write
      elseif s == nil or amount == nil or s <= cut then
        w.dead[#w.dead + 1] = name
        if s == sec then w.old = 0 end
      else
        w.sum = w.sum + amount
        if s <= now then w.total = w.total + amount end
        if s > w.head then w.head = s end
      end
    end
    w.from = cut + 1
  elseif head <= cut then
    -- everything left: the next write starts the hash afresh
    w.reset, w.fresh, w.old = true, true, 0
    w.sum, w.total, w.head, w.from = 0, 0, now, cut + 1
  else
    w.sum, w.head, w.from = sum, math.max(head, now), math.max(from, cut + 1)
    w.fresh = head < now  -- the first write of this second refreshes the TTL
    if from <= cut then
      local fields = {}
      for s = from, cut do fields[#fields + 1] = s end
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
      for s = math.max(now + 1, w.from), head do fields[#fields + 1] = s end
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
  for s = w.from, now do fields[#fields + 1] = s end
  if #fields == 0 then return WINDOW end
  local amounts = redis.call('HMGET', w.key, unpack(fields))
  for i = 1, #fields do
    freed = freed + (tonumber(amounts[i]) or 0)
    if freed >= excess then return math.max(1, fields[i] + WINDOW - now) end
  end
  return WINDOW
end

-- Sets the bucket of second `sec` (read by window() as w.old) to `value`, folding away the
-- seconds that left the window. The TTL is refreshed by the first write of each second.
local function write_window(w, sec, value)
  local key = w.key
  if w.reset then
    redis.call('DEL', key)
  elseif #w.dead > 0 then
    redis.call('HDEL', key, unpack(w.dead))
  end
  if value > 0 then
    redis.call('HSET', key, sec, value, 'sum', w.sum - w.old + value,
               'from', w.from, 'head', w.head)
  else
    redis.call('HDEL', key, sec)
    redis.call('HSET', key, 'sum', w.sum - w.old, 'from', w.from, 'head', w.head)
  end
  if w.fresh then redis.call('EXPIRE', key, 2 * WINDOW) end
  windows[key] = nil
end

-- Period hashes (spent, reserved), read once per script and kept in step with its writes.
local periods = {}
local function period(key)
  local v = periods[key]
  if v then return v end
  local r = redis.call('HMGET', key, 'spent', 'reserved')
  v = {exists = (r[1] or r[2]) and true or false, spent = tonumber(r[1]) or 0,
       reserved = tonumber(r[2]) or 0}
  periods[key] = v
  return v
end

-- Applies `release` to a period's reserved (floor 0; only if the hash exists), and adds `spend`
-- to its spent and `reserve` to its reserved. The EXPIREAT is set when the hash is created.
local function update_period(key, release, spend, reserve, period_end)
  local v = period(key)
  if not v.exists and spend <= 0 and reserve <= 0 then return end
  if v.exists then v.reserved = math.max(v.reserved - release, 0) end
  v.spent, v.reserved = v.spent + spend, v.reserved + reserve
  redis.call('HSET', key, 'spent', v.spent, 'reserved', v.reserved)
  if not v.exists then redis.call('EXPIREAT', key, period_end + GRACE) end
  v.exists = true
end

-- Releases lease `rid`'s reservation of scope `p` (already out of the lease set) from the day and
-- the month it was made in, if they are still current, adding `spend` to today's and this
-- month's spent at the same time. Returns its admit second and tokens (nil if unknown).
local function release_lease(p, rid, spend)
  local sec, tokens, micro
  local data = redis.call('HGET', p .. ':reserved', rid)
  if data then
    redis.call('HDEL', p .. ':reserved', rid)
    sec, tokens, micro = string.match(data, '^(%d+) (%d+) (%d+)$')
    sec, tokens, micro = tonumber(sec), tonumber(tokens), tonumber(micro)
  end
  local day_release, month_release = 0, 0
  if sec ~= nil and micro > 0 then
    local day = math.floor(sec / 86400)
    if day == today then day_release = micro end
    if day >= month_first and day < month_last then month_release = micro end
  end
  if day_release > 0 or spend > 0 then
    update_period(p .. day_key, day_release, spend, 0, day_end)
  end
  if month_release > 0 or spend > 0 then
    update_period(p .. month_key, month_release, spend, 0, month_end)
  end
  if sec == nil then return nil end
  return sec, tokens
end

local function expire_leases(p)
  local lease = p .. ':lease'
  local expired = redis.call('ZRANGEBYSCORE', lease, '-inf', now_ms)
  if #expired == 0 then return end
  redis.call('ZREM', lease, unpack(expired))
  for _, rid in ipairs(expired) do release_lease(p, rid, 0) end
end
)lua";

// KEYS = subject by subject, its six keys (appendScopeKeys).
// ARGV = the five period arguments (see the prelude), then tokens, micro_usd (>= 0),
//        request_id, lease_ttl_ms, output_tokens, the least output (min(min_output_tokens,
//        output_tokens)), micro_usd_per_output_token, then per subject: rpm, tpm, concurrency,
//        budget_day, budget_month (micro-USD); 0 = not checked.
// Returns {1, granted output} when admitted, else {0, limit, subject index (1-based),
// retry_after_seconds}. The
// output lowering is LimitState's (AdmitRequest): tpm and budgets lower the granted output g to
// what fits, and refuse only below the least output.
constexpr std::string_view kAdmit = R"lua(
local tokens = tonumber(ARGV[6])
local micro = tonumber(ARGV[7])
local rid = ARGV[8]
local lease_ttl_ms = tonumber(ARGV[9])
local out = tonumber(ARGV[10])
local least = tonumber(ARGV[11])
local per = tonumber(ARGV[12])
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
local function budget_used(key)
  local v = period(key)
  return v.spent + v.reserved
end
local granted = out

for i = 1, #SUBJECTS do expire_leases(SUBJECTS[i]) end

-- Check everything first; nothing below writes until every subject passed.
for i = 1, #SUBJECTS do
  local p = SUBJECTS[i]
  local b = 12 + (i - 1) * 5
  local rpm, tpm, concurrency = tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])
  local day, mon = tonumber(ARGV[b + 4]), tonumber(ARGV[b + 5])
  if rpm > 0 then
    local w = window(p .. ':rpm', now)
    if w.total + 1 > rpm then
      return {0, 'rpm', i, window_retry(w, 1, rpm)}
    end
  end
  if tpm > 0 then
    local smallest = tokens_at(least)
    if smallest > tpm then return {0, 'tpm', i, WINDOW} end
    local w = window(p .. ':tpm', now)
    if w.total + smallest > tpm then
      return {0, 'tpm', i, window_retry(w, smallest, tpm)}
    end
    granted = math.min(granted, tpm - w.total - tokens_at(0))
  end
  if concurrency > 0 and redis.call('ZCARD', p .. ':lease') + 1 > concurrency then
    return {0, 'concurrency', i, 1}
  end
  if day > 0 then
    local fits = output_within(day - budget_used(p .. day_key), granted)
    if fits == nil or fits < least then
      return {0, 'budget_day', i, math.max(1, day_end - now)}
    end
    granted = fits
  end
  if mon > 0 then
    local fits = output_within(mon - budget_used(p .. month_key), granted)
    if fits == nil or fits < least then
      return {0, 'budget_month', i, math.max(1, month_end - now)}
    end
    granted = fits
  end
end

tokens = tokens_at(granted)
micro = micro_at(granted)
for i = 1, #SUBJECTS do
  local p = SUBJECTS[i]
  local w = window(p .. ':rpm', now)
  write_window(w, now, w.old + 1)
  if tokens > 0 then
    w = window(p .. ':tpm', now)
    write_window(w, now, w.old + tokens)
  end
  local lease, reserved = p .. ':lease', p .. ':reserved'
  if redis.call('ZADD', lease, now_ms + lease_ttl_ms, rid) == 0 then
    release_lease(p, rid, 0)  -- a reused id: the newer admission replaces the older
  end
  redis.call('HSET', reserved, rid, time[1] .. ' ' .. int(tokens) .. ' ' .. int(micro))
  redis.call('PEXPIRE', lease, lease_ttl_ms + LEASE_KEY_TTL_MS)
  redis.call('PEXPIRE', reserved, lease_ttl_ms + LEASE_KEY_TTL_MS)
  if micro > 0 then
    update_period(p .. day_key, 0, 0, micro, day_end)
    update_period(p .. month_key, 0, 0, micro, month_end)
  end
end
return {1, math.floor(granted)}
)lua";

// KEYS as for admit. ARGV = the five period arguments, then used_tokens, used_micro_usd (>= 0),
// request_id. Returns 1.
constexpr std::string_view kSettle = R"lua(
local used_tokens = tonumber(ARGV[6])
local used_micro = tonumber(ARGV[7])
local rid = ARGV[8]

for i = 1, #SUBJECTS do
  local p = SUBJECTS[i]
  expire_leases(p)
  redis.call('ZREM', p .. ':lease', rid)
  -- An expired (already released) or unknown lease: only the spend is recorded.
  local sec, held = release_lease(p, rid, used_micro)
  if sec and sec > now - WINDOW then
    local w = window(p .. ':tpm', sec)
    if sec >= w.from then  -- else already folded away (a clock stepped back)
      local corrected = math.max(w.old - held, 0) + used_tokens
      if corrected ~= w.old then write_window(w, sec, corrected) end
    end
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

// The hash tag of a request's keys: AdmitRequest::hash_tag, else its team subject's scope, else
// its first subject's.
const std::string& hashTag(const AdmitRequest& request) {
  if (!request.hash_tag.empty()) {
    return request.hash_tag;
  }
  for (const LimitSubject& subject : request.subjects) {
    if (subject.scope.starts_with("team:")) {
      return subject.scope;
    }
  }
  return request.subjects.front().scope;
}

// The key prefix P of `scope`'s counters (see the layout above).
std::string scopeKey(const std::string& tag, const std::string& scope) {
  return scope == tag ? "sy:{" + scope + "}" : "sy:{" + tag + "}:" + scope;
}

// Appends the six keys of `scope` that a script declares, in the order the prelude reads them.
void appendScopeKeys(std::vector<std::string>& keys, const std::string& tag,
                     const std::string& scope, const std::array<std::string, 5>& period) {
  const std::string prefix = scopeKey(tag, scope);
  keys.push_back(prefix + ":rpm");
  keys.push_back(prefix + ":tpm");
  keys.push_back(prefix + ":lease");
  keys.push_back(prefix + ":reserved");
  keys.push_back(prefix + ":day:" + period[1]);
  keys.push_back(prefix + ":month:" + period[2]);
}

// The scripts' first five arguments: the UTC day and month of this replica's clock (see the
// prelude). Cached per thread, recomputed when the day changes.
const std::array<std::string, 5>& periodArgs() {
  using namespace std::chrono;
  thread_local sys_days cached_day{};
  thread_local std::array<std::string, 5> args;
  const auto clock = system_clock::now();
  const sys_days day = floor<days>(clock);
  if (day != cached_day || args[0].empty()) {
    const year_month_day ymd{day};
    const sys_days first{ymd.year() / ymd.month() / 1};
    const sys_days last{(ymd.year() / ymd.month() / 1) + months{1}};
    args = {std::to_string(day.time_since_epoch().count()),
            policies::LimitState::dayPeriod(clock), policies::LimitState::monthPeriod(clock),
            std::to_string(first.time_since_epoch().count()),
            std::to_string(last.time_since_epoch().count())};
    cached_day = day;
  }
  return args;
}

class RedisLimitStore final : public LimitStore {
 public:
  RedisLimitStore(redis::Options options, observability::GatewayMetrics* metrics)
      : client_(std::move(options)),
        ops_{RedisOpMetrics::make(metrics, "admit"), RedisOpMetrics::make(metrics, "settle")} {}

  net::awaitable<Result<Admission>> admit(const AdmitRequest& request) override {
    if (request.subjects.empty()) {
      co_return admitted(request.output_tokens);
    }
    std::vector<std::string> keys;
    keys.reserve(6 * request.subjects.size());
    char per_token[40];  // full precision: the script must lower as LimitState does
    std::snprintf(per_token, sizeof per_token, "%.17g",
                  std::max(request.micro_usd_per_output_token, 0.0));
    const std::array<std::string, 5>& period = periodArgs();
    std::vector<std::string> args = {
        period[0], period[1], period[2], period[3], period[4],
        std::to_string(request.tokens),
        std::to_string(std::max<int64_t>(0, request.micro_usd)),
        request.request_id,
        std::to_string(kLeaseTtl.count()),
        std::to_string(request.output_tokens),
        std::to_string(std::min(request.min_output_tokens, request.output_tokens)),
        per_token};
    for (const LimitSubject& subject : request.subjects) {
      appendScopeKeys(keys, hashTag(request), subject.scope, period);
      const policies::Limits& limits = subject.limits;
      args.push_back(std::to_string(limits.rpm));
      args.push_back(std::to_string(limits.tpm));
      args.push_back(std::to_string(limits.concurrency));
      args.push_back(std::to_string(microUsd(limits.budget_day_usd)));
      args.push_back(std::to_string(microUsd(limits.budget_month_usd)));
    }
    Result<redis::Reply> reply = co_await call(kAdmitScript, keys, args);
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
        e[0].integer == 0 && e[1].type == Type::Bulk && e[2].type == Type::Integer &&
        e[2].integer >= 1 && static_cast<size_t>(e[2].integer) <= request.subjects.size() &&
        e[3].type == Type::Integer) {
      co_return Admission{.admitted = false,
                          .limit = e[1].str,
                          .scope = request.subjects[e[2].integer - 1].scope,
                          .retry_after = std::chrono::seconds(std::max<int64_t>(1, e[3].integer))};
    }
    RedisOpMetrics::count(ops_[kAdmitScript].reply);
    co_return unavailable("redis " + client_.address() + ": unexpected reply to the admit script");
  }

  net::awaitable<void> settle(const AdmitRequest& request, const Usage& used) override {
    if (request.subjects.empty()) {
      co_return;
    }
    std::vector<std::string> keys;
    const std::array<std::string, 5>& period = periodArgs();
    std::vector<std::string> args = {period[0], period[1], period[2], period[3], period[4],
                                     std::to_string(used.tokens),
                                     std::to_string(std::max<int64_t>(0, used.micro_usd)),
                                     request.request_id};
    for (const LimitSubject& subject : request.subjects) {
      appendScopeKeys(keys, hashTag(request), subject.scope, period);
    }
    Result<redis::Reply> reply = co_await call(kSettleScript, keys, args);
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
  // One script call, timed and counted.
  net::awaitable<Result<redis::Reply>> call(Script op, const std::vector<std::string>& keys,
                                            const std::vector<std::string>& args) {
    const auto start = std::chrono::steady_clock::now();
    Result<redis::Reply> reply = co_await client_.evalScript(op, keys, args);
    ops_[op].record(reply, start);
    co_return reply;
  }

  static std::unexpected<Error> unavailable(std::string message) {
    return makeError(ErrorCode::Unavailable, ErrorSource::Internal,
                     "limit store: " + std::move(message), "limit_store_unavailable");
  }

  redis::Client client_;
  std::array<RedisOpMetrics, 2> ops_;
};

}  // namespace

std::vector<std::string> redisLimitScripts() {
  return {std::string(kPrelude) + std::string(kAdmit),
          std::string(kPrelude) + std::string(kSettle)};
}

Result<std::unique_ptr<LimitStore>> makeRedisLimitStore(const policies::StateConfig& config,
                                                        observability::GatewayMetrics* metrics) {
  Result<redis::Options> options = redis::parseUrl(config.redis_url);
  if (!options) {
    return std::unexpected(std::move(options.error()));
  }
  if (config.redis_timeout <= std::chrono::milliseconds::zero()) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                     "state.redis_timeout: must be positive");
  }
  options->timeout = config.redis_timeout;
  if (config.redis_sync > std::chrono::milliseconds::zero()) {
    return makeSyncedRedisLimitStore(std::move(*options), config.redis_sync, metrics);
  }
  options->scripts = redisLimitScripts();
  return std::make_unique<RedisLimitStore>(std::move(*options), metrics);
}

}  // namespace sy::server
