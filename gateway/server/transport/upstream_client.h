// The upstream side of the proxy: connections to backends (plain or TLS with
// certificate and host name verification), a per-worker keep-alive pool, and
// PooledUpstream, the Upstream (upstream.h) the pipeline uses over them.
// Owned by one worker and used only from its thread: NOT thread-safe, by design
// (no locks on the request path).
#pragma once

#include <boost/asio/ssl/stream.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "core/error.h"
#include "gateway/config/snapshot.h"
#include "gateway/server/transport/deadline.h"
#include "gateway/server/transport/name_resolver.h"
#include "gateway/server/transport/net.h"
#include "gateway/server/transport/upstream.h"

namespace sy::server {

// The error for a failed upstream operation `what` ("connect", "request"): a retryable 504
// `upstream_timeout` when `ec` is a timeout, else a retryable 502 with `code_id`. Names the
// backend and its address, never request content or credentials.
std::unexpected<Error> upstreamIoError(const BackendSpec& spec, std::string_view what,
                                       const error_code& ec, std::string_view code_id);

class UpstreamConnection {
 public:
  UpstreamConnection(Executor executor, const config::BackendRuntime& backend,
                     DeadlineSweeper& sweeper);

  // Resolves (through the worker's `resolver`), connects and (for https) handshakes, all under
  // the backend's connect timeout. Errors are retryable Upstream errors: 502
  // `upstream_unreachable` (refused, unresolvable or a lookup that did not finish in time),
  // 502 `upstream_tls_error` (TLS verification) or 504 (connect or handshake timeout).
  net::awaitable<Status> connect(const config::BackendRuntime& backend, NameResolver& resolver);

  // Starts the clock for the operations that follow (e.g. write + readHeader
  // under first_byte). An operation cut off by it fails with
  // beast::error::timeout.
  void arm(std::chrono::milliseconds timeout) { deadline_->arm(timeout); }
  void disarm() { deadline_->disarm(); }

  net::awaitable<error_code> write(http::request<http::string_body>& request);
  // The head is read with an empty_body parser, which is then converted (Beast
  // allows it once the header is parsed) into a string_body parser for whole
  // bodies or a buffer_body parser for streams relayed piece by piece.
  net::awaitable<error_code> readHeader(http::response_parser<http::empty_body>& parser);
  net::awaitable<error_code> readBody(http::response_parser<http::string_body>& parser);
  net::awaitable<std::pair<error_code, size_t>> readSome(
      http::response_parser<http::buffer_body>& parser);
  void close();

  // True when the peer has not closed this idle connection (non-blocking peek).
  bool looksAlive();

  bool reused = false;  // taken from the pool rather than freshly connected
  size_t backend_index = 0;
  uint64_t snapshot_version = 0;
  std::chrono::steady_clock::time_point idle_since;

 private:
  Socket& lowest() { return secure_ ? secure_->next_layer() : *plain_; }
  error_code timedOut(error_code ec) const {
    return ec && deadline_->fired() ? error_code(beast::error::timeout) : ec;
  }

  std::optional<Socket> plain_;
  std::optional<net::ssl::stream<Socket>> secure_;
  beast::flat_buffer buffer_;
  std::optional<Deadline> deadline_;  // after the socket it watches
};

class UpstreamPool {
 public:
  // How long a pooled connection may sit idle. Kept below common upstream
  // keep-alive timeouts (uvicorn, which vLLM uses, closes after 5 s) so we
  // rarely pick one the peer is closing.
  static constexpr std::chrono::seconds kMaxIdle{4};
  // Pooled connections idle longer than this are checked with a non-blocking
  // peek first.
  static constexpr std::chrono::milliseconds kPeekAfter{250};

  // `lookup`: how host names are resolved (default: systemLookup; tests inject slow ones).
  UpstreamPool(Executor executor, DeadlineSweeper& sweeper, LookupFn lookup = nullptr)
      : executor_(std::move(executor)),
        sweeper_(sweeper),
        resolver_(executor_, lookup ? std::move(lookup) : systemLookup(executor_)) {}

  // A live pooled connection for the backend, or a new connected one.
  net::awaitable<Result<std::unique_ptr<UpstreamConnection>>> acquire(
      const config::BackendRuntime& backend, uint64_t snapshot_version);
  // A new connection, never a pooled one (used to retry after a stale pooled
  // connection failed).
  net::awaitable<Result<std::unique_ptr<UpstreamConnection>>> connectNew(
      const config::BackendRuntime& backend, uint64_t snapshot_version);

  // Returns a connection whose last response was read completely with
  // keep-alive.
  void release(std::unique_ptr<UpstreamConnection> connection,
               const config::BackendRuntime& backend);

 private:
  Executor executor_;
  DeadlineSweeper& sweeper_;
  NameResolver resolver_;
  std::vector<std::vector<std::unique_ptr<UpstreamConnection>>> idle_;  // by backend index
};

// The real Upstream: HTTP/1.1 over the worker's pooled keep-alive connections (plain or TLS).
// Bodies are read under the backend's idle timeout; streamed bodies are relayed in pieces of
// at most 16 KiB, never held whole.
class PooledUpstream final : public Upstream {
 public:
  PooledUpstream(Executor executor, DeadlineSweeper& sweeper, LookupFn lookup = nullptr)
      : pool_(std::move(executor), sweeper, std::move(lookup)) {}

  // sy::server::Upstream
  net::awaitable<Result<std::unique_ptr<UpstreamExchange>>> send(
      const config::BackendRuntime& backend, const connectors::UpstreamRequest& request,
      uint64_t snapshot_version) override;

 private:
  UpstreamPool pool_;
};

}  // namespace sy::server
