#include "gateway/server/session.h"

#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "gateway/server/pipeline.h"
#include "observability/logging.h"

namespace sy::server {
namespace {

template <class Stream>
class StreamDownstream final : public Downstream {
 public:
  StreamDownstream(Stream& stream, std::chrono::milliseconds write_timeout)
      : stream_(stream), write_timeout_(write_timeout) {}

  // sy::server::Downstream
  net::awaitable<error_code> writeResponse(http::response<http::string_body>& response) override {
    beast::get_lowest_layer(stream_).expires_after(write_timeout_);
    auto [ec, n] = co_await http::async_write(stream_, response, kTuple);
    co_return ec;
  }
  net::awaitable<error_code> writeHead(http::response<http::empty_body>& head) override {
    beast::get_lowest_layer(stream_).expires_after(write_timeout_);
    http::response_serializer<http::empty_body> serializer{head};
    auto [ec, n] = co_await http::async_write_header(stream_, serializer, kTuple);
    co_return ec;
  }
  net::awaitable<error_code> writeChunk(std::string_view data) override {
    beast::get_lowest_layer(stream_).expires_after(write_timeout_);
    auto [ec, n] =
        co_await net::async_write(stream_, http::make_chunk(net::buffer(data)), kTuple);
    co_return ec;
  }
  net::awaitable<error_code> writeLastChunk() override {
    beast::get_lowest_layer(stream_).expires_after(write_timeout_);
    auto [ec, n] = co_await net::async_write(stream_, http::make_chunk_last(), kTuple);
    co_return ec;
  }

 private:
  Stream& stream_;
  std::chrono::milliseconds write_timeout_;
};

struct Rejection {
  Error error;
  std::string_view reason;  // metric label
};

// Maps a failed header/body read to the answer the client gets (nullopt: just close).
std::optional<Rejection> classifyReadError(const error_code& ec, bool reading_body,
                                           const config::ServerLimits& limits) {
  auto reject = [](ErrorCode code, std::string message, std::string code_id,
                   std::string_view reason) {
    return Rejection{Error{code, ErrorSource::Downstream, std::move(message), false,
                           std::move(code_id)},
                     reason};
  };
  if (ec == beast::error::timeout) {
    const auto limit = reading_body ? limits.body_timeout : limits.header_timeout;
    return reject(ErrorCode::DeadlineExceeded,
                  std::string("The request ") + (reading_body ? "body" : "headers") +
                      " did not arrive within " + std::to_string(limit.count()) + " ms.",
                  "request_timeout", reading_body ? "body_timeout" : "header_timeout");
  }
  if (ec == http::error::header_limit) {
    return reject(ErrorCode::HeadersTooLarge,
                  "The request headers exceed " + std::to_string(limits.max_header_bytes) +
                      " bytes.",
                  "headers_too_large", "headers_too_large");
  }
  if (ec == http::error::body_limit) {
    return reject(ErrorCode::PayloadTooLarge,
                  "The request body exceeds the limit of " +
                      std::to_string(limits.max_body_bytes) + " bytes.",
                  "body_too_large", "body_too_large");
  }
  if (ec == http::error::end_of_stream || ec == net::error::eof ||
      ec == net::error::connection_reset || ec == net::error::operation_aborted ||
      ec == http::error::partial_message) {
    return std::nullopt;  // the client left; nobody to answer
  }
  std::string message = "Malformed HTTP request: " + ec.message() + ".";
  if (ec == http::error::bad_transfer_encoding || ec == http::error::bad_content_length ||
      ec == http::error::multiple_content_length) {
    message += " A request must carry exactly one valid Content-Length or a chunked "
               "Transfer-Encoding, never both.";
  }
  return reject(ErrorCode::InvalidArgument, std::move(message), "malformed_request",
                "malformed_request");
}

// Checks the parsed header against the limits Beast does not enforce itself.
std::optional<Rejection> checkHeader(const http::request_parser<http::string_body>& parser,
                                     const config::ServerLimits& limits) {
  const auto& request = parser.get();
  const size_t fields = static_cast<size_t>(std::distance(request.begin(), request.end()));
  if (fields > limits.max_header_count) {
    return Rejection{Error{ErrorCode::HeadersTooLarge, ErrorSource::Downstream,
                           "The request has " + std::to_string(fields) +
                               " header fields; the limit is " +
                               std::to_string(limits.max_header_count) + ".",
                           false, "headers_too_large"},
                     "headers_too_large"};
  }
  if (request.count(http::field::transfer_encoding) > 0 && !parser.chunked()) {
    return Rejection{Error{ErrorCode::InvalidArgument, ErrorSource::Downstream,
                           "Malformed HTTP request: a Transfer-Encoding other than chunked is "
                           "not supported.",
                           false, "malformed_request"},
                     "malformed_request"};
  }
  if (auto length = parser.content_length(); length && *length > limits.max_body_bytes) {
    return classifyReadError(http::error::body_limit, true, limits);
  }
  return std::nullopt;
}

template <class Stream>
net::awaitable<void> reject(Stream& stream, WorkerState& worker, const Rejection& rejection,
                            const std::chrono::steady_clock::time_point started_at) {
  const std::string request_id = worker.nextRequestId();
  auto response = jsonResponse(toHttpStatus(rejection.error), openAiErrorBody(rejection.error),
                               request_id, /*keep_alive=*/false);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
  co_await http::async_write(stream, response, kTuple);
  worker.recordRejection(rejection.reason);
  worker.recordRequest("other", "", "", response.result_int(),
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at)
                           .count());
}

// A deadline for reading a request that cancels the pending read instead of closing the socket
// (which is what beast::tcp_stream's own timeout does), so a 408 can still be written after it.
class ReadDeadline {
 public:
  explicit ReadDeadline(beast::tcp_stream& stream)
      : stream_(stream), timer_(stream.get_executor()) {}
  ~ReadDeadline() { state_->armed = false; }
  ReadDeadline(const ReadDeadline&) = delete;
  ReadDeadline& operator=(const ReadDeadline&) = delete;

  void arm(std::chrono::milliseconds timeout) {
    stream_.expires_never();
    // A fresh state per arm: a handler of an earlier, already-fired wait sees its own state.
    state_ = std::make_shared<State>();
    timer_.expires_after(timeout);
    timer_.async_wait([state = state_, &socket = stream_.socket()](const error_code& ec) {
      if (!ec && state->armed) {
        state->fired = true;
        error_code ignored;
        socket.cancel(ignored);
      }
    });
  }
  // Stops the clock; true when it ran out (the pending read was cancelled because of it).
  bool disarm() {
    state_->armed = false;
    timer_.cancel();
    return state_->fired;
  }

 private:
  struct State {
    bool armed = true;
    bool fired = false;
  };
  beast::tcp_stream& stream_;
  net::steady_timer timer_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// Reads the request head, counting every header byte against max_header_bytes (Beast's own
// header_limit only bounds what one read leaves unparsed, not the total).
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

// How a session ended: `Linger` when the client may still be sending a request we refused.
enum class SessionEnd { Close, Linger };

template <class Stream>
net::awaitable<SessionEnd> serveRequests(Stream& stream, WorkerState& worker,
                                         IdleSessions& idle) {
  beast::tcp_stream& lowest = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer;
  ReadDeadline deadline(lowest);
  Pipeline pipeline(worker);
  for (;;) {
    const auto snapshot = worker.shared.snapshots.get();
    const config::ServerLimits& limits = snapshot->config().server.limits;
    if (buffer.size() == 0) {  // wait for the next request under the idle timeout
      if (worker.shared.draining.load(std::memory_order_relaxed)) {
        co_return SessionEnd::Close;
      }
      lowest.expires_after(limits.idle_timeout);
      idle.add(&lowest);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
      idle.remove(&lowest);
      if (ec) {
        co_return SessionEnd::Close;  // idle timeout, client closed, or drain: close quietly
      }
      buffer.commit(n);
    }
    const auto started_at = std::chrono::steady_clock::now();
    http::request_parser<http::string_body> parser;
    parser.header_limit(limits.max_header_bytes);
    parser.body_limit(limits.max_body_bytes);
    deadline.arm(limits.header_timeout);
    error_code header_ec = co_await readHead(stream, buffer, parser, limits);
    if (deadline.disarm() && header_ec) {
      header_ec = beast::error::timeout;
    }
    std::optional<Rejection> rejection;
    if (header_ec) {
      rejection = classifyReadError(header_ec, false, limits);
      if (!rejection) {
        co_return SessionEnd::Close;
      }
    } else {
      rejection = checkHeader(parser, limits);
    }
    if (!rejection && !parser.is_done()) {
      if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> proceed{http::status::continue_, 11};
        lowest.expires_after(limits.idle_timeout);
        co_await http::async_write(stream, proceed, kTuple);
      }
      deadline.arm(limits.body_timeout);
      auto [body_ec, body_n] = co_await http::async_read(stream, buffer, parser, kTuple);
      if (deadline.disarm() && body_ec) {
        body_ec = beast::error::timeout;
      }
      if (body_ec) {
        rejection = classifyReadError(body_ec, true, limits);
        if (!rejection) {
          co_return SessionEnd::Close;
        }
      }
    }
    if (rejection) {
      co_await reject(stream, worker, *rejection, started_at);
      co_return SessionEnd::Linger;  // the stream may be mid-message: never reuse it
    }
    RequestContext ctx;
    ctx.started_at = started_at;
    ctx.close_connection =
        !parser.get().keep_alive() || worker.shared.draining.load(std::memory_order_relaxed);
    StreamDownstream<Stream> downstream(stream, limits.idle_timeout);
    co_await pipeline.handle(parser.get(), downstream, ctx);
    if (ctx.close_connection) {
      co_return SessionEnd::Close;
    }
  }
}

}  // namespace

net::awaitable<void> runSession(tcp::socket socket, net::ssl::context* tls, WorkerState& worker,
                                IdleSessions& idle) {
  socket.set_option(tcp::no_delay(true));
  const auto snapshot = worker.shared.snapshots.get();
  if (tls == nullptr) {
    beast::tcp_stream stream(std::move(socket));
    const SessionEnd end = co_await serveRequests(stream, worker, idle);
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (end == SessionEnd::Linger) {
      // Closing with unread request bytes makes the kernel send a reset that can destroy our
      // error response before the client reads it (nginx's lingering_close): read and discard
      // for a bounded time and size first.
      thread_local char sink[16 << 10];  // discarded bytes; sessions of a worker share it
      stream.expires_after(std::chrono::seconds(2));
      for (size_t total = 0; total < (4u << 20);) {
        auto [ec, n] = co_await stream.async_read_some(net::buffer(sink), kTuple);
        if (ec) {
          break;
        }
        total += n;
      }
    }
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls);
  beast::get_lowest_layer(stream).expires_after(snapshot->config().server.limits.header_timeout);
  auto [handshake_ec] = co_await stream.async_handshake(net::ssl::stream_base::server, kTuple);
  if (handshake_ec) {
    worker.recordRejection("tls_handshake");
    co_return;
  }
  co_await serveRequests(stream, worker, idle);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  co_await stream.async_shutdown(kTuple);
}

}  // namespace sy::server
