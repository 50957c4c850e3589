#include "gateway/server/transport/session.h"

#include <boost/asio/ssl/stream.hpp>

#include "gateway/server/pipeline/pipeline.h"
#include "gateway/server/transport/request_limits.h"

namespace sy::server {
namespace {

using TlsStream = net::ssl::stream<Socket>;

Socket& lowestLayer(Socket& stream) { return stream; }
Socket& lowestLayer(TlsStream& stream) { return stream.next_layer(); }

// Runs one operation under `deadline`, reporting a cut-off operation as
// beast::error::timeout.
template <class Operation>
net::awaitable<error_code> timed(Deadline& deadline, std::chrono::milliseconds timeout,
                                 Operation operation) {
  deadline.arm(timeout);
  error_code ec = co_await operation();
  if (deadline.disarm() && ec) {
    ec = beast::error::timeout;
  }
  co_return ec;
}

template <class Stream>
class StreamDownstream final : public Downstream {
 public:
  StreamDownstream(Stream& stream, Deadline& deadline, std::chrono::milliseconds write_timeout)
      : stream_(stream), deadline_(deadline), write_timeout_(write_timeout) {}

  // sy::server::Downstream
  net::awaitable<error_code> writeResponse(http::response<http::string_body>& response) override {
    co_return co_await write([&]() -> net::awaitable<error_code> {
      auto [ec, n] = co_await http::async_write(stream_, response, kTuple);
      co_return ec;
    });
  }
  net::awaitable<error_code> writeHead(http::response<http::empty_body>& head) override {
    co_return co_await write([&]() -> net::awaitable<error_code> {
      http::response_serializer<http::empty_body> serializer{head};
      auto [ec, n] = co_await http::async_write_header(stream_, serializer, kTuple);
      co_return ec;
    });
  }
  net::awaitable<error_code> writeChunk(std::string_view data) override {
    co_return co_await write([&]() -> net::awaitable<error_code> {
      auto [ec, n] =
          co_await net::async_write(stream_, http::make_chunk(net::buffer(data)), kTuple);
      co_return ec;
    });
  }
  net::awaitable<error_code> writeLastChunk() override {
    co_return co_await write([&]() -> net::awaitable<error_code> {
      auto [ec, n] = co_await net::async_write(stream_, http::make_chunk_last(), kTuple);
      co_return ec;
    });
  }

 private:
  template <class Operation>
  net::awaitable<error_code> write(Operation operation) {
    co_return co_await timed(deadline_, write_timeout_, std::move(operation));
  }

  Stream& stream_;
  Deadline& deadline_;
  std::chrono::milliseconds write_timeout_;
};

// Reads the request head, counting every header byte against max_header_bytes
// (Beast's own header_limit only bounds what one read leaves unparsed, not the
// total).
template <class Stream>
net::awaitable<error_code> readHead(Stream& stream, beast::flat_buffer& buffer,
                                    http::request_parser<http::string_body>& parser,
                                    const config::ServerLimits& limits) {
  size_t header_bytes = 0;
  while (!parser.is_header_done()) {
    auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, kTuple);
    header_bytes += n;
    if (ec) {
      co_return ec;
    }
    if (header_bytes > limits.max_header_bytes) {
      co_return http::error::header_limit;
    }
  }
  co_return error_code{};
}

template <class Stream>
net::awaitable<void> reject(Stream& stream, Deadline& deadline, WorkerState& worker,
                            const Rejection& rejection, std::string_view target,
                            std::chrono::steady_clock::time_point started_at) {
  // The error shape of the surface the path belongs to, when the head was read that far.
  const auto surface = target.starts_with("/v1/messages") ? connectors::Surface::Anthropic
                                                          : connectors::Surface::OpenAi;
  auto response =
      jsonResponse(toHttpStatus(rejection.error), connectors::errorBody(surface, rejection.error),
                   worker.nextRequestId(), /*keep_alive=*/false);
  co_await timed(deadline, std::chrono::seconds(5), [&]() -> net::awaitable<error_code> {
    auto [ec, n] = co_await http::async_write(stream, response, kTuple);
    co_return ec;
  });
  worker.recordRejection(rejection.reason);
  worker.recordRequest(
      {.endpoint = "other", .status = response.result_int()},
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at).count());
}

// How a session ended: `Linger` when the client may still be sending a request
// we refused.
enum class SessionEnd { Close, Linger };

// Reads one request head under the limits and checks it; a rejection when it must be refused.
// The body is left unread: the pipeline decides first whether it may be read at all.
template <class Stream>
net::awaitable<std::optional<Rejection>> readRequestHead(
    Stream& stream, Deadline& deadline, beast::flat_buffer& buffer,
    http::request_parser<http::string_body>& parser, const config::ServerLimits& limits,
    bool& client_left) {
  applyParserLimits(parser, limits);
  error_code ec = co_await timed(deadline, limits.header_timeout,
                                 [&] { return readHead(stream, buffer, parser, limits); });
  if (ec) {
    auto rejection = classifyReadError(ec, false, limits);
    client_left = !rejection;
    co_return rejection;
  }
  co_return checkHeader(parser, limits);
}

// The answer for a body that does not fit the in-flight budget.
Rejection overBudget(const config::ServerLimits& limits) {
  return Rejection{
      Error{ErrorCode::Unavailable, ErrorSource::Downstream,
            "The gateway is holding as many request bodies as its memory budget allows (" +
                std::to_string(limits.max_inflight_body_bytes) + " bytes); retry shortly.",
            true, "server_busy"},
      "inflight_body_budget"};
}

// Reads the body of an admitted request under `lease`: a Content-Length is covered whole before
// the first byte is read (Beast reserves that much); a chunked body is covered as it grows, in
// steps the string is reserved to (at least what the next read can append), so it never
// reallocates past what the lease holds. A rejection when the budget has no room (503), the
// body is too large or too slow, or is malformed; `client_left` when nobody is there to answer.
template <class Stream>
net::awaitable<std::optional<Rejection>> readRequestBody(
    Stream& stream, Deadline& deadline, beast::flat_buffer& buffer,
    http::request_parser<http::string_body>& parser, const config::ServerLimits& limits,
    BodyLease& lease, bool& client_left) {
  const auto length = parser.content_length();
  if (length && !lease.cover(*length, limits.max_inflight_body_bytes)) {
    co_return overBudget(limits);
  }
  if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
    http::response<http::empty_body> proceed{http::status::continue_, 11};
    co_await timed(deadline, limits.idle_timeout, [&]() -> net::awaitable<error_code> {
      auto [write_ec, n] = co_await http::async_write(stream, proceed, kTuple);
      co_return write_ec;
    });
  }
  std::string& body = parser.get().body();
  bool over_budget = false;
  error_code ec =
      co_await timed(deadline, limits.body_timeout, [&]() -> net::awaitable<error_code> {
        while (!parser.is_done()) {
          // The most one read can append: what the buffer holds and one more read (Beast reads at
          // most 64 KiB at a time). Grown by half at least, so a long body is not copied each read,
          // and never past max_body_bytes, which the parser enforces (so a budget of exactly
          // max_body_bytes still admits such a body).
          const uint64_t need = body.size() + buffer.size() + (64 << 10);
          if (!length && body.capacity() < need) {
            const uint64_t want = std::min<uint64_t>(
                limits.max_body_bytes, std::max<uint64_t>(need, body.capacity() * 3 / 2));
            if (!lease.cover(want, limits.max_inflight_body_bytes)) {
              over_budget = true;
              co_return error_code{};
            }
            body.reserve(want);
          }
          auto [read_ec, n] = co_await http::async_read_some(stream, buffer, parser, kTuple);
          lease.account(body.capacity());
          if (read_ec) {
            co_return read_ec;
          }
        }
        co_return error_code{};
      });
  if (over_budget) {
    co_return overBudget(limits);
  }
  if (ec) {
    auto rejection = classifyReadError(ec, true, limits);
    client_left = !rejection;
    co_return rejection;
  }
  co_return std::nullopt;
}

template <class Stream>
net::awaitable<SessionEnd> serveRequests(Stream& stream, Deadline& deadline, WorkerState& worker,
                                         IdleSessions& idle) {
  Socket& socket = lowestLayer(stream);
  beast::flat_buffer buffer;
  Pipeline pipeline(worker);
  for (;;) {
    const auto snapshot = worker.shared.snapshots.get();
    const config::ServerLimits& limits = snapshot->config().server.limits;
    if (buffer.size() == 0) {  // wait for the next request under the idle timeout
      if (worker.shared.draining.load(std::memory_order_relaxed)) {
        co_return SessionEnd::Close;
      }
      idle.add(&socket);
      error_code ec =
          co_await timed(deadline, limits.idle_timeout, [&]() -> net::awaitable<error_code> {
            auto [read_ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
            buffer.commit(n);
            co_return read_ec;
          });
      idle.remove(&socket);
      if (ec) {
        co_return SessionEnd::Close;  // idle timeout, client closed, or drain:
                                      // close quietly
      }
    }
    const auto started_at = std::chrono::steady_clock::now();
    http::request_parser<http::string_body> parser;
    bool client_left = false;
    auto rejection =
        co_await readRequestHead(stream, deadline, buffer, parser, limits, client_left);
    if (client_left) {
      co_return SessionEnd::Close;
    }
    if (rejection) {
      co_await reject(
          stream, deadline, worker, *rejection,
          parser.is_header_done() ? std::string_view(parser.get().target()) : std::string_view(),
          started_at);
      co_return SessionEnd::Linger;  // the stream may be mid-message: never
                                     // reuse it
    }
    RequestContext ctx;
    ctx.started_at = started_at;
    ctx.close_connection =
        !parser.get().keep_alive() || worker.shared.draining.load(std::memory_order_relaxed);
    StreamDownstream<Stream> downstream(stream, deadline, limits.idle_timeout);
    // Authentication and the other checks on the head come before a byte of the body is read:
    // a refused request's body is never held (and, unread, leaves the stream unusable).
    const bool body_pending = !parser.is_done();
    if (!co_await pipeline.begin(parser.get(), body_pending, downstream, ctx)) {
      if (body_pending) {
        co_return SessionEnd::Linger;
      }
      if (ctx.close_connection) {
        co_return SessionEnd::Close;
      }
      continue;
    }
    BodyLease lease(worker.shared.bodies);  // given back when this request is done
    if (body_pending) {
      rejection =
          co_await readRequestBody(stream, deadline, buffer, parser, limits, lease, client_left);
      if (client_left) {
        co_return SessionEnd::Close;
      }
      if (rejection) {
        worker.recordRejection(rejection->reason);
        ctx.close_connection = true;
        if (rejection->error.code == ErrorCode::Unavailable) {
          ctx.retry_after = 1;
        }
        co_await pipeline.fail(downstream, ctx, rejection->error);
        co_return SessionEnd::Linger;
      }
    }
    co_await pipeline.finish(downstream, ctx);
    if (ctx.close_connection) {
      co_return SessionEnd::Close;
    }
  }
}

// Closing with unread request bytes makes the kernel send a reset that can
// destroy our error response before the client reads it (nginx's
// lingering_close): read and discard for a bounded time and size first. In reads of up to
// 256 KiB: a client that keeps sending a refused multi-megabyte body costs its worker a system
// call and a handler per read (system calls, mostly recv, were the largest share of the
// workers' time in a perf profile of the hostile run).
template <class Stream>
net::awaitable<void> linger(Stream& stream, Deadline& deadline) {
  thread_local char sink[256 << 10];  // discarded bytes; the sessions of a worker share it
  deadline.arm(std::chrono::seconds(2));
  for (size_t total = 0; total < (4u << 20) && !deadline.fired();) {
    auto [ec, n] = co_await stream.async_read_some(net::buffer(sink), kTuple);
    if (ec) {
      break;
    }
    total += n;
  }
  deadline.disarm();
}

}  // namespace

net::awaitable<void> runSession(Socket socket, net::ssl::context* tls, WorkerState& worker,
                                IdleSessions& idle) {
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  if (tls == nullptr) {
    Deadline deadline(worker.deadlines, socket);
    const SessionEnd end = co_await serveRequests(socket, deadline, worker, idle);
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    if (end == SessionEnd::Linger) {
      co_await linger(socket, deadline);
    }
    co_return;
  }
  TlsStream stream(std::move(socket), *tls);
  Deadline deadline(worker.deadlines, stream.next_layer());
  const auto handshake_timeout =
      worker.shared.snapshots.get()->config().server.limits.header_timeout;
  error_code ec = co_await timed(deadline, handshake_timeout, [&]() -> net::awaitable<error_code> {
    auto [handshake_ec] = co_await stream.async_handshake(net::ssl::stream_base::server, kTuple);
    co_return handshake_ec;
  });
  if (ec) {
    worker.recordRejection("tls_handshake");
    co_return;
  }
  if (co_await serveRequests(stream, deadline, worker, idle) == SessionEnd::Linger) {
    co_await linger(stream, deadline);
  }
  co_await timed(deadline, std::chrono::seconds(2), [&]() -> net::awaitable<error_code> {
    auto [shutdown_ec] = co_await stream.async_shutdown(kTuple);
    co_return shutdown_ec;
  });
}

}  // namespace sy::server
