// The Redis limit store in sync mode (state.redis.sync) against a real redis-server on loopback:
// one replica is exact (its own LimitState), two replicas share one rpm and one budget through
// their syncs, overshoot between syncs is bounded by what the others admitted in one interval,
// every key of a call shares the scope's hash tag, and Redis down makes admits fail (the caller
// applies fail open/closed) once the figures are stale, recovering when it is back.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <chrono>
#include <optional>
#include <thread>

#include "gateway/server/state/limit_store.h"
#include "gateway/server/state/redis_client.h"
#include "policies/limit_state.h"
#include "tests/unit/server/redis_test_server.h"

namespace sy::server {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using redis::Reply;

policies::Limits limits(uint32_t rpm, double day = 0) {
  policies::Limits out;
  out.rpm = rpm;
  out.budget_day_usd = day;
  return out;
}

AdmitRequest request(std::string id, std::vector<LimitSubject> subjects, int64_t micro_usd = 0) {
  AdmitRequest out;
  out.subjects = std::move(subjects);
  out.micro_usd = micro_usd;
  out.request_id = std::move(id);
  return out;
}

class SyncedLimitStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto binary = test_redis::findRedisServer();
    if (!binary) {
      GTEST_FAIL() << "redis-server not found: scripts/install-deps installs it";
    }
    binary_ = *binary;
    ASSERT_TRUE(server_.start(binary_)) << "redis-server did not start";
  }

  // One replica; `interval` between its background syncs.
  std::unique_ptr<LimitStore> makeStore(std::chrono::milliseconds interval,
                                        std::chrono::milliseconds timeout = 1000ms) {
    policies::StateConfig config;
    config.store = policies::StateConfig::Store::Redis;
    config.redis_url = "redis://127.0.0.1:" + std::to_string(server_.port()) + "/0";
    config.redis_timeout = timeout;
    config.redis_sync = interval;
    auto store = makeRedisLimitStore(config);
    EXPECT_TRUE(store) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }

  template <class T>
  T run(net::awaitable<T> task) {
    std::optional<T> result;
    net::co_spawn(
        io_, [&]() -> net::awaitable<void> { result.emplace(co_await std::move(task)); },
        net::detached);
    io_.restart();
    const auto give_up = Clock::now() + 10s;
    while (!result && Clock::now() < give_up) {
      io_.run_one_for(100ms);
    }
    if (!result) {
      ADD_FAILURE() << "operation did not complete within 10 s";
      std::abort();
    }
    return std::move(*result);
  }

  Admission admit(LimitStore& store, const AdmitRequest& req) {
    Result<Admission> result = run(store.admit(req));
    EXPECT_TRUE(result) << result.error().message;
    return result ? *result : Admission{};
  }

  void settle(LimitStore& store, const AdmitRequest& req, int64_t micro_usd) {
    Usage used;
    used.micro_usd = micro_usd;
    bool done = false;
    net::co_spawn(
        io_,
        [&]() -> net::awaitable<void> {
          co_await store.settle(req, used);
          done = true;
        },
        net::detached);
    io_.restart();
    while (!done) {
      io_.run_one_for(100ms);
    }
  }

  int admitted(LimitStore& store, const std::vector<LimitSubject>& subjects, int tries,
               const std::string& prefix) {
    int count = 0;
    for (int i = 0; i < tries; ++i) {
      count += admit(store, request(prefix + std::to_string(i), subjects)).admitted ? 1 : 0;
    }
    return count;
  }

  std::string binary_;
  test_redis::RedisServer server_;
  net::io_context io_;
};

TEST_F(SyncedLimitStoreTest, OneReplicaIsExact) {
  auto store = makeStore(20ms);
  const std::vector<LimitSubject> subjects = {{"key:a", limits(5)}};
  EXPECT_EQ(admitted(*store, subjects, 8, "r"), 5);
  const Admission refused = admit(*store, request("last", subjects));
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.limit, "rpm");
  EXPECT_EQ(refused.scope, "key:a");
}

TEST_F(SyncedLimitStoreTest, TwoReplicasShareOneBudget) {
  auto a = makeStore(10s);  // no background sync during the test: flush() syncs
  auto b = makeStore(10s);
  const std::vector<LimitSubject> subjects = {{"team:t", limits(0, 1.0)}};
  const auto first = request("a1", subjects, 600'000);
  ASSERT_TRUE(admit(*a, first).admitted);
  settle(*a, first, 700'000);  // reserved 0.60, spent 0.70
  a->flush();
  // b's first admit of the scope syncs it: a's 0.70 leaves 0.30.
  const Admission over = admit(*b, request("b1", subjects, 400'000));
  EXPECT_FALSE(over.admitted);
  EXPECT_EQ(over.limit, "budget_day");
  EXPECT_EQ(over.scope, "team:t");
  EXPECT_GE(over.retry_after.count(), 1);
  EXPECT_LE(over.retry_after.count(), 86400);
  EXPECT_TRUE(admit(*b, request("b2", subjects, 300'000)).admitted);
  // And back: b's reservation reaches a with b's sync.
  b->flush();
  a->flush();
  EXPECT_FALSE(admit(*a, request("a2", subjects, 1)).admitted);
}

TEST_F(SyncedLimitStoreTest, TwoReplicasShareOneRpmWithOvershootBoundedByOneInterval) {
  auto a = makeStore(10s);
  auto b = makeStore(10s);
  const std::vector<LimitSubject> subjects = {{"key:k", limits(10)}};
  // Both learn the scope (nothing used yet), then admit between syncs: each up to the whole
  // limit, so the overshoot is what the other admitted in that interval, never more.
  EXPECT_EQ(admitted(*a, subjects, 4, "a"), 4);
  EXPECT_EQ(admitted(*b, subjects, 12, "b"), 10);
  EXPECT_EQ(admitted(*a, subjects, 12, "a2-"), 6);  // a knows only its own 4 until it syncs
  a->flush();
  b->flush();
  a->flush();
  EXPECT_EQ(admitted(*a, subjects, 3, "a3-"), 0);
  EXPECT_EQ(admitted(*b, subjects, 3, "b3-"), 0);
}

TEST_F(SyncedLimitStoreTest, BackgroundSyncSpreadsCountsWithoutFlush) {
  auto a = makeStore(20ms);
  auto b = makeStore(20ms);
  const std::vector<LimitSubject> subjects = {{"key:bg", limits(10)}};
  EXPECT_TRUE(admit(*b, request("b0", subjects)).admitted);  // b learns the scope
  EXPECT_EQ(admitted(*a, subjects, 9, "a"), 9);
  const auto give_up = Clock::now() + 3s;
  bool refused = false;
  while (!refused && Clock::now() < give_up) {
    std::this_thread::sleep_for(20ms);
    refused = !admit(*b, request("b-probe", subjects)).admitted;
  }
  EXPECT_TRUE(refused) << "b never saw a's nine requests";
}

TEST_F(SyncedLimitStoreTest, EveryKeyOfAScopeSharesItsHashTag) {
  auto store = makeStore(10s);
  const auto req = request("r", {{"key:x", limits(10, 5.0)}}, 1000);
  ASSERT_TRUE(admit(*store, req).admitted);
  store->flush();
  redis::Options options;
  options.host = "127.0.0.1";
  options.port = server_.port();
  redis::Client raw(options);
  const Result<Reply> reply = run(raw.command({"KEYS", "sy:*"}));
  ASSERT_TRUE(reply) << reply.error().message;
  std::vector<std::string> keys;
  for (const Reply& key : reply->elements) {
    keys.push_back(key.str);
  }
  std::sort(keys.begin(), keys.end());
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "sy:{key:x}:sync",
                      "sy:{key:x}:sync:day:" + policies::LimitState::dayPeriod(now),
                      "sy:{key:x}:sync:month:" + policies::LimitState::monthPeriod(now)}));
}

TEST_F(SyncedLimitStoreTest, RedisDownFailsOnceStaleAndRecovers) {
  auto store = makeStore(20ms, 100ms);  // stale after 3 x 20 + 100 = 160 ms
  const std::vector<LimitSubject> subjects = {{"key:down", limits(1000)}};
  ASSERT_TRUE(admit(*store, request("up0", subjects)).admitted);
  server_.stop();
  std::this_thread::sleep_for(400ms);
  const Result<Admission> down = run(store->admit(request("down", subjects)));
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code, ErrorCode::Unavailable);
  EXPECT_EQ(down.error().code_id, "limit_store_unavailable");
  // A scope never synced cannot be decided either.
  const Result<Admission> unknown = run(store->admit(request("new", {{"key:new", limits(1)}})));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::Unavailable);
  ASSERT_TRUE(server_.start(binary_, server_.port()));
  const auto give_up = Clock::now() + 3s;
  bool recovered = false;
  while (!recovered && Clock::now() < give_up) {
    const Result<Admission> result = run(store->admit(request("up", subjects)));
    recovered = result && result->admitted;
    if (!recovered) {
      std::this_thread::sleep_for(20ms);
    }
  }
  EXPECT_TRUE(recovered);
}

TEST_F(SyncedLimitStoreTest, NoSubjectsAdmitsWithoutRedis) {
  server_.stop();
  auto store = makeStore(20ms, 100ms);
  AdmitRequest req = request("anon", {});
  req.output_tokens = 42;
  const Admission admission = admit(*store, req);
  EXPECT_TRUE(admission.admitted);
  EXPECT_EQ(admission.output_tokens, 42u);
}

}  // namespace
}  // namespace sy::server
