#include "examples/mock_llm/session.h"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <optional>

#include "examples/mock_llm/handlers.h"
#include "examples/mock_llm/reply.h"

namespace sy::mock {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

constexpr auto kTuple = net::as_tuple(net::use_awaitable);
constexpr std::chrono::seconds kWriteTimeout{60};
constexpr std::chrono::seconds kTlsShutdownTimeout{2};

template <class Stream>
void resetConnection(Stream& stream) {
  auto& socket = beast::get_lowest_layer(stream).socket();
  error_code ec;
  socket.set_option(net::socket_base::linger(true, 0), ec);
  socket.close(ec);
}

bool isQuietReadError(const error_code& ec) {
  // Only HTTP parse errors deserve an answer; socket errors, timeouts and a peer that closed
  // between or inside requests just end the session.
  return ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec.category() != http::make_error_code(http::error::bad_target).category();
}

// The per-connection state lives here, in the session coroutine's frame.
template <class Stream>
class Connection {
 public:
  Connection(Stream& stream, ServerState& state, net::any_io_executor executor)
      : stream_(stream), state_(state), timer_(std::move(executor)) {}

  // Serves requests until the peer closes, an error, `Connection: close` or a reset.
  net::awaitable<void> run() {
    for (;;) {
      parser_.emplace();
      parser_->header_limit(kHeaderLimit);
      parser_->body_limit(kBodyLimit);
      beast::get_lowest_layer(stream_).expires_after(state_.options.idle_timeout);
      auto [ec, n] = co_await http::async_read_header(stream_, buffer_, *parser_, kTuple);
      if (ec) {
        co_await answerReadError(ec);
        co_return;
      }
      if (!parser_->is_done() &&
          beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
        if (!co_await write(net::buffer(std::string_view("HTTP/1.1 100 Continue\r\n\r\n")))) {
          co_return;
        }
      }
      if (!parser_->is_done()) {
        beast::get_lowest_layer(stream_).expires_after(state_.options.idle_timeout);
        auto [body_ec, body_n] = co_await http::async_read(stream_, buffer_, *parser_, kTuple);
        if (body_ec) {
          co_await answerReadError(body_ec);
          co_return;
        }
      }
      auto request = std::make_shared<Request>(parser_->release());
      const bool keep_alive = request->keep_alive();
      http10_ = request->version() == 10;
      head_only_ = request->method() == http::verb::head;
      reply_.reset();
      dispatch(std::move(request), state_, reply_);
      if (!co_await execute(keep_alive)) {
        co_return;
      }
    }
  }

 private:
  net::awaitable<void> answerReadError(const error_code& ec) {
    if (isQuietReadError(ec)) {
      co_return;
    }
    reply_.reset();
    head_only_ = false;
    if (ec == http::error::body_limit) {
      setOpenAiError(reply_, 413, "Request body exceeds 64 MiB.", "invalid_request_error");
    } else if (ec == http::error::header_limit) {
      setOpenAiError(reply_, 431, "Request headers too large.", "invalid_request_error");
    } else {
      setOpenAiError(reply_, 400, "Malformed HTTP request: " + ec.message(),
                     "invalid_request_error");
    }
    co_await execute(false);
  }

  // Runs the plan in reply_; false if the connection must not be reused.
  net::awaitable<bool> execute(bool keep_alive) {
    const Controls& c = reply_.controls;
    if (c.latency_ms > 0 && !co_await sleepUntil(Clock::now() + ms(c.latency_ms))) {
      co_return false;
    }
    if (reply_.kind == Reply::Kind::Reset) {
      resetConnection(stream_);
      co_return false;
    }
    const bool close = !keep_alive;
    composeHead(close);
    if (reply_.kind == Reply::Kind::Full && head_only_) {  // HEAD: the head says the length
      co_return co_await write(net::buffer(head_)) && !close;
    }
    if (reply_.kind == Reply::Kind::Full) {
      const std::array<net::const_buffer, 2> buffers{net::buffer(head_), net::buffer(reply_.body)};
      co_return co_await write(buffers) && !close;
    }
    co_return co_await executeStream() && !close;
  }

  // Head, preamble events, ttft, paced content events (disconnect_after counts these), trailer.
  net::awaitable<bool> executeStream() {
    const Controls& c = reply_.controls;
    if (!co_await write(net::buffer(head_))) {
      co_return false;
    }
    const uint32_t total = static_cast<uint32_t>(reply_.event_ends.size());
    const uint32_t first_content = reply_.preamble_events;
    const uint32_t end_content = first_content + reply_.content_events;
    for (uint32_t i = 0; i < first_content; ++i) {
      if (!co_await writeEvent(i)) {
        co_return false;
      }
    }
    if (c.disconnect_after == 0) {
      resetConnection(stream_);
      co_return false;
    }
    if (c.ttft_ms > 0 && !co_await sleepUntil(Clock::now() + ms(c.ttft_ms))) {
      co_return false;
    }
    const Clock::time_point start = Clock::now();
    for (uint32_t i = first_content; i < end_content; ++i) {
      const int64_t k = i - first_content;  // content chunk k is due at start + k / rate
      if (c.tokens_per_sec > 0 && k > 0 &&
          !co_await sleepUntil(start +
                               std::chrono::nanoseconds(k * 1'000'000'000 / c.tokens_per_sec))) {
        co_return false;
      }
      if (!co_await writeEvent(i)) {
        co_return false;
      }
      if (c.disconnect_after == k + 1) {
        resetConnection(stream_);
        co_return false;
      }
    }
    for (uint32_t i = end_content; i < total; ++i) {
      if (!co_await writeEvent(i)) {
        co_return false;
      }
    }
    co_return true;
  }

  static std::chrono::milliseconds ms(int64_t value) { return std::chrono::milliseconds(value); }

  void composeHead(bool close) {
    head_.clear();
    head_ += "HTTP/1.1 ";
    appendInt(head_, reply_.status);
    head_ += ' ';
    head_ += reasonPhrase(reply_.status);
    head_ += "\r\n";
    if (reply_.status != 204) {
      head_ += "content-type: ";
      head_ += reply_.content_type;
      head_ += "\r\n";
    }
    if (reply_.kind == Reply::Kind::Stream) {
      head_ += "transfer-encoding: chunked\r\ncache-control: no-cache\r\n";
    } else if (reply_.status != 204) {
      head_ += "content-length: ";
      appendInt(head_, static_cast<int64_t>(reply_.body.size()));
      head_ += "\r\n";
    }
    head_ += reply_.headers;
    if (close) {
      head_ += "connection: close\r\n";
    } else if (http10_) {
      head_ += "connection: keep-alive\r\n";
    }
    head_ += "\r\n";
  }

  net::awaitable<bool> writeEvent(uint32_t index) {
    const uint32_t begin = index == 0 ? 0 : reply_.event_ends[index - 1];
    co_return co_await write(
        net::buffer(reply_.body.data() + begin, reply_.event_ends[index] - begin));
  }

  template <class Buffers>
  net::awaitable<bool> write(const Buffers& buffers) {
    beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
    auto [ec, n] = co_await net::async_write(stream_, buffers, kTuple);
    co_return !ec;
  }

  net::awaitable<bool> sleepUntil(Clock::time_point when) {
    timer_.expires_at(when);
    auto [ec] = co_await timer_.async_wait(kTuple);
    co_return !ec;
  }

  Stream& stream_;
  ServerState& state_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Reply reply_;
  std::string head_;
  bool http10_ = false;
  bool head_only_ = false;  // HEAD: send the head of the answer, never its body
};

}  // namespace

net::awaitable<void> runPlainSession(net::ip::tcp::socket socket, ServerState& state) {
  beast::tcp_stream stream(std::move(socket));
  Connection<beast::tcp_stream> connection(stream, state, co_await net::this_coro::executor);
  co_await connection.run();
  error_code ec;
  stream.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
}

net::awaitable<void> runTlsSession(net::ip::tcp::socket socket, net::ssl::context& tls,
                                   ServerState& state) {
  beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), tls);
  beast::get_lowest_layer(stream).expires_after(state.options.idle_timeout);
  auto [ec] = co_await stream.async_handshake(net::ssl::stream_base::server, kTuple);
  if (ec) {
    co_return;
  }
  Connection<beast::ssl_stream<beast::tcp_stream>> connection(stream, state,
                                                              co_await net::this_coro::executor);
  co_await connection.run();
  if (beast::get_lowest_layer(stream).socket().is_open()) {
    beast::get_lowest_layer(stream).expires_after(kTlsShutdownTimeout);
    auto [shutdown_ec] = co_await stream.async_shutdown(kTuple);
    (void)shutdown_ec;  // the peer may already be gone; the socket closes either way
  }
}

}  // namespace sy::mock
