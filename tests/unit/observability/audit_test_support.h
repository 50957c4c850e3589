// Helpers shared by the audit log tests: a temporary directory, sample records, a synchronous
// append (waits on the done callback through a future: no sleeps), and line-level file edits
// for the tampering tests.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <vector>

#include "observability/audit_log.h"
#include "observability/audit_record.h"

namespace sy::observability::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = std::filesystem::temp_directory_path() / "sy-audit-XXXXXX";
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A decision or completion record whose fields depend on `i` (never any prompt text); every
// i % 10 == 7 is a policy reload record instead.
inline AuditRecord sampleRecord(int i) {
  AuditRecord record;
  record.phase = i % 2 == 0 ? "decision" : "completion";
  record.time = "2026-01-02T03:04:05.678Z";
  record.request_id = "req-" + std::to_string(i);
  record.key_id = "analytics-batch";
  record.team = "team-a";
  record.endpoint = "chat";
  record.requested_model = "auto";
  record.model = "llama-3.1-8b";
  record.tier = "local";
  record.backend = "llama-local";
  record.rule = i % 3 == 0 ? "" : "pii-stays-local";
  record.sensitivity = "confidential";
  record.difficulty.score = 0.25;
  record.difficulty.label = "easy";
  record.findings = {{"pii.email", static_cast<uint64_t>(i % 4), "redact"}};
  record.outcome = "forwarded";
  record.status = i % 2 == 0 ? 0 : 200;
  record.tokens = {static_cast<uint64_t>(100 + i), static_cast<uint64_t>(20 + i)};
  record.cost_usd = 0.000125 * i;
  record.latency_ms = 12.5 + i;
  record.policy_version = "3f2a9c0d1e4b5a67";
  if (i % 10 == 7) {  // the policy was reloaded here: a record of its own, in the same chain
    AuditRecord reload;
    reload.phase = "reload";
    reload.time = record.time;
    reload.policy_version = "3f2a9c0d1e4b5a67";
    reload.previous_policy_version = "0a1b2c3d4e5f6789";
    reload.trigger = "file";
    reload.outcome = "ok";
    return reload;
  }
  return record;
}

// Appends and waits for done; returns its status.
inline Status appendAndWait(AuditLog& log, AuditRecord record,
                            AuditLog::Wait wait = AuditLog::Wait::Durable) {
  std::promise<Status> promise;
  std::future<Status> future = promise.get_future();
  log.append(
      std::move(record), [&promise](Status status) { promise.set_value(status); }, wait);
  return future.get();
}

inline std::unique_ptr<AuditLog> openLog(const AuditConfig& config, AuditLog::Clock clock = {}) {
  auto log = AuditLog::open(config, std::move(clock));
  EXPECT_TRUE(log.has_value()) << (log ? "" : log.error().message);
  return log ? std::move(*log) : nullptr;
}

// Opens the log at `config.path`, appends records first..first+count-1 one by one, closes it.
inline void writeRecords(const AuditConfig& config, int count, int first = 1) {
  auto log = openLog(config);
  ASSERT_NE(log, nullptr);
  for (int i = first; i < first + count; ++i) {
    const Status status = appendAndWait(*log, sampleRecord(i));
    ASSERT_TRUE(status.has_value()) << status.error().message;
  }
}

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// The lines of a file that ends with a newline (the empty string after it is dropped).
inline std::vector<std::string> readLines(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(readFile(path));
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

inline void writeLines(const std::string& path, const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) {
    text += line + "\n";
  }
  writeFile(path, text);
}

// Replaces the first `from` in `text` with `to` (the test fails when there is none).
inline std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from << " not in " << text;
  if (at != std::string::npos) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// `line` with its hash recomputed, as a forger without the HMAC key would do.
inline std::string rehashed(const std::string& line, const std::string& key = "") {
  auto split = splitAuditLine(line);
  EXPECT_TRUE(split.has_value());
  return split ? withAuditHash(split->hashed, auditHash(split->hashed, key)) : line;
}

}  // namespace sy::observability::testing
