#include "gateway/server/upstream_client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <cerrno>

namespace sy::server {
namespace {}  // namespace

UpstreamConnection::UpstreamConnection(Executor executor, const config::BackendRuntime& backend,
                                       DeadlineSweeper& sweeper) {
  if (backend.tls) {
    secure_.emplace(executor, *backend.tls);
  } else {
    plain_.emplace(executor);
  }
  deadline_.emplace(sweeper, lowest());
}

void UpstreamConnection::close() {
  error_code ignored;
  lowest().shutdown(tcp::socket::shutdown_both, ignored);
  lowest().close(ignored);
}

bool UpstreamConnection::looksAlive() {
  if (buffer_.size() != 0) {
    return false;  // bytes after a finished response: the connection is out of
                   // sync
  }
  char byte;
  const ssize_t n = ::recv(lowest().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

net::awaitable<Status> UpstreamConnection::connect(const config::BackendRuntime& backend) {
  const BackendSpec& spec = *backend.spec;
  // Name resolution runs on Asio's resolver thread and is bounded by the system
  // resolver's own timeouts, not by ours (it cannot be cancelled midway).
  net::ip::basic_resolver<tcp, Executor> resolver(lowest().get_executor());
  auto [resolve_ec, endpoints] =
      co_await resolver.async_resolve(spec.address.host, std::to_string(spec.address.port), kTuple);
  if (resolve_ec) {
    co_return upstreamIoError(spec, "name resolution", resolve_ec, "upstream_unreachable");
  }
  deadline_->arm(spec.timeouts.connect);
  auto [connect_ec, endpoint] = co_await net::async_connect(lowest(), endpoints, kTuple);
  if (connect_ec) {
    deadline_->disarm();
    co_return upstreamIoError(spec, "connect", timedOut(connect_ec), "upstream_unreachable");
  }
  error_code ignored;
  lowest().set_option(tcp::no_delay(true), ignored);
  if (secure_) {
    // SNI, and a certificate that must name the host we dialed.
    if (!SSL_set_tlsext_host_name(secure_->native_handle(), spec.address.host.c_str())) {
      deadline_->disarm();
      co_return upstreamIoError(
          spec, "TLS setup (SNI)",
          error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category()),
          "upstream_tls_error");
    }
    secure_->set_verify_callback(net::ssl::host_name_verification(spec.address.host));
    auto [handshake_ec] = co_await secure_->async_handshake(net::ssl::stream_base::client, kTuple);
    if (handshake_ec) {
      deadline_->disarm();
      co_return upstreamIoError(spec, "TLS handshake", timedOut(handshake_ec),
                                "upstream_tls_error");
    }
  }
  deadline_->disarm();
  co_return Status{};
}

net::awaitable<error_code> UpstreamConnection::write(http::request<http::string_body>& request) {
  auto [ec, n] = secure_ ? co_await http::async_write(*secure_, request, kTuple)
                         : co_await http::async_write(*plain_, request, kTuple);
  co_return timedOut(ec);
}

net::awaitable<error_code> UpstreamConnection::readHeader(
    http::response_parser<http::empty_body>& parser) {
  auto [ec, n] = secure_ ? co_await http::async_read_header(*secure_, buffer_, parser, kTuple)
                         : co_await http::async_read_header(*plain_, buffer_, parser, kTuple);
  co_return timedOut(ec);
}

net::awaitable<error_code> UpstreamConnection::readBody(
    http::response_parser<http::string_body>& parser) {
  auto [ec, n] = secure_ ? co_await http::async_read(*secure_, buffer_, parser, kTuple)
                         : co_await http::async_read(*plain_, buffer_, parser, kTuple);
  co_return timedOut(ec);
}

net::awaitable<std::pair<error_code, size_t>> UpstreamConnection::readSome(
    http::response_parser<http::buffer_body>& parser) {
  auto [ec, n] = secure_ ? co_await http::async_read_some(*secure_, buffer_, parser, kTuple)
                         : co_await http::async_read_some(*plain_, buffer_, parser, kTuple);
  co_return std::pair{timedOut(ec), n};
}

net::awaitable<Result<std::unique_ptr<UpstreamConnection>>> UpstreamPool::acquire(
    const config::BackendRuntime& backend, uint64_t snapshot_version) {
  if (backend.index < idle_.size()) {
    auto& idle = idle_[backend.index];
    const auto now = std::chrono::steady_clock::now();
    while (!idle.empty()) {
      std::unique_ptr<UpstreamConnection> connection = std::move(idle.back());
      idle.pop_back();
      const auto idle_for = now - connection->idle_since;
      // A connection released moments ago is almost surely alive: skip the peek
      // syscall then. If the peer did close it, attempt() resends once on a
      // fresh connection.
      if (connection->snapshot_version == snapshot_version && idle_for < kMaxIdle &&
          (idle_for < kPeekAfter || connection->looksAlive())) {
        connection->reused = true;
        co_return connection;
      }
      connection->close();
    }
  }
  co_return co_await connectNew(backend, snapshot_version);
}

net::awaitable<Result<std::unique_ptr<UpstreamConnection>>> UpstreamPool::connectNew(
    const config::BackendRuntime& backend, uint64_t snapshot_version) {
  auto connection = std::make_unique<UpstreamConnection>(executor_, backend, sweeper_);
  if (Status connected = co_await connection->connect(backend); !connected) {
    co_return std::unexpected(std::move(connected.error()));
  }
  connection->backend_index = backend.index;
  connection->snapshot_version = snapshot_version;
  co_return connection;
}

void UpstreamPool::release(std::unique_ptr<UpstreamConnection> connection,
                           const config::BackendRuntime& backend) {
  if (idle_.size() <= backend.index) {
    idle_.resize(backend.index + 1);
  }
  auto& idle = idle_[backend.index];
  if (idle.size() >= backend.spec->max_idle_connections) {
    connection->close();
    return;
  }
  connection->reused = false;
  connection->idle_since = std::chrono::steady_clock::now();
  idle.push_back(std::move(connection));
}

std::unexpected<Error> upstreamIoError(const BackendSpec& spec, std::string_view what,
                                       const error_code& ec, std::string_view code_id) {
  const bool timed_out = ec == beast::error::timeout;
  return makeError(timed_out ? ErrorCode::DeadlineExceeded : ErrorCode::UpstreamError,
                   ErrorSource::Upstream,
                   "backend '" + spec.name + "' (" + spec.address.host + ":" +
                       std::to_string(spec.address.port) + "): " + std::string(what) +
                       (timed_out ? " timed out" : " failed: " + ec.message()),
                   timed_out ? "upstream_timeout" : std::string(code_id), /*retryable=*/true);
}

}  // namespace sy::server
