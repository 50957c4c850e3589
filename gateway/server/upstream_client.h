// The upstream side of the proxy: connections to backends (plain or TLS with certificate and host
// name verification) and a per-worker keep-alive pool. Owned by one worker and used only from its
// thread: NOT thread-safe, by design (no locks on the request path).
#pragma once

#include <boost/asio/ssl/stream.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "gateway/config/snapshot.h"
#include "gateway/core/error.h"
#include "gateway/server/net.h"

namespace sy::server {

class UpstreamConnection {
 public:
  UpstreamConnection(net::any_io_executor executor, const config::BackendRuntime& backend);

  // Resolves, connects and (for https) handshakes, all within the backend's connect timeout.
  // Errors are retryable Upstream errors: 502 (refused, unresolvable, TLS) or 504 (timeout).
  net::awaitable<Status> connect(const config::BackendRuntime& backend);

  // Beast operations on whichever stream this is. Deadlines are set by the caller via expire().
  net::awaitable<error_code> write(http::request<http::string_body>& request);
  // The head is read with an empty_body parser, which is then converted (Beast allows it once
  // the header is parsed) into a string_body parser for whole bodies or a buffer_body parser
  // for streams relayed piece by piece.
  net::awaitable<error_code> readHeader(http::response_parser<http::empty_body>& parser);
  net::awaitable<error_code> readBody(http::response_parser<http::string_body>& parser);
  net::awaitable<std::pair<error_code, size_t>> readSome(
      http::response_parser<http::buffer_body>& parser);
  void expireAfter(std::chrono::milliseconds timeout);
  void close();

  // True when the peer has not closed this idle connection (non-blocking peek).
  bool looksAlive();

  bool reused = false;  // taken from the pool rather than freshly connected
  size_t backend_index = 0;
  uint64_t snapshot_version = 0;
  std::chrono::steady_clock::time_point idle_since;

 private:
  beast::tcp_stream& lowest();
  std::optional<beast::tcp_stream> plain_;
  std::optional<net::ssl::stream<beast::tcp_stream>> secure_;
  beast::flat_buffer buffer_;
};

class UpstreamPool {
 public:
  // How long a pooled connection may sit idle. Kept below common upstream keep-alive timeouts
  // (uvicorn, which vLLM uses, closes after 5 s) so we rarely pick one the peer is closing.
  static constexpr std::chrono::seconds kMaxIdle{4};
  // Pooled connections idle longer than this are checked with a non-blocking peek first.
  static constexpr std::chrono::milliseconds kPeekAfter{250};

  explicit UpstreamPool(net::any_io_executor executor) : executor_(std::move(executor)) {}

  // A live pooled connection for the backend, or a new connected one.
  net::awaitable<Result<std::unique_ptr<UpstreamConnection>>> acquire(
      const config::BackendRuntime& backend, uint64_t snapshot_version);
  // A new connection, never a pooled one (used to retry after a stale pooled connection failed).
  net::awaitable<Result<std::unique_ptr<UpstreamConnection>>> connectNew(
      const config::BackendRuntime& backend, uint64_t snapshot_version);

  // Returns a connection whose last response was read completely with keep-alive.
  void release(std::unique_ptr<UpstreamConnection> connection,
               const config::BackendRuntime& backend);

 private:
  net::any_io_executor executor_;
  std::vector<std::vector<std::unique_ptr<UpstreamConnection>>> idle_;  // by backend index
};

}  // namespace sy::server
