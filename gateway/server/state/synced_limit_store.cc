// The Redis limit store in sync mode (`state.redis.sync`): each replica decides on its own
// policies::LimitState, as the SQLite store does (reserve at admit, settle after, exact within
// the replica), and every `interval` exchanges its per-scope totals with Redis, so a request
// costs no round trip.
//
// What a replica knows of the others, per scope, as of its last sync: their requests and tokens
// of the last minute, their live concurrency leases, their spend + reservations of the current
// UTC day and month. admit() lowers each subject's limits by those figures and asks the local
// LimitState. Between two syncs every replica may admit up to what was left at the last one, so
// across R replicas a limit is overshot by at most (R - 1) x what one replica admits in one
// interval (requests, tokens, slots or reserved USD), and never by more than (R - 1) x the limit.
//
// Key layout, per scope S; one hash tag, so every call touches one Redis Cluster slot:
//   sy:{S}:sync             HASH replica -> "<requests> <tokens> <leases> <Redis time, ms>"; an
//                                entry not refreshed for 60 s is dropped, so a crashed replica's
//                                slots are free after a minute; PEXPIRE 120 s
//   sy:{S}:sync:day:<D>     HASH replica -> micro-USD spent + reserved on UTC day D (by the
//                                replica's clock); EXPIREAT the day's end + 1 day
//   sy:{S}:sync:month:<M>   HASH replica -> the same for UTC month M; EXPIREAT its end + 1 day
// A replica id is random per process: a restarted replica's earlier spend stays counted, as
// another replica's.
//
// Freshness: a scope whose remote figures are older than 3 intervals + the Redis timeout (or of
// another day) is synced inline by the admit that needs it, one round trip; if that fails,
// admit() is an Error and the caller applies fail open/closed. So a new scope is never decided
// blind, and a Redis outage becomes errors within that bound. Settles are local; their spend
// reaches Redis with the next sync (and flush() at shutdown).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/server/state/limit_store.h"
#include "gateway/server/state/redis_client.h"
#include "gateway/server/state/redis_op_metrics.h"
#include "observability/logging.h"
#include "policies/limit_state.h"

namespace sy::server {
namespace {

using std::chrono::steady_clock;
using std::chrono::system_clock;

// Scopes not admitted for this long leave the sync set (their windows are empty by then; their
// spend was synced); the next admit syncs them inline again.
constexpr std::chrono::seconds kIdleScope{120};

// KEYS = the scope's live hash, day hash, month hash. ARGV = replica id, requests, tokens,
// leases, day micro-USD, month micro-USD, the day's end and the month's end (Unix seconds).
// Writes this replica's figures and returns the others' sums {requests, tokens, leases, day,
// month}, dropping live entries not refreshed for 60 s.
constexpr std::string_view kSyncScript = R"lua(
local time = redis.call('TIME')
local now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local me = ARGV[1]
redis.call('HSET', KEYS[1], me, ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. ARGV[4] .. ' ' .. now_ms)
redis.call('PEXPIRE', KEYS[1], 120000)
local requests, tokens, leases, stale = 0, 0, 0, {}
local live = redis.call('HGETALL', KEYS[1])
for i = 1, #live, 2 do
  if live[i] ~= me then
    local r, t, l, at = string.match(live[i + 1], '^(%d+) (%d+) (%d+) (%d+)$')
    if at and tonumber(at) >= now_ms - 60000 then
      requests, tokens, leases = requests + tonumber(r), tokens + tonumber(t), leases + tonumber(l)
    else
      stale[#stale + 1] = live[i]
    end
  end
end
if #stale > 0 then redis.call('HDEL', KEYS[1], unpack(stale)) end
local function spend(key, mine, period_end)
  if tonumber(mine) > 0 then
    redis.call('HSET', key, me, mine)
    redis.call('EXPIREAT', key, tonumber(period_end) + 86400)
  end
  local total, all = 0, redis.call('HGETALL', key)
  for i = 1, #all, 2 do
    if all[i] ~= me then total = total + (tonumber(all[i + 1]) or 0) end
  end
  return total
end
return {requests, tokens, leases, spend(KEYS[2], ARGV[5], ARGV[7]), spend(KEYS[3], ARGV[6], ARGV[8])}
)lua";

// The other replicas' figures of one scope, as of `synced`.
struct Remote {
  uint64_t requests = 0;
  uint64_t tokens = 0;
  uint64_t leases = 0;
  int64_t day_micro_usd = 0;
  int64_t month_micro_usd = 0;
  int64_t day = INT64_MIN;  // the UTC day they are of (days since the epoch)
  steady_clock::time_point synced{};
  steady_clock::time_point used{};  // last admit of the scope
};

std::string randomReplicaId() {
  std::random_device device;
  std::uniform_int_distribution<uint64_t> bits;
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(bits(device)));
  return out;
}

int64_t microUsd(double usd) { return usd > 0 ? std::llround(usd * 1e6) : 0; }

int64_t unixSeconds(system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// The end of the UTC day and month of `now`, in Unix seconds.
std::pair<int64_t, int64_t> periodEnds(system_clock::time_point now) {
  using namespace std::chrono;
  const sys_days day = floor<days>(now);
  const year_month_day ymd{day};
  const sys_days next_month{(ymd.year() / ymd.month() / 1) + months{1}};
  return {unixSeconds(day + days{1}), unixSeconds(next_month)};
}

Admission refused(std::string limit, const std::string& scope, int64_t retry_seconds) {
  return Admission{.admitted = false,
                   .limit = std::move(limit),
                   .scope = scope,
                   .retry_after = std::chrono::seconds(std::max<int64_t>(1, retry_seconds))};
}

// Lowers `subject`'s limits by what the other replicas use; a refusal when they use it all.
std::optional<Admission> lowerByRemote(LimitSubject& subject, const Remote& remote,
                                       system_clock::time_point now) {
  policies::Limits& limits = subject.limits;
  auto lower = [](auto& limit, uint64_t others) {
    if (limit == 0) {
      return true;  // not checked
    }
    if (others >= limit) {
      return false;
    }
    limit -= static_cast<std::remove_reference_t<decltype(limit)>>(others);
    return true;
  };
  // Window counts of the others decay as their minute moves: a retry after a second may pass.
  if (!lower(limits.rpm, remote.requests)) {
    return refused("rpm", subject.scope, 1);
  }
  if (!lower(limits.tpm, remote.tokens)) {
    return refused("tpm", subject.scope, 1);
  }
  if (!lower(limits.concurrency, remote.leases)) {
    return refused("concurrency", subject.scope, 1);
  }
  const auto [day_end, month_end] = periodEnds(now);
  auto lowerBudget = [](double& usd, int64_t others) {
    const int64_t budget = microUsd(usd);
    if (budget == 0) {
      return true;
    }
    if (others >= budget) {
      return false;
    }
    usd = static_cast<double>(budget - others) / 1e6;
    return true;
  };
  if (!lowerBudget(limits.budget_day_usd, remote.day_micro_usd)) {
    return refused("budget_day", subject.scope, day_end - unixSeconds(now));
  }
  if (!lowerBudget(limits.budget_month_usd, remote.month_micro_usd)) {
    return refused("budget_month", subject.scope, month_end - unixSeconds(now));
  }
  return std::nullopt;
}

class SyncedRedisLimitStore final : public LimitStore {
 public:
  SyncedRedisLimitStore(redis::Options options, std::chrono::milliseconds interval,
                        observability::GatewayMetrics* metrics)
      : interval_(interval),
        stale_after_(3 * interval + options.timeout),
        timeout_(options.timeout),
        replica_(randomReplicaId()),
        client_(std::move(options)),
        sync_metrics_(RedisOpMetrics::make(metrics, "sync")) {
    net::co_spawn(sync_io_, syncLoop(), net::detached);
    sync_thread_ = std::thread([this] { sync_io_.run(); });
  }

  ~SyncedRedisLimitStore() override {
    net::post(sync_io_, [this] {
      stopping_ = true;
      timer_.cancel();
    });
    sync_thread_.join();
  }

  // sy::server::LimitStore
  net::awaitable<Result<Admission>> admit(const AdmitRequest& request) override {
    for (const LimitSubject& subject : request.subjects) {
      if (!fresh(subject.scope)) {
        if (Status synced = co_await syncScope(subject.scope); !synced) {
          co_return std::unexpected(std::move(synced.error()));
        }
      }
    }
    const auto now = system_clock::now();
    const auto steady_now = steady_clock::now();
    AdmitRequest local = request;
    std::lock_guard lock(mu_);
    for (LimitSubject& subject : local.subjects) {
      if (!freshLocked(subject.scope, now)) {  // went stale while this admit waited
        co_return unavailable("redis " + client_.address() + ": figures of " + subject.scope +
                              " are stale");
      }
      Remote& remote = remotes_.find(subject.scope)->second;
      remote.used = steady_now;
      if (auto refusal = lowerByRemote(subject, remote, now)) {
        co_return *refusal;
      }
    }
    co_return state_.admit(local, now);
  }

  net::awaitable<void> settle(const AdmitRequest& request, const Usage& used) override {
    const auto now = system_clock::now();
    std::lock_guard lock(mu_);
    state_.settle(request, used, now);
    co_return;
  }

  // A last sync of every scope, so this replica's final spend reaches Redis. Waits for it at
  // most twice the Redis timeout.
  void flush() override {
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> finished = done->get_future();
    net::co_spawn(sync_io_, syncAll(), [done](std::exception_ptr) { done->set_value(); });
    finished.wait_for(2 * timeout_ + std::chrono::milliseconds(100));
  }

 private:
  static int64_t dayIndex(system_clock::time_point now) {
    return std::chrono::floor<std::chrono::days>(now).time_since_epoch().count();
  }

  // Whether the remote figures of `scope` may decide an admit. Caller holds mu_.
  bool freshLocked(const std::string& scope, system_clock::time_point now) const {
    auto it = remotes_.find(scope);
    return it != remotes_.end() && it->second.day == dayIndex(now) &&
           steady_clock::now() - it->second.synced < stale_after_;
  }

  bool fresh(const std::string& scope) {
    std::lock_guard lock(mu_);
    return freshLocked(scope, system_clock::now());
  }

  net::awaitable<void> syncLoop() {
    while (!stopping_) {
      timer_.expires_after(interval_);
      co_await timer_.async_wait(kTuple);
      if (!stopping_) {
        co_await syncAll();
      }
    }
    sync_io_.stop();  // the client's connection reader would keep run() going
  }

  // Syncs every scope admitted within kIdleScope, all scripts in flight at once (pipelined on
  // this context's connection); forgets the others.
  net::awaitable<void> syncAll() {
    std::vector<std::string> scopes;
    {
      std::lock_guard lock(mu_);
      const auto now = steady_clock::now();
      std::erase_if(remotes_, [&](const auto& entry) { return now - entry.second.used > kIdleScope; });
      for (const auto& [scope, remote] : remotes_) {
        scopes.push_back(scope);
      }
    }
    if (scopes.empty()) {
      co_return;
    }
    size_t pending = scopes.size();
    net::steady_timer all_done(sync_io_, steady_clock::time_point::max());
    size_t failed = 0;
    for (std::string& scope : scopes) {
      net::co_spawn(
          sync_io_,
          [this, scope = std::move(scope), &pending, &failed, &all_done]() -> net::awaitable<void> {
            if (!co_await syncScope(scope)) {
              ++failed;
            }
            if (--pending == 0) {
              all_done.cancel();
            }
          },
          net::detached);
    }
    if (pending > 0) {  // a call may complete inline (co_spawn dispatches; a failing connect)
      co_await all_done.async_wait(kTuple);
    }
    if ((failed > 0) != failing_) {
      failing_ = failed > 0;
      if (failing_) {
        log::error("limit store: cannot sync with redis; admits fail once figures are stale",
                   {{"redis", client_.address()}});
      } else {
        log::info("limit store: syncing with redis again", {{"redis", client_.address()}});
      }
    }
  }

  // One round trip: writes this replica's figures of `scope`, reads the others'.
  net::awaitable<Status> syncScope(const std::string& scope) {
    const auto now = system_clock::now();
    const std::string day = policies::LimitState::dayPeriod(now);
    const auto [day_end, month_end] = periodEnds(now);
    policies::ScopeUsage mine;
    {
      std::lock_guard lock(mu_);
      mine = state_.usage(scope, now);
    }
    const std::string prefix = "sy:{" + scope + "}:sync";
    const std::vector<std::string> keys = {
        prefix, prefix + ":day:" + day,
        prefix + ":month:" + policies::LimitState::monthPeriod(now)};
    const std::vector<std::string> args = {
        replica_,
        std::to_string(mine.requests),
        std::to_string(mine.tokens),
        std::to_string(mine.leases),
        std::to_string(std::max<int64_t>(0, mine.day_spent + mine.day_reserved)),
        std::to_string(std::max<int64_t>(0, mine.month_spent + mine.month_reserved)),
        std::to_string(day_end),
        std::to_string(month_end)};
    const auto start = steady_clock::now();
    Result<redis::Reply> reply = co_await client_.evalScript(0, keys, args);
    sync_metrics_.record(reply, start);
    if (!reply) {
      co_return unavailable(reply.error().message);
    }
    using Type = redis::Reply::Type;
    if (reply->type == Type::Error) {
      co_return unavailable("redis " + client_.address() + ": sync script failed: " + reply->str);
    }
    const auto& e = reply->elements;
    if (reply->type != Type::Array || e.size() != 5 ||
        std::any_of(e.begin(), e.end(),
                    [](const redis::Reply& r) { return r.type != Type::Integer || r.integer < 0; })) {
      RedisOpMetrics::count(sync_metrics_.reply);
      co_return unavailable("redis " + client_.address() + ": unexpected reply to the sync script");
    }
    std::lock_guard lock(mu_);
    Remote& remote = remotes_[scope];
    remote.requests = static_cast<uint64_t>(e[0].integer);
    remote.tokens = static_cast<uint64_t>(e[1].integer);
    remote.leases = static_cast<uint64_t>(e[2].integer);
    remote.day_micro_usd = e[3].integer;
    remote.month_micro_usd = e[4].integer;
    remote.day = dayIndex(now);
    remote.synced = steady_clock::now();
    if (remote.used == steady_clock::time_point{}) {
      remote.used = remote.synced;
    }
    co_return Status{};
  }

  static std::unexpected<Error> unavailable(std::string message) {
    return makeError(ErrorCode::Unavailable, ErrorSource::Internal,
                     "limit store: " + std::move(message), "limit_store_unavailable");
  }

  const std::chrono::milliseconds interval_;
  const std::chrono::nanoseconds stale_after_;
  const std::chrono::milliseconds timeout_;
  const std::string replica_;

  std::mutex mu_;  // guards state_ and remotes_; never held across a co_await
  policies::LimitState state_;
  std::unordered_map<std::string, Remote> remotes_;

  // The sync thread's context; declared before client_, which must be destroyed first (its
  // connection on this context is then closed by a handler this context discards).
  net::io_context sync_io_{1};
  net::steady_timer timer_{sync_io_};
  bool stopping_ = false;  // sync thread only
  bool failing_ = false;   // sync thread only
  redis::Client client_;
  RedisOpMetrics sync_metrics_;
  std::thread sync_thread_;  // last: started once everything above is built
};

}  // namespace

Result<std::unique_ptr<LimitStore>> makeSyncedRedisLimitStore(
    redis::Options options, std::chrono::milliseconds interval,
    observability::GatewayMetrics* metrics) {
  options.scripts = {std::string(kSyncScript)};
  return std::make_unique<SyncedRedisLimitStore>(std::move(options), interval, metrics);
}

}  // namespace sy::server
