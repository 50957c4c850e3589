#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <latch>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gateway/server/state/limit_store.h"

namespace sy::server {
namespace {

namespace fs = std::filesystem;
using policies::LimitState;

// A database path unique to the test, removed (with its -wal and -shm files) before and after.
class TempDb {
 public:
  TempDb() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = (fs::temp_directory_path() /
             ("sy_limit_store_" + std::to_string(::getpid()) + "_" + info->name() + ".db"))
                .string();
    remove();
  }
  ~TempDb() { remove(); }
  const std::string& path() const { return path_; }

 private:
  void remove() const {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::error_code ignored;
      fs::remove(path_ + suffix, ignored);
    }
  }
  std::string path_;
};

// Runs `sql` on its own connection; returns "" or the error.
std::string execSql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  std::string error = rc == SQLITE_OK ? "" : (message ? message : "error");
  sqlite3_free(message);
  sqlite3_close(db);
  return error;
}

// The micro_usd of a row, or nullopt when absent.
std::optional<int64_t> spendRow(const std::string& path, const std::string& scope,
                                const std::string& period) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* select = nullptr;
  sqlite3_prepare_v2(db, "SELECT micro_usd FROM spend WHERE scope = ?1 AND period = ?2", -1,
                     &select, nullptr);
  sqlite3_bind_text(select, 1, scope.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(select, 2, period.c_str(), -1, SQLITE_TRANSIENT);
  std::optional<int64_t> value;
  if (sqlite3_step(select) == SQLITE_ROW) {
    value = sqlite3_column_int64(select, 0);
  }
  sqlite3_finalize(select);
  sqlite3_close(db);
  return value;
}

std::unique_ptr<LimitStore> makeStore(const std::string& path) {
  policies::StateConfig config;
  config.sqlite_path = path;
  auto store = makeLocalLimitStore(config);
  EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().message);
  return store ? std::move(*store) : nullptr;
}

Admission admitSync(LimitStore& store, const AdmitRequest& request) {
  net::io_context io;
  std::optional<Result<Admission>> result;
  net::co_spawn(io, store.admit(request), [&](std::exception_ptr error, Result<Admission> value) {
    if (error) {
      std::rethrow_exception(error);
    }
    result = std::move(value);
  });
  io.run();
  EXPECT_TRUE(result && result->has_value());
  return result && *result ? **result : Admission{};
}

void settleSync(LimitStore& store, const AdmitRequest& request, const Usage& used) {
  net::io_context io;
  net::co_spawn(io, store.settle(request, used), [](std::exception_ptr error) {
    if (error) {
      std::rethrow_exception(error);
    }
  });
  io.run();
}

AdmitRequest monthBudgetRequest(std::string id, int64_t micro_usd) {
  return AdmitRequest{{{"key:a", {.budget_month_usd = 1.0}}}, 0, micro_usd, std::move(id)};
}

TEST(LocalLimitStoreTest, SpendSurvivesDestroyingAndRecreatingTheStore) {
  TempDb db;
  {
    auto store = makeStore(db.path());
    ASSERT_NE(store, nullptr);
    const auto request = monthBudgetRequest("a", 900'000);
    ASSERT_TRUE(admitSync(*store, request).admitted);
    settleSync(*store, request, {.tokens = 10, .micro_usd = 700'000});
  }  // the destructor writes the last spend
  auto store = makeStore(db.path());
  ASSERT_NE(store, nullptr);
  const Admission refused = admitSync(*store, monthBudgetRequest("b", 300'001));
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.limit, "budget_month");
  EXPECT_EQ(refused.scope, "key:a");
  EXPECT_TRUE(admitSync(*store, monthBudgetRequest("c", 300'000)).admitted);
}

TEST(LocalLimitStoreTest, FlushWritesTheDayAndMonthSpendRows) {
  TempDb db;
  auto store = makeStore(db.path());
  ASSERT_NE(store, nullptr);
  const auto now = std::chrono::system_clock::now();
  const AdmitRequest request{{{"team:t", {}}}, 0, 0, "a"};
  ASSERT_TRUE(admitSync(*store, request).admitted);
  settleSync(*store, request, {.micro_usd = 1234});
  store->flush();
  EXPECT_EQ(spendRow(db.path(), "team:t", LimitState::dayPeriod(now)), 1234);
  EXPECT_EQ(spendRow(db.path(), "team:t", LimitState::monthPeriod(now)), 1234);
  EXPECT_EQ(execSql(db.path(), "SELECT 1"), "");
}

TEST(LocalLimitStoreTest, WritesSpendInTheBackgroundWithinAboutASecond) {
  TempDb db;
  auto store = makeStore(db.path());
  ASSERT_NE(store, nullptr);
  const auto month = LimitState::monthPeriod(std::chrono::system_clock::now());
  const AdmitRequest request{{{"key:bg", {}}}, 0, 0, "a"};
  settleSync(*store, request, {.micro_usd = 42});
  // The writer runs every second; poll (bounded) instead of assuming a schedule.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (spendRow(db.path(), "key:bg", month) != 42 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(spendRow(db.path(), "key:bg", month), 42);
}

TEST(LocalLimitStoreTest, LoadsOnlyTheCurrentMonthAndDayFromTheDatabase) {
  TempDb db;
  const auto month = LimitState::monthPeriod(std::chrono::system_clock::now());
  ASSERT_EQ(execSql(db.path(),
                    "CREATE TABLE spend(scope TEXT NOT NULL, period TEXT NOT NULL, micro_usd "
                    "INTEGER NOT NULL, PRIMARY KEY(scope, period));"
                    "INSERT INTO spend VALUES('key:a', '2020-01', 999000000),"
                    "('key:a', '2020-01-15', 999000000), ('key:a', '" +
                        month + "', 900000);"),
            "");
  auto store = makeStore(db.path());
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(admitSync(*store, monthBudgetRequest("a", 100'001)).admitted);
  EXPECT_TRUE(admitSync(*store, monthBudgetRequest("b", 100'000)).admitted);
}

TEST(LocalLimitStoreTest, UnopenablePathFailsNamingThePath) {
  policies::StateConfig config;
  config.sqlite_path = "/nonexistent-switchyard-dir/state.db";
  auto store = makeLocalLimitStore(config);
  ASSERT_FALSE(store.has_value());
  EXPECT_NE(store.error().message.find("/nonexistent-switchyard-dir/state.db"), std::string::npos)
      << store.error().message;
  EXPECT_NE(store.error().message.find("cannot open"), std::string::npos) << store.error().message;
}

TEST(LocalLimitStoreTest, FileThatIsNotADatabaseFailsNamingThePath) {
  TempDb db;
  std::ofstream(db.path()) << "this is not an SQLite database, just some text long enough\n";
  policies::StateConfig config;
  config.sqlite_path = db.path();
  auto store = makeLocalLimitStore(config);
  ASSERT_FALSE(store.has_value());
  EXPECT_NE(store.error().message.find(db.path()), std::string::npos) << store.error().message;
}

TEST(LocalLimitStoreTest, WrongSchemaFailsNamingThePathAndTheColumns) {
  TempDb db;
  ASSERT_EQ(execSql(db.path(), "CREATE TABLE spend(scope TEXT, amount REAL)"), "");
  policies::StateConfig config;
  config.sqlite_path = db.path();
  auto store = makeLocalLimitStore(config);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().message,
            "state.sqlite_path '" + db.path() +
                "': table spend has columns (scope TEXT, amount REAL), expected (scope TEXT, "
                "period TEXT, micro_usd INTEGER, PRIMARY KEY(scope, period))");
}

TEST(LocalLimitStoreTest, ConcurrentAdmitsFromFourThreadsAdmitExactlyTheRpm) {
  TempDb db;
  auto store = makeStore(db.path());
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 60;
  const policies::Limits limits{.rpm = 100};
  std::atomic<int> admitted{0};
  std::atomic<int> refused_rpm{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread is a worker: its own io_context, its coroutines on it.
      net::io_context io;
      std::vector<AdmitRequest> requests;
      for (int i = 0; i < kPerThread; ++i) {
        requests.push_back(
            {{{"key:hot", limits}}, 1, 0, std::to_string(t) + "-" + std::to_string(i)});
      }
      for (const AdmitRequest& request : requests) {
        net::co_spawn(io, store->admit(request), [&](std::exception_ptr, Result<Admission> r) {
          if (r && r->admitted) {
            ++admitted;
          } else if (r && r->limit == "rpm") {
            ++refused_rpm;
          }
        });
      }
      start.arrive_and_wait();
      io.run();
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(admitted.load(), 100);
  EXPECT_EQ(refused_rpm.load(), kThreads * kPerThread - 100);
}

}  // namespace
}  // namespace sy::server
