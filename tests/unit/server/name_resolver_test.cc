// NameResolver with an injected lookup the test completes (or never completes) itself: waits
// bounded by the deadline, one lookup per name in flight, the negative cache, no positive cache,
// and a lookup that ends after every waiter left. The system lookup and PooledUpstream are checked
// once each on names that cannot resolve.
#include "gateway/server/transport/name_resolver.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <optional>

#include "gateway/config/config.h"
#include "gateway/server/transport/upstream_client.h"

namespace sy::server {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const Endpoints kLoopback{tcp::endpoint(net::ip::make_address("127.0.0.1"), 8000)};

// A lookup that never answers by itself: the test calls finish().
class ScriptedLookups {
 public:
  LookupFn fn() {
    return [this](const std::string& host, uint16_t, LookupDone done) {
      hosts.push_back(host);
      pending.push_back(std::move(done));
    };
  }
  void finish(size_t i, error_code ec, Endpoints endpoints = {}) {
    pending.at(i)(ec, std::move(endpoints));
  }
  std::vector<std::string> hosts;
  std::vector<LookupDone> pending;
};

class NameResolverTest : public ::testing::Test {
 protected:
  // Starts a resolve; run() drives it.
  std::optional<NameResolver::Resolved>& start(const std::string& host, Clock::duration timeout) {
    auto& slot = results_.emplace_back();
    net::co_spawn(
        io_,
        [&, host, deadline = Clock::now() + timeout]() -> net::awaitable<void> {
          slot = co_await resolver_.resolve(host, 8000, deadline);
        },
        net::detached);
    return slot;
  }
  // Runs until nothing is left to do (a lookup nobody finishes is not work).
  void run() {
    io_.restart();
    io_.run();
  }
  // Calls finish(i, ...) after `after`, while the loop runs.
  void finishLater(size_t i, Clock::duration after, error_code ec, Endpoints endpoints = {}) {
    auto timer = std::make_shared<net::steady_timer>(io_, after);
    timer->async_wait([this, timer, i, ec, endpoints](error_code) {
      lookups_.finish(i, ec, endpoints);
    });
  }

  net::io_context io_{1};
  ScriptedLookups lookups_;
  NameResolver resolver_{io_.get_executor(), lookups_.fn()};
  std::deque<std::optional<NameResolver::Resolved>> results_;
};

TEST_F(NameResolverTest, AnIpLiteralNeedsNoLookup) {
  auto& v4 = start("127.0.0.1", 1s);
  auto& v6 = start("::1", 1s);
  run();
  ASSERT_TRUE(v4 && v6);
  EXPECT_FALSE(v4->ec);
  ASSERT_EQ(v4->endpoints.size(), 1u);
  EXPECT_EQ(v4->endpoints[0], kLoopback[0]);
  EXPECT_EQ(v6->endpoints.at(0).address(), net::ip::make_address("::1"));
  EXPECT_EQ(resolver_.lookups(), 0u);
}

TEST_F(NameResolverTest, AWaitEndsAtTheDeadlineWhileTheLookupGoesOn) {
  const auto began = Clock::now();
  auto& first = start("slow.example", 50ms);
  run();
  const auto waited = Clock::now() - began;
  ASSERT_TRUE(first);
  EXPECT_EQ(first->ec, net::error::timed_out);
  EXPECT_GE(waited, 45ms);
  EXPECT_LT(waited, 1s);
  ASSERT_EQ(lookups_.pending.size(), 1u);

  // Overdue counts as failed: the next request fails at once, without a second lookup.
  auto& second = start("slow.example", 1s);
  run();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->ec, net::error::timed_out);
  EXPECT_TRUE(second->cached);
  EXPECT_EQ(resolver_.lookups(), 1u);

  // The abandoned lookup ends later (nobody waits): its success lifts the negative entry, and
  // the next request looks the name up again (no positive cache).
  lookups_.finish(0, {}, kLoopback);
  auto& third = start("slow.example", 1s);
  finishLater(1, 5ms, {}, kLoopback);
  run();
  ASSERT_TRUE(third);
  EXPECT_FALSE(third->ec);
  EXPECT_EQ(third->endpoints, kLoopback);
  EXPECT_EQ(resolver_.lookups(), 2u);
}

TEST_F(NameResolverTest, ConcurrentRequestsForOneNameShareOneLookup) {
  auto& a = start("backend.example", 1s);
  auto& b = start("backend.example", 1s);
  auto& other = start("other.example", 1s);
  finishLater(0, 10ms, {}, kLoopback);
  finishLater(1, 10ms, net::error::host_not_found);
  run();
  ASSERT_TRUE(a && b && other);
  EXPECT_EQ(a->endpoints, kLoopback);
  EXPECT_EQ(b->endpoints, kLoopback);
  EXPECT_EQ(other->ec, net::error::host_not_found);
  EXPECT_EQ(lookups_.hosts, (std::vector<std::string>{"backend.example", "other.example"}));
}

TEST_F(NameResolverTest, AFailedLookupIsRememberedSoADeadNameCostsOneLookup) {
  auto& first = start("dead.invalid", 1s);
  finishLater(0, 1ms, net::error::host_not_found);
  run();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->ec, net::error::host_not_found);
  EXPECT_FALSE(first->cached);
  for (int i = 0; i < 20; ++i) {
    start("dead.invalid", 1s);
  }
  run();
  for (size_t i = 1; i < results_.size(); ++i) {
    ASSERT_TRUE(results_[i]);
    EXPECT_EQ(results_[i]->ec, net::error::host_not_found);
    EXPECT_TRUE(results_[i]->cached);
  }
  EXPECT_EQ(resolver_.lookups(), 1u);
}

TEST_F(NameResolverTest, ASuccessfulLookupIsNotCached) {
  for (size_t i = 0; i < 2; ++i) {
    auto& result = start("live.example", 1s);
    finishLater(i, 1ms, {}, kLoopback);
    run();
    ASSERT_TRUE(result);
    EXPECT_EQ(result->endpoints, kLoopback);
  }
  EXPECT_EQ(resolver_.lookups(), 2u);
}

TEST(SystemLookupTest, AnInvalidNameFailsAndTheResolverOutlivesAnAbandonedWait) {
  net::io_context io{1};
  NameResolver resolver(io.get_executor());
  std::optional<NameResolver::Resolved> result;
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        result = co_await resolver.resolve("switchyard-test.invalid", 80, Clock::now() + 5s);
      },
      net::detached);
  io.run();
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->ec);  // NXDOMAIN (RFC 6761), or a timeout where DNS does not answer
  // A wait abandoned at once: the lookup runs on and ends after the waiter returned.
  result.reset();
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        result = co_await resolver.resolve("other-test.invalid", 80, Clock::now());
      },
      net::detached);
  io.restart();
  io.run();
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->ec);
}

// The real upstream client: a name whose lookup never ends fails as unreachable within the
// backend's connect timeout, and the next request fails at once from the negative cache.
TEST(PooledUpstreamResolveTest, AnUnresolvableNameIsUnreachableWithinTheConnectTimeout) {
  auto config = config::loadConfigString(
      "backends:\n"
      "  - {name: ghost, url: 'http://ghost.example:8000', model: m, location: self-hosted,\n"
      "     health_check: false, timeouts: {connect: 200ms}}\n"
      "tiers: {home: {backends: [ghost]}}\n"
      "auth: {anonymous: true}\n",
      "policy.yaml");
  ASSERT_TRUE(config) << config.error().front().str();
  auto snapshot = config::Snapshot::build(std::move(*config), 1);
  ASSERT_TRUE(snapshot);
  const config::BackendRuntime& backend =
      (*snapshot)->backend((*snapshot)->catalog().backends().front());

  net::io_context io{1};
  DeadlineSweeper sweeper(io.get_executor());
  ScriptedLookups lookups;
  PooledUpstream upstream(io.get_executor(), sweeper, lookups.fn());
  connectors::UpstreamRequest request;
  request.target = "/v1/chat/completions";
  std::vector<std::pair<Clock::duration, Error>> failures;
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        for (int i = 0; i < 2; ++i) {
          const auto began = Clock::now();
          auto sent = co_await upstream.send(backend, request, 1);
          EXPECT_FALSE(sent);
          if (!sent) {
            failures.emplace_back(Clock::now() - began, sent.error());
          }
        }
      },
      net::detached);
  io.run();
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_GE(failures[0].first, 190ms);
  EXPECT_LT(failures[0].first, 1s);
  EXPECT_LT(failures[1].first, 50ms) << "the second request fails from the negative cache";
  for (const auto& [took, error] : failures) {
    EXPECT_EQ(error.code_id, "upstream_unreachable") << error.message;
    EXPECT_TRUE(error.retryable);
    EXPECT_NE(error.message.find("name resolution"), std::string::npos) << error.message;
  }
  EXPECT_EQ(lookups.pending.size(), 1u);
}

}  // namespace
}  // namespace sy::server
