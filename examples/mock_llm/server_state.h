// State shared by every connection of one MockServer: options, runtime controls, counters, the
// last /v1 request (for /mock/last-request) and a bounded log of recent requests (/mock/requests).
// Internal to sy_mock.
// Thread-safety: all members are immutable, atomic, or guarded by last_mu_ (held only to swap a
// shared_ptr, never across I/O).
#pragma once

#include <atomic>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "examples/mock_llm/controls.h"
#include "examples/mock_llm/mock_server.h"

namespace sy::mock {

using Request = boost::beast::http::request<boost::beast::http::string_body>;

inline constexpr uint64_t kBodyLimit = 64ull << 20;  // 64 MiB
inline constexpr uint32_t kHeaderLimit = 64u << 10;
inline constexpr size_t kRequestLogEntries = 64;           // /mock/requests keeps the last 64 ...
inline constexpr uint64_t kRequestLogBodyBytes = 16u << 20;  // ... and at most 16 MiB of bodies

struct ServerState {
  explicit ServerState(MockOptions opts);

  // Remembers `request` as the last /v1 request and counts it.
  void record(std::shared_ptr<const Request> request);
  std::shared_ptr<const Request> lastRequest() const;
  // Appends `request` to the request log (any path but /mock/*), dropping the oldest entries
  // beyond kRequestLogEntries or kRequestLogBodyBytes.
  void log(std::shared_ptr<const Request> request);
  std::deque<std::shared_ptr<const Request>> requestLog() const;  // oldest first

  // A fresh id suffix: 24 lowercase hex digits, unique per server.
  std::string nextId();

  const MockOptions options;
  RuntimeControls controls;
  const std::string fingerprint;  // "fp_" + 10 hex digits derived from the name
  const std::string models_body;  // GET /v1/models, built once
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> session_errors{0};  // exceptions that escaped a session (a bug)

 private:
  std::atomic<uint64_t> id_seq_{0};
  const uint64_t id_seed_;
  mutable std::mutex last_mu_;
  std::shared_ptr<const Request> last_;
  std::deque<std::shared_ptr<const Request>> log_;  // guarded by last_mu_
  uint64_t log_body_bytes_ = 0;                     // guarded by last_mu_
};

}  // namespace sy::mock
