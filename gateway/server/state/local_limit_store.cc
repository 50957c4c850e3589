// The in-process LimitStore: one policies::LimitState behind a mutex, with the spend (budgets)
// persisted to SQLite by a write-behind thread. Rate windows and concurrency leases live in
// memory only, so a restart resets them (at worst one extra minute of rpm/tpm, and in-flight
// requests of the old process no longer hold slots); spend survives, up to the last second
// before a crash. One process per database file: rows hold absolute values, the last writer wins.

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "gateway/server/state/limit_store.h"
#include "gateway/server/state/sqlite_handles.h"
#include "observability/logging.h"

namespace sy::server {
namespace {

using policies::SpendRecord;
using SpendKey = std::pair<std::string, std::string>;  // (scope, period)

constexpr std::chrono::seconds kWriteInterval{1};
constexpr int kBusyTimeoutMs = 1000;

using sqlite::columnText;
using sqlite::DbHandle;
using sqlite::Statement;

// The `spend` table of one database file. Not thread-safe: the store serializes its use.
class SpendDb {
 public:
  // Opens or creates the database, enables WAL and checks (or creates) the table. Fails with a
  // message naming the path when the file cannot be opened, is not a database, or holds a
  // `spend` table of another shape.
  static Result<SpendDb> open(const std::string& path) {
    sqlite3* raw = nullptr;
    const int rc =
        sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    SpendDb db(path, DbHandle(raw));
    if (rc != SQLITE_OK) {
      return db.fail("cannot open");
    }
    sqlite3_busy_timeout(raw, kBusyTimeoutMs);
    // WAL: the writer thread never blocks readers of the file (backups, `sqlite3` inspection).
    if (!db.exec("PRAGMA journal_mode=WAL") || !db.exec("PRAGMA synchronous=NORMAL") ||
        !db.exec("CREATE TABLE IF NOT EXISTS spend(scope TEXT NOT NULL, period TEXT NOT NULL, "
                 "micro_usd INTEGER NOT NULL, PRIMARY KEY(scope, period))")) {
      return db.fail("cannot initialize");
    }
    if (auto status = db.checkSchema(); !status) {
      return std::unexpected(status.error());
    }
    db.upsert_ = db.prepare(
        "INSERT INTO spend(scope, period, micro_usd) VALUES(?1, ?2, ?3) "
        "ON CONFLICT(scope, period) DO UPDATE SET micro_usd = excluded.micro_usd");
    if (!db.upsert_) {
      return db.fail("cannot prepare the spend upsert");
    }
    return db;
  }

  // Rows whose period sorts at or after `since` ("2026-11" selects that month and its days).
  Result<std::vector<SpendRecord>> load(const std::string& since) {
    Statement select = prepare("SELECT scope, period, micro_usd FROM spend WHERE period >= ?1");
    if (!select) {
      return fail("cannot read spend");
    }
    sqlite3_bind_text(select.get(), 1, since.c_str(), -1, SQLITE_TRANSIENT);
    std::vector<SpendRecord> records;
    int rc;
    while ((rc = sqlite3_step(select.get())) == SQLITE_ROW) {
      records.push_back({columnText(select.get(), 0), columnText(select.get(), 1),
                         sqlite3_column_int64(select.get(), 2)});
    }
    if (rc != SQLITE_DONE) {
      return fail("cannot read spend");
    }
    return records;
  }

  // Upserts every record in one transaction: all or nothing.
  Status write(const std::map<SpendKey, int64_t>& records) {
    if (!exec("BEGIN IMMEDIATE")) {
      return fail("cannot write spend");
    }
    for (const auto& [key, micro_usd] : records) {
      sqlite3_stmt* upsert = upsert_.get();
      sqlite3_reset(upsert);
      sqlite3_bind_text(upsert, 1, key.first.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(upsert, 2, key.second.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(upsert, 3, micro_usd);
      if (sqlite3_step(upsert) != SQLITE_DONE) {
        auto error = fail("cannot write spend");
        sqlite3_reset(upsert);
        exec("ROLLBACK");
        return error;
      }
    }
    sqlite3_reset(upsert_.get());
    if (!exec("COMMIT")) {
      auto error = fail("cannot write spend");
      exec("ROLLBACK");
      return error;
    }
    return {};
  }

  const std::string& path() const { return path_; }

 private:
  SpendDb(std::string path, DbHandle db) : path_(std::move(path)), db_(std::move(db)) {}

  bool exec(const char* sql) { return sqlite::exec(db_.get(), sql); }
  Statement prepare(const char* sql) { return sqlite::prepare(db_.get(), sql); }

  std::unexpected<Error> fail(std::string_view what) const {
    const char* detail = db_ ? sqlite3_errmsg(db_.get()) : "out of memory";
    return makeError(ErrorCode::Unavailable, ErrorSource::Config,
                     "state.sqlite_path '" + path_ + "': " + std::string(what) + ": " + detail);
  }

  // The table must be exactly spend(scope TEXT, period TEXT, micro_usd INTEGER) keyed by
  // (scope, period): anything else is another program's table, not ours to write into.
  Status checkSchema() {
    Statement info = prepare("SELECT name, upper(type), pk FROM pragma_table_info('spend')");
    if (!info) {
      return fail("cannot read the schema");
    }
    std::string found;
    while (sqlite3_step(info.get()) == SQLITE_ROW) {
      found += (found.empty() ? "" : ", ") + columnText(info.get(), 0) + " " +
               columnText(info.get(), 1) +
               (sqlite3_column_int(info.get(), 2) > 0
                    ? " pk" + std::to_string(sqlite3_column_int(info.get(), 2))
                    : "");
    }
    if (found != "scope TEXT pk1, period TEXT pk2, micro_usd INTEGER") {
      return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                       "state.sqlite_path '" + path_ + "': table spend has columns (" + found +
                           "), expected (scope TEXT, period TEXT, micro_usd INTEGER, PRIMARY "
                           "KEY(scope, period))");
    }
    return {};
  }

  std::string path_;
  DbHandle db_;
  Statement upsert_;
};

class LocalLimitStore final : public LimitStore {
 public:
  LocalLimitStore(SpendDb db, policies::LimitState state)
      : state_(std::move(state)), db_(std::move(db)), writer_([this] { writeLoop(); }) {}

  ~LocalLimitStore() override {
    {
      std::lock_guard lock(stop_mu_);
      stopping_ = true;
    }
    stop_cv_.notify_one();
    writer_.join();
    writeDirty();
  }

  // sy::server::LimitStore
  net::awaitable<Result<Admission>> admit(const AdmitRequest& request) override {
    co_return admitNow(request);
  }
  net::awaitable<void> settle(const AdmitRequest& request, const Usage& used) override {
    settleNow(request, used);
    co_return;
  }
  void flush() override { writeDirty(); }

 private:
  // The critical section is one LimitState call: a few map lookups and sums over 60 buckets per
  // subject, no I/O and no allocation beyond new scopes/leases. Workers contend for
  // microseconds at most; SQLite is only touched by writeDirty(), under another mutex.
  Admission admitNow(const AdmitRequest& request) {
    const auto now = std::chrono::system_clock::now();
    std::lock_guard lock(state_mu_);
    return state_.admit(request, now);
  }
  void settleNow(const AdmitRequest& request, const Usage& used) {
    const auto now = std::chrono::system_clock::now();
    std::lock_guard lock(state_mu_);
    state_.settle(request, used, now);
  }

  void writeLoop() {
    std::unique_lock lock(stop_mu_);
    while (!stop_cv_.wait_for(lock, kWriteInterval, [this] { return stopping_; })) {
      lock.unlock();
      writeDirty();
      lock.lock();
    }
  }

  // Moves the dirty spend into pending_ and upserts pending_. On failure pending_ is kept for the
  // next round (newer values of the same key replace older ones, so nothing is lost or reverted).
  void writeDirty() {
    std::lock_guard write_lock(write_mu_);
    std::vector<SpendRecord> dirty;
    {
      std::lock_guard lock(state_mu_);
      dirty = state_.dirtySpend();
    }
    for (SpendRecord& record : dirty) {
      pending_[{std::move(record.scope), std::move(record.period)}] = record.micro_usd;
    }
    if (pending_.empty()) {
      return;
    }
    if (auto status = db_.write(pending_); !status) {
      if (!write_failing_) {
        log::error("limit store: cannot persist spend; retrying every second",
                   {{"path", db_.path()}, {"error", status.error().message}});
      }
      write_failing_ = true;
      return;
    }
    if (write_failing_) {
      log::info("limit store: persisting spend again", {{"path", db_.path()}});
    }
    write_failing_ = false;
    pending_.clear();
  }

  std::mutex state_mu_;  // guards state_
  policies::LimitState state_;

  std::mutex write_mu_;  // serializes writeDirty(): the writer thread, flush(), the destructor
  SpendDb db_;
  std::map<SpendKey, int64_t> pending_;  // taken from state_, not yet committed
  bool write_failing_ = false;

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread writer_;  // last: started once everything above is built
};

}  // namespace

Result<std::unique_ptr<LimitStore>> makeLocalLimitStore(const policies::StateConfig& config) {
  auto db = SpendDb::open(config.sqlite_path);
  if (!db) {
    return std::unexpected(db.error());
  }
  const auto now = std::chrono::system_clock::now();
  // Older periods stay in the file (history) but never count again.
  auto records = db->load(policies::LimitState::monthPeriod(now));
  if (!records) {
    return std::unexpected(records.error());
  }
  policies::LimitState state;
  state.loadSpend(*records, now);
  return std::make_unique<LocalLimitStore>(std::move(*db), std::move(state));
}

}  // namespace sy::server
