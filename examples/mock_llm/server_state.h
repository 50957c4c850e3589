// State shared by every connection of one MockServer: options, runtime controls, counters and the
// last /v1 request (for /mock/last-request). Internal to sy_mock.
// Thread-safety: all members are immutable, atomic, or guarded by last_mu_ (held only to swap a
// shared_ptr, never across I/O).
#pragma once

#include <atomic>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "examples/mock_llm/controls.h"
#include "examples/mock_llm/mock_server.h"

namespace sy::mock {

using Request = boost::beast::http::request<boost::beast::http::string_body>;

inline constexpr uint64_t kBodyLimit = 64ull << 20;  // 64 MiB
inline constexpr uint32_t kHeaderLimit = 64u << 10;

struct ServerState {
  explicit ServerState(MockOptions opts);

  // Remembers `request` as the last /v1 request and counts it.
  void record(std::shared_ptr<const Request> request);
  std::shared_ptr<const Request> lastRequest() const;

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
};

}  // namespace sy::mock
