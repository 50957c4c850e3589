// Both ResponseStores, one semantics: every behaviour of response_store.h runs against the SQLite
// store (a temporary database) and the Redis store (a redis-server child on loopback, as in
// redis_limit_store_test; a missing redis-server fails): put/get round trip, scoping to the
// owner (another key gets nothing and deletes nothing), delete, the size bound, the ttl, the
// per-owner bound dropping the oldest, invalid ids, binary bodies above Redis's old 1 MiB reply
// bound, and state shared by two stores over one database or Redis (restart; two replicas).
// Then what only one of them has: the SQLite schema check, Redis unreachable.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gateway/server/state/response_store.h"
#include "tests/unit/server/redis_test_server.h"

namespace sy::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using std::chrono::system_clock;

enum class Kind { Sqlite, Redis };

config::ResponsesSpec limits(uint64_t max_bytes = 1 << 20, uint32_t per_key = 1000,
                             std::chrono::milliseconds ttl = std::chrono::hours(1)) {
  config::ResponsesSpec spec;
  spec.store = true;
  spec.ttl = ttl;
  spec.max_bytes_per_response = max_bytes;
  spec.max_responses_per_key = per_key;
  return spec;
}

class ResponseStoreTest : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info->name();
    std::replace(name.begin(), name.end(), '/', '_');
    db_path_ = (fs::temp_directory_path() /
                ("sy_response_store_" + std::to_string(::getpid()) + "_" + name + ".db"))
                   .string();
    removeDb();
    if (GetParam() == Kind::Redis) {
      const auto binary = test_redis::findRedisServer();
      if (!binary) {
        GTEST_FAIL() << "redis-server not found: scripts/install-deps installs it";
      }
      ASSERT_TRUE(redis_.start(*binary)) << "redis-server did not start";
    }
    store_ = makeStore();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    removeDb();
  }

  void removeDb() const {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::error_code ignored;
      fs::remove(db_path_ + suffix, ignored);
    }
  }

  // Another store over the same database or Redis: a restarted process, or another replica.
  std::unique_ptr<ResponseStore> makeStore() {
    policies::StateConfig config;
    config.sqlite_path = db_path_;
    config.redis_url = "redis://127.0.0.1:" + std::to_string(redis_.port()) + "/0";
    config.redis_timeout = 2s;
    auto store = GetParam() == Kind::Sqlite ? makeSqliteResponseStore(config)
                                            : makeRedisResponseStore(config);
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
    io_.restart();
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (!result && std::chrono::steady_clock::now() < give_up) {
      io_.run_one_for(100ms);
    }
    if (!result) {
      ADD_FAILURE() << "operation did not complete within 10 s";
      std::abort();
    }
    return std::move(*result);
  }

  PutOutcome put(const std::string& id, const std::string& owner, const std::string& body,
                 const config::ResponsesSpec& spec = limits(), ResponseStore* store = nullptr) {
    auto outcome = run((store ? *store : *store_).put(id, owner, body, created_, spec));
    EXPECT_TRUE(outcome) << outcome.error().message;
    return outcome ? *outcome : PutOutcome::TooLarge;
  }
  std::optional<std::string> get(const std::string& id, const std::string& owner,
                                 ResponseStore* store = nullptr) {
    auto found = run((store ? *store : *store_).get(id, owner));
    EXPECT_TRUE(found) << found.error().message;
    if (!found || !found->has_value()) {
      return std::nullopt;
    }
    return (*found)->body;
  }
  bool remove(const std::string& id, const std::string& owner) {
    auto removed = run(store_->remove(id, owner));
    EXPECT_TRUE(removed) << removed.error().message;
    return removed && *removed;
  }

  net::io_context io_{1};
  test_redis::RedisServer redis_;
  std::string db_path_;
  std::unique_ptr<ResponseStore> store_;
  const system_clock::time_point created_ =
      system_clock::time_point(std::chrono::milliseconds(1'765'000'000'123));
};

TEST_P(ResponseStoreTest, GetReturnsWhatPutStoredWithItsCreationTime) {
  EXPECT_EQ(put("resp_1", "team-a", R"({"id":"resp_1"})"), PutOutcome::Stored);
  auto found = run(store_->get("resp_1", "team-a"));
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->body, R"({"id":"resp_1"})");
  EXPECT_EQ((*found)->created_at, created_);
  EXPECT_EQ(get("resp_2", "team-a"), std::nullopt);
}

TEST_P(ResponseStoreTest, AnotherOwnerGetsNothingAndDeletesNothing) {
  put("resp_1", "key-a", "secret conversation");
  EXPECT_EQ(get("resp_1", "key-b"), std::nullopt);
  EXPECT_FALSE(remove("resp_1", "key-b"));
  EXPECT_EQ(get("resp_1", "key-a"), "secret conversation");
  // The same id under two owners is two records.
  put("resp_1", "key-b", "other");
  EXPECT_EQ(get("resp_1", "key-a"), "secret conversation");
  EXPECT_EQ(get("resp_1", "key-b"), "other");
}

TEST_P(ResponseStoreTest, DeleteRemovesTheRecordOnce) {
  put("resp_1", "k", "x");
  EXPECT_TRUE(remove("resp_1", "k"));
  EXPECT_EQ(get("resp_1", "k"), std::nullopt);
  EXPECT_FALSE(remove("resp_1", "k"));
}

TEST_P(ResponseStoreTest, PutReplacesTheRecordUnderTheSameId) {
  put("resp_1", "k", "first");
  put("resp_1", "k", "second");
  EXPECT_EQ(get("resp_1", "k"), "second");
}

TEST_P(ResponseStoreTest, RecordAboveTheSizeBoundIsNotStored) {
  EXPECT_EQ(put("resp_1", "k", std::string(101, 'x'), limits(100)), PutOutcome::TooLarge);
  EXPECT_EQ(get("resp_1", "k"), std::nullopt);
  EXPECT_EQ(put("resp_2", "k", std::string(100, 'x'), limits(100)), PutOutcome::Stored);
  EXPECT_EQ(get("resp_2", "k"), std::string(100, 'x'));
}

TEST_P(ResponseStoreTest, RecordIsGoneAfterItsTtl) {
  put("resp_1", "k", "short-lived", limits(1 << 20, 1000, 300ms));
  put("resp_2", "k", "long-lived", limits(1 << 20, 1000, 1h));
  EXPECT_EQ(get("resp_1", "k"), "short-lived");
  std::this_thread::sleep_for(450ms);
  EXPECT_EQ(get("resp_1", "k"), std::nullopt);
  EXPECT_FALSE(remove("resp_1", "k"));
  EXPECT_EQ(get("resp_2", "k"), "long-lived");
}

TEST_P(ResponseStoreTest, KeepsAtMostTheBoundPerOwnerDroppingTheOldest) {
  put("resp_other", "other", "kept");
  for (int i = 1; i <= 5; ++i) {
    put("resp_" + std::to_string(i), "k", "turn " + std::to_string(i), limits(1 << 20, 3));
    std::this_thread::sleep_for(2ms);  // distinct put times for Redis's index
  }
  EXPECT_EQ(get("resp_1", "k"), std::nullopt);
  EXPECT_EQ(get("resp_2", "k"), std::nullopt);
  EXPECT_EQ(get("resp_3", "k"), "turn 3");
  EXPECT_EQ(get("resp_5", "k"), "turn 5");
  EXPECT_EQ(get("resp_other", "other"), "kept");
}

TEST_P(ResponseStoreTest, InvalidIdsNameNothingAndCannotBeStored) {
  for (const std::string& bad : std::vector<std::string>{"", "resp:1", "resp 1", "resp_1}", "../x",
                                                         std::string(129, 'a')}) {
    auto stored = run(store_->put(bad, "k", "x", created_, limits()));
    ASSERT_FALSE(stored) << bad;
    EXPECT_EQ(stored.error().code, ErrorCode::InvalidArgument);
    EXPECT_EQ(get(bad, "k"), std::nullopt);
    EXPECT_FALSE(remove(bad, "k"));
  }
  EXPECT_FALSE(run(store_->put("resp_1", "", "x", created_, limits())));
}

TEST_P(ResponseStoreTest, BodiesAreBinarySafeAndMayExceedOneMebibyte) {
  std::string body(3 << 20, 'a');
  body[10] = '\0';
  body.replace(20, 4, "\r\n$5");
  EXPECT_EQ(put("resp_big", "k", body, limits(config::kMaxStoredResponseBytes)),
            PutOutcome::Stored);
  EXPECT_EQ(get("resp_big", "k"), body);
}

TEST_P(ResponseStoreTest, AnotherStoreOverTheSameStateSeesTheRecords) {
  put("resp_1", "k", "shared");
  auto other = makeStore();  // a restarted process (SQLite) or another replica (Redis)
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(get("resp_1", "k", other.get()), "shared");
  put("resp_2", "k", "from the other", limits(), other.get());
  EXPECT_EQ(get("resp_2", "k"), "from the other");
}

INSTANTIATE_TEST_SUITE_P(Stores, ResponseStoreTest, ::testing::Values(Kind::Sqlite, Kind::Redis),
                         [](const ::testing::TestParamInfo<Kind>& info) {
                           return info.param == Kind::Sqlite ? "Sqlite" : "Redis";
                         });

TEST(SqliteResponseStoreTest, TableOfAnotherShapeFailsNamingThePathAndTheColumns) {
  const std::string path =
      (fs::temp_directory_path() / ("sy_response_schema_" + std::to_string(::getpid()) + ".db"))
          .string();
  fs::remove(path);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE responses(id TEXT PRIMARY KEY, body TEXT)", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  policies::StateConfig config;
  config.sqlite_path = path;
  auto store = makeSqliteResponseStore(config);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().message,
            "state.sqlite.path '" + path +
                "': table responses has columns (id TEXT pk1, body TEXT), expected (owner TEXT "
                "pk1, id TEXT pk2, created_ms INTEGER, expires_ms INTEGER, body BLOB)");
  fs::remove(path);
}

TEST(SqliteResponseStoreTest, UnopenablePathFailsNamingThePath) {
  policies::StateConfig config;
  config.sqlite_path = "/nonexistent-dir/state.db";
  auto store = makeSqliteResponseStore(config);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("'/nonexistent-dir/state.db'"), std::string::npos);
}

TEST(RedisResponseStoreTest, UnreachableRedisIsAnErrorWithinTheTimeout) {
  policies::StateConfig config;
  config.redis_url = "redis://127.0.0.1:" + std::to_string(test_redis::freeLoopbackPort());
  config.redis_timeout = 200ms;
  net::io_context io{1};  // before the store: its connections live in the context
  auto store = makeRedisResponseStore(config);
  ASSERT_TRUE(store) << store.error().message;
  std::optional<Result<std::optional<StoredResponse>>> result;
  net::co_spawn(
      io, [&]() -> net::awaitable<void> { result.emplace(co_await (*store)->get("resp_1", "k")); },
      net::detached);
  const auto start = std::chrono::steady_clock::now();
  io.run_for(5s);
  ASSERT_TRUE(result.has_value());
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error().code, ErrorCode::Unavailable);
  EXPECT_TRUE(result->error().message.starts_with("response store: redis 127.0.0.1:"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

}  // namespace
}  // namespace sy::server
