// The Redis limit store against a real redis-server on loopback (started per test on a free
// port, no persistence, killed at the end; a missing redis-server fails, install-deps installs it):
// every limit admits exactly N then refuses, refusals change nothing, reservations are replaced by
// settle, three stores standing for three replicas enforce one global limit exactly, and an
// unreachable or hung Redis is an Error within the timeout, recovered from once it is back.
// Also the client's RESP2 parser and URL parsing, which need no server.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <latch>
#include <optional>
#include <thread>

#include "gateway/server/state/limit_store.h"
#include "gateway/server/state/redis_client.h"
#include "observability/metrics.h"
#include "tests/unit/server/redis_test_server.h"

namespace sy::server {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using redis::Reply;
using redis::ReplyParser;

// ---------------------------------------------------------------------------------------------
// No server needed.

TEST(RedisRespTest, EncodesCommandsAsArraysOfBulkStrings) {
  std::string out;
  redis::encodeCommand(out, {"SET", "k", "", "a\r\nb"});
  EXPECT_EQ(out, "*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n$4\r\na\r\nb\r\n");
}

TEST(RedisRespTest, ParsesEveryTypeFedByteByByte) {
  const std::string stream =
      "+OK\r\n-ERR "
      "bad\r\n:-42\r\n$5\r\nhe\r\nl\r\n$-1\r\n*-1\r\n*3\r\n:1\r\n*2\r\n$1\r\na\r\n$0\r\n"
      "\r\n+x\r\n";
  ReplyParser parser;
  std::vector<Reply> replies;
  for (char c : stream) {
    parser.feed(std::string_view(&c, 1));
    Reply reply;
    ReplyParser::Outcome outcome;
    while ((outcome = parser.next(reply)) == ReplyParser::Outcome::Complete) {
      replies.push_back(reply);
    }
    ASSERT_EQ(outcome, ReplyParser::Outcome::Incomplete) << parser.error();
  }
  ASSERT_EQ(replies.size(), 7u);
  EXPECT_EQ(replies[0].type, Reply::Type::Status);
  EXPECT_EQ(replies[0].str, "OK");
  EXPECT_EQ(replies[1].type, Reply::Type::Error);
  EXPECT_EQ(replies[1].str, "ERR bad");
  EXPECT_EQ(replies[2].type, Reply::Type::Integer);
  EXPECT_EQ(replies[2].integer, -42);
  EXPECT_EQ(replies[3].type, Reply::Type::Bulk);
  EXPECT_EQ(replies[3].str, "he\r\nl");  // binary-safe
  EXPECT_EQ(replies[4].type, Reply::Type::Nil);
  EXPECT_EQ(replies[5].type, Reply::Type::Nil);
  ASSERT_EQ(replies[6].type, Reply::Type::Array);
  ASSERT_EQ(replies[6].elements.size(), 3u);
  EXPECT_EQ(replies[6].elements[0].integer, 1);
  ASSERT_EQ(replies[6].elements[1].elements.size(), 2u);
  EXPECT_EQ(replies[6].elements[1].elements[0].str, "a");
  EXPECT_EQ(replies[6].elements[1].elements[1].str, "");
  EXPECT_EQ(replies[6].elements[2].str, "x");
}

TEST(RedisRespTest, RejectsMalformedStreams) {
  std::string too_deep;
  for (int i = 0; i <= ReplyParser::kMaxDepth + 1; ++i) {
    too_deep += "*1\r\n";
  }
  too_deep += ":1\r\n";
  for (const std::string& bad :
       {std::string("?what\r\n"), std::string(":12x\r\n"), std::string("$3\r\nabcd\r\n"),
        std::string("$-2\r\n"), std::string("*99999999\r\n"),
        "$" + std::to_string(ReplyParser::kMaxBulk + 1) + "\r\n", too_deep}) {
    ReplyParser parser;
    parser.feed(bad);
    Reply reply;
    EXPECT_EQ(parser.next(reply), ReplyParser::Outcome::Malformed) << bad;
    EXPECT_FALSE(parser.error().empty());
  }
}

TEST(RedisUrlTest, ParsesHostPortDbAndCredentials) {
  auto plain = redis::parseUrl("redis://cache.internal");
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(plain->host, "cache.internal");
  EXPECT_EQ(plain->port, 6379);
  EXPECT_EQ(plain->db, 0);
  auto full = redis::parseUrl("redis://ops:p%40ss@10.0.0.7:6380/3");
  ASSERT_TRUE(full) << full.error().message;
  EXPECT_EQ(full->host, "10.0.0.7");
  EXPECT_EQ(full->port, 6380);
  EXPECT_EQ(full->db, 3);
  EXPECT_EQ(full->username, "ops");
  EXPECT_EQ(full->password, "p@ss");
  auto v6 = redis::parseUrl("redis://:secret@[::1]:7000");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 7000);
  EXPECT_EQ(v6->username, "");
  EXPECT_EQ(v6->password, "secret");
  EXPECT_FALSE(v6->tls);
  auto tls = redis::parseUrl("rediss://limiter:s3cret@redis.internal:6380/2");
  ASSERT_TRUE(tls) << tls.error().message;
  EXPECT_TRUE(tls->tls);
  EXPECT_EQ(tls->host, "redis.internal");
  EXPECT_EQ(tls->port, 6380);
  EXPECT_EQ(tls->db, 2);
  EXPECT_EQ(tls->username, "limiter");
  EXPECT_EQ(tls->password, "s3cret");
}

TEST(RedisUrlTest, RejectsBadUrlsWithoutEchoingThem) {
  for (const char* bad : {"http://h:1", "rediss:/h:1", "redis://", "redis://h:0", "redis://h:70000",
                          "redis://h/x", "redis://h/-1", "redis://user@h",
                          "redis://u:topsecret@h:1/db", "redis://h?x=1", "redis://[::1"}) {
    auto parsed = redis::parseUrl(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_TRUE(parsed.error().message.starts_with("state.redis_url: ")) << bad;
    EXPECT_EQ(parsed.error().message.find("topsecret"), std::string::npos);
  }
}

TEST(RedisLimitStoreConfigTest, RejectsBadUrlAndTimeout) {
  policies::StateConfig config;
  config.store = policies::StateConfig::Store::Redis;
  config.redis_url = "redis://:hunter2@127.0.0.1:notaport";
  auto store = makeRedisLimitStore(config);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().message.find("hunter2"), std::string::npos);
  config.redis_url = "redis://127.0.0.1:6379";
  config.redis_timeout = 0ms;
  EXPECT_FALSE(makeRedisLimitStore(config));
}

// ---------------------------------------------------------------------------------------------
// Against a redis-server child process on 127.0.0.1 (redis_test_server.h).

using test_redis::findRedisServer;
using test_redis::freeLoopbackPort;
using test_redis::RedisServer;

policies::Limits limits(uint32_t rpm, uint64_t tpm = 0, uint32_t concurrency = 0, double day = 0,
                        double month = 0) {
  policies::Limits out;
  out.rpm = rpm;
  out.tpm = tpm;
  out.concurrency = concurrency;
  out.budget_day_usd = day;
  out.budget_month_usd = month;
  return out;
}

AdmitRequest request(std::string id, std::vector<LimitSubject> subjects, uint64_t tokens = 0,
                     int64_t micro_usd = 0) {
  AdmitRequest out;
  out.subjects = std::move(subjects);
  out.tokens = tokens;
  out.micro_usd = micro_usd;
  out.request_id = std::move(id);
  return out;
}

class RedisLimitStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    binary_ = findRedisServer();
    if (!binary_) {
      GTEST_FAIL() << "redis-server not found: scripts/install-deps installs it (Debian package "
                      "redis-server); the Redis limit store tests need a real server";
    }
    ASSERT_TRUE(server_.start(*binary_)) << "redis-server did not start";
    raw_ = std::make_unique<redis::Client>(rawOptions());
  }

  redis::Options rawOptions() {
    redis::Options options;
    options.host = "127.0.0.1";
    options.port = server_.port();
    options.timeout = 2s;
    return options;
  }

  std::string url() const { return "redis://127.0.0.1:" + std::to_string(server_.port()) + "/0"; }

  std::unique_ptr<LimitStore> makeStore(std::chrono::milliseconds timeout = 1000ms,
                                        std::string url_text = {}) {
    policies::StateConfig config;
    config.store = policies::StateConfig::Store::Redis;
    config.redis_url = url_text.empty() ? url() : url_text;
    config.redis_timeout = timeout;
    auto store = makeRedisLimitStore(config);
    EXPECT_TRUE(store) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }

  // Runs `task` on io_ until it completes (10 s at most).
  template <class T>
  T run(net::awaitable<T> task) {
    std::optional<T> result;
    net::co_spawn(
        io_, [&]() -> net::awaitable<void> { result.emplace(co_await std::move(task)); },
        net::detached);
    io_.restart();  // a context that ran out of work (no connection left) stays stopped
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

  void runVoid(net::awaitable<void> task) {
    bool done = false;
    net::co_spawn(
        io_,
        [&]() -> net::awaitable<void> {
          co_await std::move(task);
          done = true;
        },
        net::detached);
    io_.restart();
    const auto give_up = Clock::now() + 10s;
    while (!done && Clock::now() < give_up) {
      io_.run_one_for(100ms);
    }
    ASSERT_TRUE(done);
  }

  Admission admit(LimitStore& store, const AdmitRequest& req) {
    Result<Admission> result = run(store.admit(req));
    EXPECT_TRUE(result) << result.error().message;
    return result ? *result : Admission{};
  }

  void settle(LimitStore& store, const AdmitRequest& req, uint64_t tokens, int64_t micro_usd) {
    Usage used;
    used.tokens = tokens;
    used.micro_usd = micro_usd;
    runVoid(store.settle(req, used));
  }

  Reply raw(std::vector<std::string> args) {
    Result<Reply> reply = run(raw_->command(std::move(args)));
    EXPECT_TRUE(reply) << reply.error().message;
    return reply ? *reply : Reply{};
  }

  std::vector<std::string> keys() {
    std::vector<std::string> out;
    for (const Reply& key : raw({"KEYS", "sy:*"}).elements) {
      out.push_back(key.str);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  int64_t hashField(const std::string& key, const std::string& field) {
    const Reply reply = raw({"HGET", key, field});
    return reply.type == Reply::Type::Bulk ? std::stoll(reply.str) : 0;
  }

  // Today's UTC day and month as the store names them, from Redis's clock.
  std::pair<std::string, std::string> periods() {
    const Reply time = raw({"TIME"});
    const std::chrono::sys_seconds now{std::chrono::seconds{std::stoll(time.elements.at(0).str)}};
    const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(now)};
    char day[16];
    char month[16];
    std::snprintf(day, sizeof day, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    std::snprintf(month, sizeof month, "%04d-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()));
    return {day, month};
  }

  std::optional<std::string> binary_;
  RedisServer server_;
  net::io_context io_;
  std::unique_ptr<redis::Client> raw_;
};

void expectRefused(const Admission& admission, std::string_view limit, std::string_view scope,
                   int64_t max_retry) {
  EXPECT_FALSE(admission.admitted);
  EXPECT_EQ(admission.limit, limit);
  EXPECT_EQ(admission.scope, scope);
  EXPECT_GE(admission.retry_after.count(), 1);
  EXPECT_LE(admission.retry_after.count(), max_retry);
}

TEST_F(RedisLimitStoreTest, RpmAdmitsExactlyNThenRefuses) {
  auto store = makeStore();
  const std::vector<LimitSubject> subjects = {{"key:a", limits(3)}};
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(admit(*store, request("r" + std::to_string(i), subjects)).admitted) << i;
  }
  expectRefused(admit(*store, request("r3", subjects)), "rpm", "key:a", 60);
  // Another key is counted apart.
  EXPECT_TRUE(admit(*store, request("r4", {{"key:b", limits(3)}})).admitted);
}

TEST_F(RedisLimitStoreTest, TpmAdmitsUpToTheLimitThenRefuses) {
  auto store = makeStore();
  const std::vector<LimitSubject> subjects = {{"key:a", limits(0, 1000)}};
  EXPECT_TRUE(admit(*store, request("r1", subjects, 400)).admitted);
  EXPECT_TRUE(admit(*store, request("r2", subjects, 600)).admitted);
  expectRefused(admit(*store, request("r3", subjects, 1)), "tpm", "key:a", 60);
  // A request larger than the whole limit can never pass: retry after the full window.
  const Admission too_big = admit(*store, request("r4", {{"key:c", limits(0, 1000)}}, 1001));
  expectRefused(too_big, "tpm", "key:c", 60);
  EXPECT_EQ(too_big.retry_after.count(), 60);
}

TEST_F(RedisLimitStoreTest, ConcurrencyLeaseIsReleasedBySettle) {
  auto store = makeStore();
  const std::vector<LimitSubject> subjects = {{"key:a", limits(0, 0, 2)}};
  const auto first = request("r1", subjects);
  EXPECT_TRUE(admit(*store, first).admitted);
  EXPECT_TRUE(admit(*store, request("r2", subjects)).admitted);
  const Admission refused = admit(*store, request("r3", subjects));
  expectRefused(refused, "concurrency", "key:a", 1);
  settle(*store, first, 10, 0);
  EXPECT_TRUE(admit(*store, request("r3", subjects)).admitted);
  expectRefused(admit(*store, request("r4", subjects)), "concurrency", "key:a", 1);
}

TEST_F(RedisLimitStoreTest, ExpiredLeaseFreesItsSlotAndItsReservation) {
  auto store = makeStore();
  const auto [day, month] = periods();
  // A lease left by a crashed replica: expired a second ago, holding 6000 micro-USD.
  const Reply time = raw({"TIME"});
  const int64_t now = std::stoll(time.elements.at(0).str);
  raw({"ZADD", "sy:{key:a}:lease", std::to_string(now * 1000 - 1000), "ghost"});
  raw({"HSET", "sy:{key:a}:reserved", "ghost", std::to_string(now) + " 0 6000"});
  raw({"HSET", "sy:{key:a}:day:" + day, "reserved", "6000"});
  raw({"HSET", "sy:{key:a}:month:" + month, "reserved", "6000"});
  const std::vector<LimitSubject> subjects = {{"key:a", limits(0, 0, 1, 0.01, 0.01)}};
  EXPECT_TRUE(admit(*store, request("r1", subjects, 0, 6000)).admitted);
  EXPECT_EQ(hashField("sy:{key:a}:day:" + day, "reserved"), 6000);  // r1's only
  EXPECT_EQ(hashField("sy:{key:a}:month:" + month, "reserved"), 6000);
  // A live lease of another replica does hold its slot.
  raw({"ZADD", "sy:{key:b}:lease", std::to_string(now * 1000 + 60'000), "other"});
  expectRefused(admit(*store, request("r2", {{"key:b", limits(0, 0, 1)}})), "concurrency", "key:b",
                1);
}

TEST_F(RedisLimitStoreTest, BudgetReservesThenSettleRecordsTheActualCost) {
  auto store = makeStore();
  const auto [day, month] = periods();
  // $0.01 a day = 10000 micro-USD; $0.02 a month.
  const std::vector<LimitSubject> subjects = {{"key:a", limits(0, 0, 0, 0.01, 0.02)}};
  const auto first = request("r1", subjects, 0, 6000);
  EXPECT_TRUE(admit(*store, first).admitted);
  EXPECT_EQ(hashField("sy:{key:a}:day:" + day, "reserved"), 6000);
  // The worst case of a second one does not fit beside the first's reservation.
  expectRefused(admit(*store, request("r2", subjects, 0, 6000)), "budget_day", "key:a", 86400);
  settle(*store, first, 0, 1000);
  EXPECT_EQ(hashField("sy:{key:a}:day:" + day, "reserved"), 0);
  EXPECT_EQ(hashField("sy:{key:a}:day:" + day, "spent"), 1000);
  EXPECT_EQ(hashField("sy:{key:a}:month:" + month, "spent"), 1000);
  const auto second = request("r2", subjects, 0, 9000);  // 1000 + 9000 = the whole day
  EXPECT_TRUE(admit(*store, second).admitted);
  expectRefused(admit(*store, request("r3", subjects, 0, 1)), "budget_day", "key:a", 86400);
  settle(*store, second, 0, 9000);
  // A new day would pass, the month is the limit now: 10000 + 10001 > 20000.
  const std::vector<LimitSubject> month_only = {{"key:a", limits(0, 0, 0, 0, 0.02)}};
  expectRefused(admit(*store, request("r4", month_only, 0, 10001)), "budget_month", "key:a",
                31 * 86400);
  EXPECT_TRUE(admit(*store, request("r5", month_only, 0, 10000)).admitted);
}

// LimitStateTest's lowering cases, through the script: 100 prompt-side micro-USD plus up to 1000
// output tokens at 10 micro-USD each, lowered to no less than 16.
AdmitRequest lowerable(std::string id, std::vector<LimitSubject> subjects) {
  AdmitRequest out = request(std::move(id), std::move(subjects), 50 + 1000, 100 + 10 * 1000);
  out.output_tokens = 1000;
  out.min_output_tokens = 16;
  out.micro_usd_per_output_token = 10;
  return out;
}

TEST_F(RedisLimitStoreTest, BudgetAndTpmLowerTheOutputAsLimitStateDoes) {
  auto store = makeStore();
  const auto [day, month] = periods();
  const std::vector<LimitSubject> budget = {{"key:a", limits(0, 0, 0, 0.025, 0)}};
  EXPECT_EQ(admit(*store, lowerable("r1", budget)).output_tokens, 1000u);
  EXPECT_EQ(admit(*store, lowerable("r2", budget)).output_tokens, 1000u);
  const Admission lowered = admit(*store, lowerable("r3", budget));
  ASSERT_TRUE(lowered.admitted);
  EXPECT_EQ(lowered.output_tokens, 470u);
  EXPECT_EQ(hashField("sy:{key:a}:day:" + day, "reserved"), 25000);
  EXPECT_FALSE(admit(*store, lowerable("r4", budget)).admitted);

  const std::vector<LimitSubject> tpm = {{"key:b", limits(0, 1500)}};
  EXPECT_EQ(admit(*store, lowerable("t1", tpm)).output_tokens, 1000u);
  EXPECT_EQ(admit(*store, lowerable("t2", tpm)).output_tokens, 400u);
  EXPECT_FALSE(admit(*store, lowerable("t3", tpm)).admitted);
}

TEST_F(RedisLimitStoreTest, TpmSettleReplacesTheReservationWithTheActualTokens) {
  auto store = makeStore();
  const std::vector<LimitSubject> subjects = {{"key:a", limits(0, 1000)}};
  const auto first = request("r1", subjects, 800);
  EXPECT_TRUE(admit(*store, first).admitted);
  expectRefused(admit(*store, request("r2", subjects, 300)), "tpm", "key:a", 60);
  settle(*store, first, 100, 0);  // used 100 of the 800 reserved
  EXPECT_TRUE(admit(*store, request("r2", subjects, 900)).admitted);  // 100 + 900
  expectRefused(admit(*store, request("r3", subjects, 1)), "tpm", "key:a", 60);
}

TEST_F(RedisLimitStoreTest, SettleOfAnUnknownRequestOnlyRecordsSpend) {
  auto store = makeStore();
  const auto [day, month] = periods();
  const std::vector<LimitSubject> subjects = {{"key:a", limits(0, 1000, 0, 0.01)}};
  settle(*store, request("never-admitted", subjects, 900), 900, 9000);
  EXPECT_EQ(hashField("sy:{key:a}:day:" + day, "spent"), 9000);
  EXPECT_EQ(hashField("sy:{key:a}:month:" + month, "spent"), 9000);
  // No tokens were recorded (there is no admit bucket to correct), the spend counts.
  expectRefused(admit(*store, request("r1", subjects, 1000, 2000)), "budget_day", "key:a", 86400);
  EXPECT_TRUE(admit(*store, request("r2", subjects, 1000, 1000)).admitted);
  // A repeated settle records the spend again (documented: settle is not idempotent for spend).
  settle(*store, request("never-admitted", subjects), 0, 9000);
  EXPECT_EQ(hashField("sy:{key:a}:day:" + day, "spent"), 18000);
}

TEST_F(RedisLimitStoreTest, ARefusalChangesNoCounter) {
  auto store = makeStore();
  const std::vector<LimitSubject> subjects = {{"key:a", limits(2, 1000, 5, 1, 1)},
                                              {"team:t", limits(10, 10000, 10, 1, 1)}};
  EXPECT_TRUE(admit(*store, request("r1", subjects, 400, 100)).admitted);
  const std::string before = raw({"DEBUG", "DIGEST"}).str;
  ASSERT_FALSE(before.empty());
  // Refused on the key's tpm (400 + 700 > 1000): nothing of the key or the team moves.
  expectRefused(admit(*store, request("r2", subjects, 700, 100)), "tpm", "key:a", 60);
  EXPECT_EQ(raw({"DEBUG", "DIGEST"}).str, before);
  // So the key still has one request of its rpm 2 left.
  EXPECT_TRUE(admit(*store, request("r3", subjects, 100, 100)).admitted);
  expectRefused(admit(*store, request("r4", subjects, 1, 1)), "rpm", "key:a", 60);
}

TEST_F(RedisLimitStoreTest, KeyAndTeamSubjectsFirstFailureWins) {
  auto store = makeStore();
  // Two keys of one team: the team allows 3 requests a minute, each key 2.
  const auto subjects = [](const std::string& key) {
    return std::vector<LimitSubject>{{key, limits(2)}, {"team:t", limits(3)}};
  };
  EXPECT_TRUE(admit(*store, request("a1", subjects("key:a"))).admitted);
  EXPECT_TRUE(admit(*store, request("a2", subjects("key:a"))).admitted);
  expectRefused(admit(*store, request("a3", subjects("key:a"))), "rpm", "key:a", 60);
  EXPECT_TRUE(admit(*store, request("b1", subjects("key:b"))).admitted);
  // The team is full; key:b's own count stays at 1 after the refusal.
  expectRefused(admit(*store, request("b2", subjects("key:b"))), "rpm", "team:t", 60);
  // A key of team t when the team sets no limits: its counters stay under the team's tag.
  auto key_only = request("b3", {{"key:b", limits(2)}});
  key_only.hash_tag = "team:t";
  EXPECT_TRUE(admit(*store, key_only).admitted);
  key_only.request_id = "b4";
  expectRefused(admit(*store, key_only), "rpm", "key:b", 60);
}

// One script's keys share one hash tag, the team's: a key's and its team's counters are in one
// Redis Cluster slot.
TEST_F(RedisLimitStoreTest, KeyAndTeamCountersShareTheTeamsHashTag) {
  auto store = makeStore();
  const auto req = request("r1", {{"key:a", limits(10)}, {"team:t", limits(10)}});
  EXPECT_TRUE(admit(*store, req).admitted);
  EXPECT_EQ(keys(), (std::vector<std::string>{"sy:{team:t}:key:a:lease", "sy:{team:t}:key:a:reserved",
                                              "sy:{team:t}:key:a:rpm", "sy:{team:t}:lease",
                                              "sy:{team:t}:reserved", "sy:{team:t}:rpm"}));
}

TEST_F(RedisLimitStoreTest, KeyLayout) {
  auto store = makeStore();
  const auto [day, month] = periods();
  const auto req = request("r1", {{"key:a", limits(10, 1000, 2, 1, 1)}}, 50, 70);
  EXPECT_TRUE(admit(*store, req).admitted);
  EXPECT_EQ(keys(), (std::vector<std::string>{"sy:{key:a}:day:" + day, "sy:{key:a}:lease",
                                              "sy:{key:a}:month:" + month, "sy:{key:a}:reserved",
                                              "sy:{key:a}:rpm", "sy:{key:a}:tpm"}));
  EXPECT_EQ(raw({"TTL", "sy:{key:a}:rpm"}).integer, 120);
  EXPECT_GT(raw({"TTL", "sy:{key:a}:day:" + day}).integer, 86400);
  settle(*store, req, 40, 60);
  // The lease and its reservation are gone with the request.
  EXPECT_EQ(keys(), (std::vector<std::string>{"sy:{key:a}:day:" + day, "sy:{key:a}:month:" + month,
                                              "sy:{key:a}:rpm", "sy:{key:a}:tpm"}));
  EXPECT_EQ(hashField("sy:{key:a}:day:" + day, "spent"), 60);
  EXPECT_EQ(hashField("sy:{key:a}:day:" + day, "reserved"), 0);
}

// The windows keep running totals: `sum` over the hash's second fields, `from` (nothing older is
// left) and `head` (the latest second counted). The hashes are written here as the scripts
// would have left them at earlier seconds; margins of a few seconds absorb a TIME tick.
TEST_F(RedisLimitStoreTest, SlidingWindowFoldsExpiredSecondsAwayAndKeepsTheSum) {
  auto store = makeStore();
  const int64_t now = std::stoll(raw({"TIME"}).elements.at(0).str);
  const auto sec = [&](int64_t offset) { return std::to_string(now + offset); };
  raw({"HSET", "sy:{key:w}:rpm", sec(-75), "5", sec(-50), "2", sec(-30), "3", "sum", "10", "from",
       sec(-75), "head", sec(-30)});
  const std::vector<LimitSubject> subjects = {{"key:w", limits(6)}};
  EXPECT_TRUE(admit(*store, request("w1", subjects)).admitted);  // 2 + 3 in the window, + 1
  const Admission refused = admit(*store, request("w2", subjects));
  expectRefused(refused, "rpm", "key:w", 60);
  // The oldest live bucket (now - 50) frees one request when it leaves.
  EXPECT_GE(refused.retry_after.count(), 8);
  EXPECT_LE(refused.retry_after.count(), 10);
  EXPECT_EQ(hashField("sy:{key:w}:rpm", "sum"), 6);
  EXPECT_EQ(raw({"HEXISTS", "sy:{key:w}:rpm", sec(-75)}).integer, 0);  // folded away
  EXPECT_GE(hashField("sy:{key:w}:rpm", "from"), now - 59);
  EXPECT_GE(hashField("sy:{key:w}:rpm", "head"), now);
  // A window whose latest second has left starts afresh.
  raw({"DEL", "sy:{key:v}:rpm"});
  raw({"HSET", "sy:{key:v}:rpm", sec(-90), "7", sec(-61), "9", "sum", "16", "from", sec(-90),
       "head", sec(-61)});
  EXPECT_TRUE(admit(*store, request("v1", {{"key:v", limits(1)}})).admitted);
  EXPECT_EQ(hashField("sy:{key:v}:rpm", "sum"), 1);
  EXPECT_EQ(raw({"HLEN", "sy:{key:v}:rpm"}).integer, 4);  // one second, sum, from, head
}

TEST_F(RedisLimitStoreTest, WindowWithoutRunningTotalsIsRebuiltOnce) {
  auto store = makeStore();
  const int64_t now = std::stoll(raw({"TIME"}).elements.at(0).str);
  // As written before running totals: second fields only.
  raw({"HSET", "sy:{key:l}:tpm", std::to_string(now - 75), "400", std::to_string(now - 20), "300"});
  const std::vector<LimitSubject> subjects = {{"key:l", limits(0, 1000)}};
  EXPECT_TRUE(admit(*store, request("l1", subjects, 700)).admitted);  // 300 + 700
  expectRefused(admit(*store, request("l2", subjects, 1)), "tpm", "key:l", 60);
  EXPECT_EQ(hashField("sy:{key:l}:tpm", "sum"), 1000);
  EXPECT_EQ(raw({"HEXISTS", "sy:{key:l}:tpm", std::to_string(now - 75)}).integer, 0);
}

TEST_F(RedisLimitStoreTest, SecondsAfterAClockStepBackAreNotCounted) {
  auto store = makeStore();
  const int64_t now = std::stoll(raw({"TIME"}).elements.at(0).str);
  // Counted by a server whose clock was 100 s ahead (a failover to a skewed replica).
  raw({"HSET", "sy:{key:c}:rpm", std::to_string(now + 100), "5", std::to_string(now - 10), "1",
       "sum", "6", "from", std::to_string(now - 10), "head", std::to_string(now + 100)});
  const std::vector<LimitSubject> subjects = {{"key:c", limits(2)}};
  EXPECT_TRUE(admit(*store, request("c1", subjects)).admitted);  // 1 in the window, + 1
  expectRefused(admit(*store, request("c2", subjects)), "rpm", "key:c", 60);
  EXPECT_EQ(hashField("sy:{key:c}:rpm", "sum"), 7);  // the future second stays counted in sum
  EXPECT_EQ(hashField("sy:{key:c}:rpm", "head"), now + 100);
}

TEST_F(RedisLimitStoreTest, SteadyStateAdmitAndSettleDoConstantWork) {
  auto store = makeStore();
  const std::vector<LimitSubject> subjects = {{"key:s", limits(1000, 1'000'000, 100, 1, 1)},
                                              {"team:s", limits(1000, 1'000'000, 100, 1, 1)}};
  const auto first = request("s0", subjects, 100, 10);
  EXPECT_TRUE(admit(*store, first).admitted);
  settle(*store, first, 50, 5);
  // A full minute of buckets, as a busy key has.
  const int64_t now = std::stoll(raw({"TIME"}).elements.at(0).str);
  for (const char* key : {"sy:{team:s}:key:s:rpm", "sy:{team:s}:rpm"}) {
    std::vector<std::string> args = {"HSET", key};
    int64_t sum = hashField(key, "sum");
    for (int64_t second = now - 58; second < now - 2; ++second) {
      args.push_back(std::to_string(second));
      args.push_back("1");
      ++sum;
    }
    args.insert(args.end(), {"sum", std::to_string(sum), "from", std::to_string(now - 58)});
    raw(args);
  }
  EXPECT_EQ(raw({"CONFIG", "RESETSTAT"}).str, "OK");
  for (int i = 1; i <= 20; ++i) {
    const auto req = request("s" + std::to_string(i), subjects, 100, 10);
    EXPECT_TRUE(admit(*store, req).admitted);
    settle(*store, req, 50, 5);
  }
  const std::string stats = raw({"INFO", "commandstats"}).str;
  // No full read of a window hash: only its running total and the seconds that left.
  EXPECT_EQ(stats.find("cmdstat_hgetall"), std::string::npos) << stats;
}

TEST_F(RedisLimitStoreTest, RecordsLatencyAndErrorsInMetrics) {
  observability::GatewayMetrics metrics;
  policies::StateConfig config;
  config.store = policies::StateConfig::Store::Redis;
  config.redis_url = url();
  config.redis_timeout = 100ms;
  auto store = makeRedisLimitStore(config, &metrics);
  ASSERT_TRUE(store) << store.error().message;
  const auto req = request("m1", {{"key:m", limits(10)}});
  EXPECT_TRUE(admit(**store, req).admitted);
  settle(**store, req, 1, 0);
  std::string text = metrics.serialize();
  EXPECT_NE(text.find("switchyard_redis_duration_seconds_count{op=\"admit\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("switchyard_redis_duration_seconds_count{op=\"settle\"} 1"),
            std::string::npos);
  server_.stop();
  EXPECT_FALSE(run((*store)->admit(request("m2", {{"key:m", limits(10)}}))));
  text = metrics.serialize();
  EXPECT_NE(text.find("switchyard_redis_errors_total{op=\"admit\",reason=\"unavailable\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("switchyard_redis_errors_total{op=\"settle\",reason=\"error\"} 0"),
            std::string::npos);
}

// rediss:// with an ACL user: the certificate is checked against the CA (SSL_CERT_FILE, which
// OpenSSL's default trust store honours) and must name the host; AUTH user password follows.
TEST_F(RedisLimitStoreTest, TlsAndAclUserFromTheUrl) {
  const std::string dir = server_.dir();
  const std::string make_certs =
      "cd '" + dir +
      "' && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt "
      "-days 2 -subj /CN=sy-test-ca && openssl req -newkey rsa:2048 -nodes -keyout server.key "
      "-out server.csr -subj /CN=localhost && printf 'subjectAltName=DNS:localhost\\n' > ext.cnf "
      "&& "
      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt "
      "-days 2 -extfile ext.cnf";
  // openssl and Debian's redis-server (built with TLS) come from scripts/install-deps: a missing
  // one fails the test instead of passing it unseen.
  ASSERT_EQ(std::system(("(" + make_certs + ") >/dev/null 2>&1").c_str()), 0)
      << "openssl could not make test certificates";
  RedisServer tls_server;
  const uint16_t tls_port = freeLoopbackPort();
  ASSERT_TRUE(tls_server.start(*binary_, 0,
                               {"--tls-port", std::to_string(tls_port), "--tls-cert-file",
                                dir + "/server.crt", "--tls-key-file", dir + "/server.key",
                                "--tls-ca-cert-file", dir + "/ca.crt", "--tls-auth-clients", "no"}))
      << "this redis-server does not start with TLS";
  {
    redis::Options plain = rawOptions();
    plain.port = tls_server.port();
    redis::Client admin(plain);
    const Result<Reply> acl = run(admin.command(
        {"ACL", "SETUSER", "limiter", "on", ">s3cret", "~sy:*", "+@all", "-@dangerous", "+info"}));
    ASSERT_TRUE(acl && acl->str == "OK") << (acl ? acl->str : acl.error().message);
  }
  const std::string url = "rediss://limiter:s3cret@localhost:" + std::to_string(tls_port) + "/0";
  ::setenv("SSL_CERT_FILE", (dir + "/ca.crt").c_str(), 1);
  auto store = makeStore(2000ms, url);
  const std::vector<LimitSubject> subjects = {{"key:tls", limits(1)}};
  const Result<Admission> first = run(store->admit(request("t1", subjects)));
  ::unsetenv("SSL_CERT_FILE");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(first->admitted);
  expectRefused(admit(*store, request("t2", subjects)), "rpm", "key:tls", 60);
  // The certificate names localhost, not 127.0.0.1; and without the CA it is not trusted.
  for (const std::string& wrong :
       {"rediss://limiter:s3cret@127.0.0.1:" + std::to_string(tls_port) + "/0", url}) {
    if (wrong != url) {
      ::setenv("SSL_CERT_FILE", (dir + "/ca.crt").c_str(), 1);
    }
    auto untrusted = makeStore(2000ms, wrong);
    const Result<Admission> refused = run(untrusted->admit(request("t3", subjects)));
    ::unsetenv("SSL_CERT_FILE");
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("TLS handshake failed"), std::string::npos)
        << refused.error().message;
    EXPECT_EQ(refused.error().message.find("s3cret"), std::string::npos);
  }
  // A wrong password is refused by AUTH, named as such.
  ::setenv("SSL_CERT_FILE", (dir + "/ca.crt").c_str(), 1);
  auto wrong_password =
      makeStore(2000ms, "rediss://limiter:nope@localhost:" + std::to_string(tls_port) + "/0");
  const Result<Admission> denied = run(wrong_password->admit(request("t4", subjects)));
  ::unsetenv("SSL_CERT_FILE");
  ASSERT_FALSE(denied);
  EXPECT_NE(denied.error().message.find("AUTH failed"), std::string::npos)
      << denied.error().message;
}

// The scripts take the caller's UTC day and month as a hint (ARGV[1..5]) and use it only when
// its day index is Redis's: a replica whose clock is on another day gets Redis's periods.
TEST_F(RedisLimitStoreTest, PeriodsComeFromRedisTimeWhenTheCallersDayDisagrees) {
  const auto [day, month] = periods();
  const std::vector<std::string> scripts = redisLimitScripts();
  ASSERT_EQ(scripts.size(), 2u);
  // The six keys a script declares for one subject, with the caller's (wrong) period names.
  const std::vector<std::string> keys = {"6",
                                         "sy:{key:h}:rpm",
                                         "sy:{key:h}:tpm",
                                         "sy:{key:h}:lease",
                                         "sy:{key:h}:reserved",
                                         "sy:{key:h}:day:1970-01-01",
                                         "sy:{key:h}:month:1970-01"};
  const auto eval = [&](const std::string& script, std::vector<std::string> args) {
    std::vector<std::string> command = {"EVAL", script};
    command.insert(command.end(), keys.begin(), keys.end());
    command.insert(command.end(), args.begin(), args.end());
    return raw(std::move(command));
  };
  // admit: tokens 10, micro 5000, id, lease ttl, output 0, least 0, per 0; limits: day budget.
  for (const std::string& hint_day : {std::string("0"), std::string("99999")}) {
    const Reply admitted = eval(
        scripts[0], {hint_day, "1970-01-01", "1970-01", "0", "31", "10", "5000", "h-" + hint_day,
                     "600000", "0", "0", "0", "0", "0", "0", "1000000000", "0"});
    ASSERT_EQ(admitted.type, Reply::Type::Array) << admitted.str;
    EXPECT_EQ(admitted.elements.at(0).integer, 1);
  }
  EXPECT_EQ(hashField("sy:{key:h}:day:" + day, "reserved"), 10000);
  EXPECT_EQ(hashField("sy:{key:h}:month:" + month, "reserved"), 10000);
  EXPECT_EQ(raw({"EXISTS", "sy:{key:h}:day:1970-01-01"}).integer, 0);
  // settle with a wrong hint releases from the right periods and records the spend there.
  const Reply settled =
      eval(scripts[1], {"0", "1970-01-01", "1970-01", "0", "31", "10", "700", "h-0"});
  ASSERT_EQ(settled.type, Reply::Type::Integer) << settled.str;
  EXPECT_EQ(hashField("sy:{key:h}:day:" + day, "reserved"), 5000);
  EXPECT_EQ(hashField("sy:{key:h}:day:" + day, "spent"), 700);
  EXPECT_EQ(hashField("sy:{key:h}:month:" + month, "spent"), 700);
  EXPECT_EQ(hashField("sy:{key:h}:month:" + month, "reserved"), 5000);  // this month's: released
  // The day's key expires a day after the day ends, computed from Redis's clock too.
  const int64_t now = std::stoll(raw({"TIME"}).elements.at(0).str);
  const int64_t ttl = raw({"TTL", "sy:{key:h}:day:" + day}).integer;
  EXPECT_GT(ttl, 86400);
  EXPECT_LE(ttl, (now / 86400 + 1) * 86400 + 86400 - now);
}

TEST_F(RedisLimitStoreTest, NoSubjectsAdmitsWithoutTouchingRedis) {
  auto store = makeStore(100ms, "redis://127.0.0.1:1/0");  // nothing listens there
  const Result<Admission> result = run(store->admit(request("r1", {})));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_TRUE(result->admitted);
}

TEST_F(RedisLimitStoreTest, ScriptFlushFallsBackToEval) {
  auto store = makeStore();
  const std::vector<LimitSubject> subjects = {{"key:a", limits(2)}};
  EXPECT_TRUE(admit(*store, request("r1", subjects)).admitted);
  EXPECT_EQ(raw({"SCRIPT", "FLUSH"}).str, "OK");
  EXPECT_TRUE(admit(*store, request("r2", subjects)).admitted);  // NOSCRIPT, then EVAL
  expectRefused(admit(*store, request("r3", subjects)), "rpm", "key:a", 60);
}

TEST_F(RedisLimitStoreTest, SelectsTheDatabaseOfTheUrl) {
  auto store = makeStore(1000ms, url().substr(0, url().size() - 1) + "5");
  EXPECT_TRUE(admit(*store, request("r1", {{"key:a", limits(2)}})).admitted);
  EXPECT_TRUE(keys().empty());   // db 0
  raw({"SELECT", "5"});          // the raw client's one connection on io_ now reads db 5
  EXPECT_EQ(keys().size(), 3u);  // rpm, lease, reserved
}

TEST_F(RedisLimitStoreTest, ThreeReplicasEnforceOneGlobalLimitExactly) {
  constexpr int kReplicas = 3;
  constexpr int kRequests = 1000;
  constexpr uint32_t kRpm = 100;
  std::vector<std::unique_ptr<LimitStore>> stores;
  for (int i = 0; i < kReplicas; ++i) {
    // Generous timeout: this measures exactness on a 2-core machine, not latency.
    stores.push_back(makeStore(5000ms));
  }
  std::atomic<int> admitted = 0;
  std::atomic<int> refused = 0;
  std::atomic<int> errors = 0;
  std::latch start(kReplicas);
  std::vector<std::thread> threads;
  const auto began = Clock::now();
  for (int r = 0; r < kReplicas; ++r) {
    threads.emplace_back([&, r] {
      net::io_context io;
      const int count = kRequests / kReplicas + (r < kRequests % kReplicas ? 1 : 0);
      std::atomic<int> done = 0;
      start.arrive_and_wait();
      for (int i = 0; i < count; ++i) {
        net::co_spawn(
            io,
            [&, i]() -> net::awaitable<void> {
              const auto req = request("rep" + std::to_string(r) + "-" + std::to_string(i),
                                       {{"key:burst", limits(kRpm)}, {"team:burst", limits(0)}});
              Result<Admission> result = co_await stores[r]->admit(req);
              if (!result) {
                ++errors;
              } else if (result->admitted) {
                ++admitted;
              } else {
                ++refused;
              }
              ++done;
            },
            net::detached);
      }
      const auto give_up = Clock::now() + 30s;
      while (done < count && Clock::now() < give_up) {
        io.run_one_for(100ms);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began);
  std::printf(
      "[ exactness ] %d replicas, %d concurrent admits, rpm %u: admitted %d, refused %d, "
      "errors %d, overshoot %d, %lld ms\n",
      kReplicas, kRequests, kRpm, admitted.load(), refused.load(), errors.load(),
      admitted.load() - static_cast<int>(kRpm), static_cast<long long>(elapsed.count()));
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(admitted.load(), static_cast<int>(kRpm));
  EXPECT_EQ(admitted.load() + refused.load() + errors.load(), kRequests);
}

TEST_F(RedisLimitStoreTest, PerOperationLatency) {
  auto store = makeStore();
  constexpr int kRounds = 2000;
  std::vector<double> admit_us;
  std::vector<double> settle_us;
  const std::vector<LimitSubject> subjects = {
      {"key:lat", limits(1'000'000, 1'000'000'000, 1000, 1e6, 1e6)},
      {"team:lat", limits(1'000'000, 1'000'000'000, 1000, 1e6, 1e6)}};
  for (int i = 0; i < kRounds; ++i) {
    const auto req = request("lat" + std::to_string(i), subjects, 500, 300);
    auto t0 = Clock::now();
    const Admission admission = admit(*store, req);
    auto t1 = Clock::now();
    settle(*store, req, 200, 100);
    auto t2 = Clock::now();
    ASSERT_TRUE(admission.admitted) << admission.limit;
    admit_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    settle_us.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
  }
  auto report = [](const char* what, std::vector<double>& samples) {
    std::sort(samples.begin(), samples.end());
    std::printf(
        "[ latency ] %s (key + team, sequential, loopback): p50 %.0f us, p99 %.0f us, "
        "max %.0f us\n",
        what, samples[samples.size() / 2], samples[samples.size() * 99 / 100], samples.back());
  };
  report("admit", admit_us);
  report("settle", settle_us);
  // Redis's own share: the scripts' execution time per call.
  const std::string stats = raw({"INFO", "commandstats"}).str;
  if (const size_t at = stats.find("cmdstat_evalsha:"); at != std::string::npos) {
    std::printf("[ latency ] in redis: %s\n", stats.substr(at, stats.find('\r', at) - at).c_str());
  }
}

TEST_F(RedisLimitStoreTest, RedisDownIsAnErrorWithinTheTimeoutAndRecoversAfterRestart) {
  auto store = makeStore(100ms);
  const std::vector<LimitSubject> subjects = {{"key:a", limits(100)}};
  EXPECT_TRUE(admit(*store, request("r1", subjects)).admitted);
  server_.stop();
  for (int attempt = 0; attempt < 3; ++attempt) {
    const auto t0 = Clock::now();
    const Result<Admission> result = run(store->admit(request("down", subjects)));
    const auto elapsed = Clock::now() - t0;
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ErrorCode::Unavailable);
    EXPECT_EQ(result.error().code_id, "limit_store_unavailable");
    EXPECT_NE(result.error().message.find("127.0.0.1:" + std::to_string(server_.port())),
              std::string::npos)
        << result.error().message;
    EXPECT_LT(elapsed, 100ms + 150ms) << result.error().message;
    std::printf("[ down ] %s (%lld us)\n", result.error().message.c_str(),
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()));
  }
  // settle() swallows the error (logs it) and returns.
  settle(*store, request("r1", subjects), 1, 1);
  ASSERT_TRUE(server_.start(*binary_, server_.port()));
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

TEST_F(RedisLimitStoreTest, HungRedisTimesOutAndRecovers) {
  auto store = makeStore(200ms);
  const std::vector<LimitSubject> subjects = {{"key:a", limits(1000)}};
  EXPECT_TRUE(admit(*store, request("r1", subjects)).admitted);
  server_.pause();
  for (const char* id : {"hung1", "hung2"}) {  // in flight on the connection; then reconnecting
    const auto t0 = Clock::now();
    const Result<Admission> result = run(store->admit(request(id, subjects)));
    const auto elapsed = Clock::now() - t0;
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code_id, "limit_store_unavailable");
    EXPECT_GE(elapsed, 190ms);
    EXPECT_LT(elapsed, 200ms + 300ms);
    std::printf("[ hung ] %s (%lld ms)\n", result.error().message.c_str(),
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));
  }
  server_.resume();
  const auto give_up = Clock::now() + 3s;
  bool recovered = false;
  while (!recovered && Clock::now() < give_up) {
    const Result<Admission> result = run(store->admit(request("back", subjects)));
    recovered = result && result->admitted;
    if (!recovered) {
      std::this_thread::sleep_for(20ms);
    }
  }
  EXPECT_TRUE(recovered);
}

TEST_F(RedisLimitStoreTest, WrongDatabaseIsAnErrorNamingTheStep) {
  auto store = makeStore(500ms, "redis://127.0.0.1:" + std::to_string(server_.port()) + "/99");
  const Result<Admission> result = run(store->admit(request("r1", {{"key:a", limits(1)}})));
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("SELECT 99 failed"), std::string::npos)
      << result.error().message;
}

TEST_F(RedisLimitStoreTest, StoreAndContextMayDieInEitherOrder) {
  {
    auto io = std::make_unique<net::io_context>();
    auto store = makeStore();
    bool done = false;
    bool admitted = false;
    net::co_spawn(
        *io,
        [&]() -> net::awaitable<void> {
          const AdmitRequest req = request("a", {{"key:a", limits(5)}});
          auto admission = co_await store->admit(req);
          admitted = admission.has_value() && admission->admitted;
          done = true;
        },
        net::detached);
    while (!done) {
      io->run_one_for(100ms);
    }
    EXPECT_TRUE(admitted);
    io.reset();     // the context first: its connection goes with it
    store.reset();  // then the store finds nothing to close
  }
  {
    auto io = std::make_unique<net::io_context>();
    auto store = makeStore();
    bool done = false;
    bool admitted = false;
    net::co_spawn(
        *io,
        [&]() -> net::awaitable<void> {
          const AdmitRequest req = request("b", {{"key:a", limits(5)}});
          auto admission = co_await store->admit(req);
          admitted = admission.has_value() && admission->admitted;
          done = true;
        },
        net::detached);
    while (!done) {
      io->run_one_for(100ms);
    }
    EXPECT_TRUE(admitted);
    store.reset();  // the store first: the close is posted to the context
    io->run_for(50ms);
    io.reset();
  }
}

}  // namespace
}  // namespace sy::server
