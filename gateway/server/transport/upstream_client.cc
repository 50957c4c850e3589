#include "gateway/server/transport/upstream_client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <cerrno>

namespace sy::server {
namespace {

constexpr size_t kRelayBuffer = 16 << 10;  // the most of a stream read and relayed at once

// A pooled connection the peer closed while it sat idle fails like this before
// any byte comes.
bool isStaleConnectionError(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe || ec == net::error::eof;
}

// One answer on one pooled connection. The head is read with an empty_body parser, converted
// (Beast allows it once the header is parsed) into a string_body parser for a whole body or a
// buffer_body parser for a stream relayed piece by piece.
class PooledExchange final : public UpstreamExchange {
 public:
  PooledExchange(UpstreamPool& pool, const config::BackendRuntime& backend)
      : pool_(pool), backend_(backend) {}
  ~PooledExchange() override {
    if (connection_) {
      connection_->close();
    }
  }

  // sy::server::UpstreamExchange
  unsigned status() const override { return status_; }
  const http::fields& headers() const override {
    if (whole_) {
      return whole_->get();
    }
    if (stream_) {
      return stream_->get();
    }
    return head_->get();
  }
  std::chrono::steady_clock::duration firstByte() const override { return first_byte_; }
  net::awaitable<Result<std::string>> readBody() override;
  net::awaitable<Status> readChunk(std::string& chunk) override;
  bool done() const override {
    return whole_ ? whole_->is_done() : stream_ ? stream_->is_done() : head_->is_done();
  }
  void release() override {
    const bool keep_alive = whole_    ? whole_->keep_alive()
                            : stream_ ? stream_->keep_alive()
                                      : head_->keep_alive();
    if (keep_alive) {
      pool_.release(std::move(connection_), backend_);
    } else {
      connection_->close();
      connection_.reset();
    }
  }

 private:
  friend class sy::server::PooledUpstream;

  UpstreamPool& pool_;
  const config::BackendRuntime& backend_;
  std::unique_ptr<UpstreamConnection> connection_;
  std::optional<http::response_parser<http::empty_body>> head_;  // moved into one of these:
  std::optional<http::response_parser<http::string_body>> whole_;
  std::optional<http::response_parser<http::buffer_body>> stream_;
  std::unique_ptr<char[]> buffer_;  // streams only
  unsigned status_ = 0;
  std::chrono::steady_clock::duration first_byte_{};
};

net::awaitable<Result<std::string>> PooledExchange::readBody() {
  const BackendSpec& spec = *backend_.spec;
  whole_.emplace(std::move(*head_));
  whole_->body_limit(kMaxUpstreamBody);
  connection_->arm(spec.timeouts.idle);
  const error_code ec = co_await connection_->readBody(*whole_);
  connection_->disarm();
  if (ec) {
    co_return upstreamIoError(spec, "response body", ec, "upstream_error");
  }
  co_return std::move(whole_->get().body());
}

net::awaitable<Status> PooledExchange::readChunk(std::string& chunk) {
  const BackendSpec& spec = *backend_.spec;
  if (!stream_) {
    stream_.emplace(std::move(*head_));
    stream_->body_limit(boost::none);  // streams are relayed, never held whole
    buffer_ = std::make_unique_for_overwrite<char[]>(kRelayBuffer);
  }
  stream_->get().body().data = buffer_.get();
  stream_->get().body().size = kRelayBuffer;
  connection_->arm(spec.timeouts.idle);
  auto [ec, n] = co_await connection_->readSome(*stream_);
  connection_->disarm();
  if (ec == http::error::need_buffer) {
    ec = {};
  }
  if (ec) {
    co_return upstreamIoError(spec, "stream", ec, "upstream_error");
  }
  chunk.assign(buffer_.get(), kRelayBuffer - stream_->get().body().size);
  co_return Status{};
}

}  // namespace

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

net::awaitable<Status> UpstreamConnection::connect(const config::BackendRuntime& backend,
                                                   NameResolver& resolver) {
  const BackendSpec& spec = *backend.spec;
  // One budget for the lookup, the connect and the handshake.
  const auto deadline = std::chrono::steady_clock::now() + spec.timeouts.connect;
  NameResolver::Resolved resolved =
      co_await resolver.resolve(spec.address.host, spec.address.port, deadline);
  if (resolved.ec) {
    co_return upstreamIoError(spec,
                              resolved.ec == net::error::timed_out
                                  ? "name resolution (not done within timeouts.connect)"
                              : resolved.cached ? "name resolution (failed moments ago)"
                                                : "name resolution",
                              resolved.ec, "upstream_unreachable");
  }
  deadline_->arm(std::chrono::ceil<std::chrono::milliseconds>(std::max(
      deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration{})));
  auto [connect_ec, endpoint] = co_await net::async_connect(lowest(), resolved.endpoints, kTuple);
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
  if (Status connected = co_await connection->connect(backend, resolver_); !connected) {
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

net::awaitable<Result<std::unique_ptr<UpstreamExchange>>> PooledUpstream::send(
    const config::BackendRuntime& backend, const connectors::UpstreamRequest& upstream,
    uint64_t snapshot_version) {
  const BackendSpec& spec = *backend.spec;
  http::request<http::string_body> request{http::verb::post, upstream.target, 11};
  request.set(http::field::host, backend.host_header);
  request.set(http::field::user_agent, "switchyard/0.1");
  for (const auto& [name, value] : upstream.headers) {
    request.set(name, value);
  }
  request.body() = upstream.body;
  request.keep_alive(true);
  request.prepare_payload();

  auto connection = co_await pool_.acquire(backend, snapshot_version);
  if (!connection) {
    co_return std::unexpected(std::move(connection.error()));
  }
  auto exchange = std::make_unique<PooledExchange>(pool_, backend);
  exchange->connection_ = std::move(*connection);
  const auto sent_at = std::chrono::steady_clock::now();
  error_code ec;
  for (int tries = 0; tries < 2; ++tries) {
    exchange->head_.emplace();
    UpstreamConnection& link = *exchange->connection_;
    link.arm(spec.timeouts.first_byte);
    ec = co_await link.write(request);
    if (!ec) {
      ec = co_await link.readHeader(*exchange->head_);
    }
    link.disarm();
    if (!ec || !link.reused || !isStaleConnectionError(ec)) {
      break;
    }
    // The pooled connection was closed by the peer: nothing was processed, so
    // resend once.
    link.close();
    exchange->connection_.reset();
    connection = co_await pool_.connectNew(backend, snapshot_version);
    if (!connection) {
      co_return std::unexpected(std::move(connection.error()));
    }
    exchange->connection_ = std::move(*connection);
  }
  if (ec) {
    co_return upstreamIoError(spec, "request", ec, "upstream_error");  // ~PooledExchange closes
  }
  exchange->first_byte_ = std::chrono::steady_clock::now() - sent_at;
  exchange->status_ = exchange->head_->get().result_int();
  co_return std::unique_ptr<UpstreamExchange>(std::move(exchange));
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
