// The SQLite ResponseStore: table `responses` in the state database, one row per (owner, id)
// with its expiry. Every statement runs on the store's own thread (a one-thread pool) and the
// awaiting coroutine resumes on its worker, so a slow disk delays that request, never a worker.
// Expired rows are never returned and are deleted by the next put; the per-owner bound drops
// the rows put longest ago (the highest rowid is the latest put: INSERT OR REPLACE renumbers).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <utility>

#include "gateway/server/state/response_store.h"
#include "gateway/server/state/sqlite_handles.h"

namespace sy::server {
namespace {

using sqlite::Statement;
using std::chrono::system_clock;

constexpr int kBusyTimeoutMs = 1000;
constexpr std::string_view kColumns =
    "owner TEXT pk1, id TEXT pk2, created_ms INTEGER, expires_ms INTEGER, body BLOB";

int64_t unixMs(system_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
}

// The `responses` table of one database file. Not thread-safe: only the store's thread uses it.
class ResponseDb {
 public:
  static Result<ResponseDb> open(const std::string& path) {
    sqlite3* raw = nullptr;
    const int rc =
        sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    ResponseDb db(path, sqlite::DbHandle(raw));
    if (rc != SQLITE_OK) {
      return db.fail("cannot open");
    }
    sqlite3_busy_timeout(raw, kBusyTimeoutMs);
    if (!db.exec("PRAGMA journal_mode=WAL") || !db.exec("PRAGMA synchronous=NORMAL") ||
        !db.exec("CREATE TABLE IF NOT EXISTS responses(owner TEXT NOT NULL, id TEXT NOT NULL, "
                 "created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, body BLOB NOT NULL, "
                 "PRIMARY KEY(owner, id))")) {
      return db.fail("cannot initialize");
    }
    if (auto status = db.checkSchema(); !status) {
      return std::unexpected(status.error());
    }
    if (!db.exec("CREATE INDEX IF NOT EXISTS responses_expiry ON responses(expires_ms)")) {
      return db.fail("cannot initialize");
    }
    db.purge_ = db.prepare("DELETE FROM responses WHERE expires_ms <= ?1");
    db.insert_ = db.prepare(
        "INSERT OR REPLACE INTO responses(owner, id, created_ms, expires_ms, body) "
        "VALUES(?1, ?2, ?3, ?4, ?5)");
    db.evict_ = db.prepare(
        "DELETE FROM responses WHERE owner = ?1 AND rowid NOT IN (SELECT rowid FROM responses "
        "WHERE owner = ?1 ORDER BY rowid DESC LIMIT ?2)");
    db.select_ = db.prepare(
        "SELECT created_ms, body FROM responses WHERE owner = ?1 AND id = ?2 AND "
        "expires_ms > ?3");
    db.delete_ = db.prepare(
        "DELETE FROM responses WHERE owner = ?1 AND id = ?2 AND expires_ms > ?3");
    if (!db.purge_ || !db.insert_ || !db.evict_ || !db.select_ || !db.delete_) {
      return db.fail("cannot prepare the statements");
    }
    return db;
  }

  // Purge, insert and evict in one transaction: all or nothing.
  Status put(const std::string& id, const std::string& owner, const std::string& body,
             system_clock::time_point created_at, const config::ResponsesSpec& limits) {
    const int64_t now = unixMs(system_clock::now());
    if (!exec("BEGIN IMMEDIATE")) {
      return fail("cannot store a response");
    }
    sqlite3_bind_int64(purge_.get(), 1, now);
    bool ok = step(purge_);
    bindKey(insert_, owner, id);
    sqlite3_bind_int64(insert_.get(), 3, unixMs(created_at));
    sqlite3_bind_int64(insert_.get(), 4, now + limits.ttl.count());
    sqlite3_bind_blob64(insert_.get(), 5, body.data(), body.size(), SQLITE_STATIC);
    ok = ok && step(insert_);
    sqlite3_bind_text(evict_.get(), 1, owner.data(), static_cast<int>(owner.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int64(evict_.get(), 2, limits.max_responses_per_key);
    ok = ok && step(evict_);
    if (!ok || !exec("COMMIT")) {
      auto error = fail("cannot store a response");
      exec("ROLLBACK");
      return error;
    }
    return {};
  }

  Result<std::optional<StoredResponse>> get(const std::string& id, const std::string& owner) {
    bindKey(select_, owner, id);
    sqlite3_bind_int64(select_.get(), 3, unixMs(system_clock::now()));
    std::optional<StoredResponse> found;
    const int rc = sqlite3_step(select_.get());
    if (rc == SQLITE_ROW) {
      const auto* bytes = static_cast<const char*>(sqlite3_column_blob(select_.get(), 1));
      found = StoredResponse{
          std::string(bytes == nullptr ? "" : bytes,
                      static_cast<size_t>(sqlite3_column_bytes(select_.get(), 1))),
          system_clock::time_point(
              std::chrono::milliseconds(sqlite3_column_int64(select_.get(), 0)))};
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      auto error = fail("cannot read a response");
      sqlite3_reset(select_.get());
      return error;
    }
    sqlite3_reset(select_.get());
    return found;
  }

  Result<bool> remove(const std::string& id, const std::string& owner) {
    bindKey(delete_, owner, id);
    sqlite3_bind_int64(delete_.get(), 3, unixMs(system_clock::now()));
    if (!step(delete_)) {
      return fail("cannot delete a response");
    }
    return sqlite3_changes(db_.get()) > 0;
  }

 private:
  ResponseDb(std::string path, sqlite::DbHandle db) : path_(std::move(path)), db_(std::move(db)) {}

  bool exec(const char* sql) { return sqlite::exec(db_.get(), sql); }
  Statement prepare(const char* sql) { return sqlite::prepare(db_.get(), sql); }

  // Binds ?1 owner and ?2 id; both must outlive the statement's next step.
  static void bindKey(const Statement& statement, const std::string& owner,
                      const std::string& id) {
    sqlite3_bind_text(statement.get(), 1, owner.data(), static_cast<int>(owner.size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(statement.get(), 2, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
  }

  // Runs a statement that returns no rows, then resets it and clears its bindings (which
  // borrow the caller's strings).
  static bool step(const Statement& statement) {
    const bool ok = sqlite3_step(statement.get()) == SQLITE_DONE;
    sqlite3_reset(statement.get());
    sqlite3_clear_bindings(statement.get());
    return ok;
  }

  std::unexpected<Error> fail(std::string_view what) const {
    const char* detail = db_ ? sqlite3_errmsg(db_.get()) : "out of memory";
    return makeError(ErrorCode::Unavailable, ErrorSource::Internal,
                     "response store: state.sqlite.path '" + path_ + "': " + std::string(what) +
                         ": " + detail,
                     "response_store_unavailable");
  }

  // Exactly our shape, or another program's table that is not ours to write into.
  Status checkSchema() {
    Statement info = prepare("SELECT name, upper(type), pk FROM pragma_table_info('responses')");
    if (!info) {
      return fail("cannot read the schema");
    }
    std::string found;
    while (sqlite3_step(info.get()) == SQLITE_ROW) {
      const int pk = sqlite3_column_int(info.get(), 2);
      found += (found.empty() ? "" : ", ") + sqlite::columnText(info.get(), 0) + " " +
               sqlite::columnText(info.get(), 1) + (pk > 0 ? " pk" + std::to_string(pk) : "");
    }
    if (found != kColumns) {
      return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                       "state.sqlite.path '" + path_ + "': table responses has columns (" +
                           found + "), expected (" + std::string(kColumns) + ")");
    }
    return {};
  }

  std::string path_;
  sqlite::DbHandle db_;
  Statement purge_, insert_, evict_, select_, delete_;
};

class SqliteResponseStore final : public ResponseStore {
 public:
  explicit SqliteResponseStore(ResponseDb db) : db_(std::move(db)) {}
  // Every operation awaited so far has completed before the database closes.
  ~SqliteResponseStore() override { pool_.join(); }

  // sy::server::ResponseStore
  net::awaitable<Result<PutOutcome>> put(std::string id, std::string owner, std::string body,
                                         system_clock::time_point created_at,
                                         const config::ResponsesSpec& limits) override {
    if (auto status = checkKey(id, owner); !status) {
      co_return std::unexpected(status.error());
    }
    if (body.size() > limits.max_bytes_per_response) {
      co_return PutOutcome::TooLarge;
    }
    co_return co_await onDbThread<Result<PutOutcome>>([&]() -> Result<PutOutcome> {
      if (auto status = db_.put(id, owner, body, created_at, limits); !status) {
        return std::unexpected(status.error());
      }
      return PutOutcome::Stored;
    });
  }

  net::awaitable<Result<std::optional<StoredResponse>>> get(std::string id,
                                                            std::string owner) override {
    if (!isValidResponseId(id) || owner.empty()) {
      co_return std::nullopt;
    }
    co_return co_await onDbThread<Result<std::optional<StoredResponse>>>(
        [&] { return db_.get(id, owner); });
  }

  net::awaitable<Result<bool>> remove(std::string id, std::string owner) override {
    if (!isValidResponseId(id) || owner.empty()) {
      co_return false;
    }
    co_return co_await onDbThread<Result<bool>>([&] { return db_.remove(id, owner); });
  }

 private:
  static Status checkKey(const std::string& id, const std::string& owner) {
    if (!isValidResponseId(id) || owner.empty()) {
      return makeError(ErrorCode::InvalidArgument, ErrorSource::Internal,
                       "response store: invalid response id or owner");
    }
    return {};
  }

  // Runs `work` on the store's thread; the caller resumes on its own executor with the result.
  // `work` may borrow the caller's frame: the caller is suspended until it has run.
  template <class T, class Work>
  net::awaitable<T> onDbThread(Work work) {
    co_return co_await net::co_spawn(
        pool_.get_executor(), [&work]() -> net::awaitable<T> { co_return work(); },
        net::use_awaitable);
  }

  ResponseDb db_;
  net::thread_pool pool_{1};  // the only thread that touches db_
};

}  // namespace

Result<std::unique_ptr<ResponseStore>> makeSqliteResponseStore(
    const policies::StateConfig& config) {
  auto db = ResponseDb::open(config.sqlite_path);
  if (!db) {
    return std::unexpected(db.error());
  }
  return std::make_unique<SqliteResponseStore>(std::move(*db));
}

}  // namespace sy::server
