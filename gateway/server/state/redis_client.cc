#include "gateway/server/state/redis_client.h"

#include <openssl/evp.h>

#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <deque>
#include <limits>
#include <optional>
#include <tuple>
#include <utility>

// g++ 12 misreports Asio's coroutine frame allocator in Connection::connect (awaitable_frame_base's
// sized operator delete "mismatched" with its operator new): the known false positive that
// health_checker.cc and forward.cc silence too.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace sy::server::redis {

using Clock = std::chrono::steady_clock;
using Timer = net::basic_waitable_timer<Clock, net::wait_traits<Clock>, Executor>;

// What every connection of one Client shares; immutable after construction.
struct ClientShared {
  Options options;
  std::string address;             // "host:port"
  std::vector<std::string> shas;   // SHA1 hex of each script, as EVALSHA wants it
  std::string hello;               // the handshake commands, encoded
  std::vector<std::string> steps;  // the handshake commands' names, for messages
  std::unique_ptr<net::ssl::context> tls;  // rediss://: shared by every connection
  std::string tls_error;                   // why `tls` could not be set up (every connect fails)
};

// A connection's byte stream: the TCP socket, with TLS over it for rediss://.
struct Transport {
  explicit Transport(const Executor& executor) : socket(executor) {}
  Socket socket;
  std::optional<net::ssl::stream<Socket&>> tls;
};

namespace {

std::unexpected<Error> unavailable(const ClientShared& shared, std::string_view what) {
  return makeError(ErrorCode::Unavailable, ErrorSource::Internal,
                   "redis " + shared.address + ": " + std::string(what));
}

std::string sha1Hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

std::string millis(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

// Redis errors after which this connection is pointed at the wrong server (a replica after a
// failover, a server still loading): reconnecting may reach the right one.
bool meansReconnect(const Reply& reply) {
  return reply.type == Reply::Type::Error &&
         (reply.str.starts_with("READONLY") || reply.str.starts_with("LOADING") ||
          reply.str.starts_with("MASTERDOWN"));
}

std::optional<std::string> percentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= text.size()) {
      return std::nullopt;
    }
    auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
    if (ec != std::errc() || end != text.data() + i + 3) {
      return std::nullopt;
    }
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

template <class T>
bool parseDecimal(std::string_view text, T& out) {
  if (text.empty()) {
    return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// RESP2

namespace {

// "<type><n>\r\n": an array's or a bulk string's header.
void appendHeader(std::string& out, char type, size_t n) {
  char buffer[32];
  buffer[0] = type;
  char* end = std::to_chars(buffer + 1, buffer + sizeof buffer - 2, n).ptr;
  *end++ = '\r';
  *end++ = '\n';
  out.append(buffer, end);
}

void appendBulk(std::string& out, std::string_view arg) {
  appendHeader(out, '$', arg.size());
  out.append(arg);
  out.append("\r\n");
}

// Room for `args` encoded (headers included), so one allocation serves the whole command.
size_t encodedSize(const std::vector<std::string>& args) {
  size_t size = 0;
  for (const std::string& arg : args) {
    size += arg.size() + 16;
  }
  return size;
}

}  // namespace

void encodeCommand(std::string& out, const std::vector<std::string>& args) {
  out.reserve(out.size() + 16 + encodedSize(args));
  appendHeader(out, '*', args.size());
  for (const std::string& arg : args) {
    appendBulk(out, arg);
  }
}

void ReplyParser::feed(std::string_view bytes) {
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > 4096) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

void ReplyParser::reset() {
  buffer_.clear();
  consumed_ = 0;
  error_.clear();
}

ReplyParser::Outcome ReplyParser::next(Reply& reply) {
  if (!error_.empty()) {
    return Outcome::Malformed;
  }
  // A partial reply is parsed again from its start when more bytes arrive: quadratic in the
  // number of reads per reply, which is fine for the few-hundred-byte replies read here.
  size_t pos = consumed_;
  Reply parsed;
  const Outcome outcome = parse(pos, parsed, 0);
  if (outcome == Outcome::Complete) {
    consumed_ = pos;
    reply = std::move(parsed);
  }
  return outcome;
}

ReplyParser::Outcome ReplyParser::line(size_t& pos, std::string_view& out) {
  const size_t end = buffer_.find("\r\n", pos);
  if (end == std::string::npos) {
    if (buffer_.size() - pos > static_cast<size_t>(kMaxBulk)) {
      error_ = "line longer than " + std::to_string(kMaxBulk) + " bytes";
      return Outcome::Malformed;
    }
    return Outcome::Incomplete;
  }
  out = std::string_view(buffer_).substr(pos, end - pos);
  pos = end + 2;
  return Outcome::Complete;
}

ReplyParser::Outcome ReplyParser::number(size_t& pos, int64_t& out) {
  std::string_view text;
  if (const Outcome outcome = line(pos, text); outcome != Outcome::Complete) {
    return outcome;
  }
  if (!parseDecimal(text, out)) {
    error_ = "malformed integer";
    return Outcome::Malformed;
  }
  return Outcome::Complete;
}

ReplyParser::Outcome ReplyParser::parse(size_t& pos, Reply& reply, int depth) {
  if (depth > kMaxDepth) {
    error_ = "arrays nested deeper than " + std::to_string(kMaxDepth);
    return Outcome::Malformed;
  }
  if (pos >= buffer_.size()) {
    return Outcome::Incomplete;
  }
  const char type = buffer_[pos++];
  switch (type) {
    case '+':
    case '-': {
      std::string_view text;
      if (const Outcome outcome = line(pos, text); outcome != Outcome::Complete) {
        return outcome;
      }
      reply.type = type == '+' ? Reply::Type::Status : Reply::Type::Error;
      reply.str.assign(text);
      return Outcome::Complete;
    }
    case ':': {
      reply.type = Reply::Type::Integer;
      return number(pos, reply.integer);
    }
    case '$': {
      int64_t length = 0;
      if (const Outcome outcome = number(pos, length); outcome != Outcome::Complete) {
        return outcome;
      }
      if (length == -1) {
        reply.type = Reply::Type::Nil;
        return Outcome::Complete;
      }
      if (length < 0 || length > kMaxBulk) {
        error_ = "bulk string length " + std::to_string(length) + " out of range";
        return Outcome::Malformed;
      }
      const size_t size = static_cast<size_t>(length);
      if (buffer_.size() - pos < size + 2) {
        return Outcome::Incomplete;
      }
      if (buffer_[pos + size] != '\r' || buffer_[pos + size + 1] != '\n') {
        error_ = "bulk string not terminated by CRLF";
        return Outcome::Malformed;
      }
      reply.type = Reply::Type::Bulk;
      reply.str.assign(buffer_, pos, size);
      pos += size + 2;
      return Outcome::Complete;
    }
    case '*': {
      int64_t count = 0;
      if (const Outcome outcome = number(pos, count); outcome != Outcome::Complete) {
        return outcome;
      }
      if (count == -1) {
        reply.type = Reply::Type::Nil;
        return Outcome::Complete;
      }
      if (count < 0 || count > kMaxElements) {
        error_ = "array length " + std::to_string(count) + " out of range";
        return Outcome::Malformed;
      }
      reply.type = Reply::Type::Array;
      for (int64_t i = 0; i < count; ++i) {
        Reply element;
        if (const Outcome outcome = parse(pos, element, depth + 1); outcome != Outcome::Complete) {
          return outcome;
        }
        reply.elements.push_back(std::move(element));
      }
      return Outcome::Complete;
    }
    default:
      error_ = "unexpected reply type byte " + std::to_string(static_cast<unsigned char>(type));
      return Outcome::Malformed;
  }
}

// ---------------------------------------------------------------------------------------------
// URL

Result<Options> parseUrl(std::string_view url) {
  auto bad = [](std::string_view why) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Config,
                     "state.redis_url: " + std::string(why) +
                         " (expected redis[s]://[[user]:password@]host[:port][/db])");
  };
  Options options;
  std::string_view rest;
  if (url.starts_with("redis://")) {
    rest = url.substr(8);
  } else if (url.starts_with("rediss://")) {
    rest = url.substr(9);
    options.tls = true;
  } else {
    return bad("the scheme must be redis:// or rediss://");
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return bad("query and fragment are not supported");
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      return bad("credentials need a password (user:password@ or :password@)");
    }
    auto username = percentDecode(userinfo.substr(0, colon));
    auto password = percentDecode(userinfo.substr(colon + 1));
    if (!username || !password) {
      return bad("malformed percent-escape in the credentials");
    }
    if (password->empty()) {
      return bad("empty password");
    }
    options.username = std::move(*username);
    options.password = std::move(*password);
  }
  std::string_view port_text;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return bad("unterminated IPv6 address");
    }
    options.host.assign(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        return bad("junk after the IPv6 address");
      }
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      authority = authority.substr(0, colon);
      has_port = true;
    }
    options.host.assign(authority);
  }
  if (options.host.empty()) {
    return bad("missing host");
  }
  for (char c : options.host) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '/' || c == '@' || c == '[' || c == ']') {
      return bad("malformed host");
    }
  }
  if (has_port) {
    unsigned port = 0;
    if (!parseDecimal(port_text, port) || port == 0 || port > 65535) {
      return bad("the port must be 1-65535");
    }
    options.port = static_cast<uint16_t>(port);
  }
  if (!path.empty() && !parseDecimal(path, options.db)) {
    return bad("the path must be a database number");
  }
  if (options.db < 0) {
    return bad("the database number must not be negative");
  }
  return options;
}

// ---------------------------------------------------------------------------------------------
// Connection

// The pipelined connection of one io_context: see the header. Everything here runs on that
// context's one thread. `generation_` counts connection attempts: coroutines of an older
// attempt (a reader or writer still unwinding after a close) see a newer generation and touch
// nothing.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Executor executor, std::shared_ptr<const ClientShared> shared)
      : executor_(std::move(executor)), shared_(std::move(shared)) {}

  const Executor& executor() const { return executor_; }
  bool closed() const { return state_ == State::Closed; }

  // Sends one encoded command and awaits its reply until `deadline`.
  net::awaitable<Result<Reply>> call(std::string request, Clock::time_point deadline);

  // Fails the commands in flight and closes for good (the owning Client is gone).
  void close() {
    fail(generation_, "client closed");
    state_ = State::Closed;
    watchdog_.cancel();
  }

 private:
  enum class State { Idle, Connecting, Ready, Closed };

  // A command in flight. Its timer never expires: it is what the caller sleeps on, cancelled
  // when the result is set. Deadlines are enforced by the connection's one watchdog timer, so
  // a call does not reprogram the reactor's timerfd (as a per-call timer at the deadline, the
  // earliest of the worker's timers, did: one timerfd_settime(2) per call).
  struct Waiter {
    Waiter(const Executor& executor, Clock::time_point deadline)
        : timer(executor, Clock::time_point::max()), deadline(deadline) {}
    Timer timer;
    Clock::time_point deadline;
    std::optional<Result<Reply>> result;  // set exactly once: the reply or the failure
  };

  void startConnect();
  // The coroutines take `self` so that their frames keep the connection alive.
  net::awaitable<void> connect(std::shared_ptr<Connection> self, uint64_t generation);
  net::awaitable<void> readLoop(std::shared_ptr<Connection> self,
                                std::shared_ptr<Transport> transport, uint64_t generation);
  net::awaitable<void> writeLoop(std::shared_ptr<Connection> self,
                                 std::shared_ptr<Transport> transport, uint64_t generation);
  void kickWriter();
  // Arms the watchdog at the earliest deadline in flight, unless armed; on expiry a command past
  // its deadline fails the connection with everything in flight (a late reply would be taken
  // for the next command's: the connection is out of step).
  void watch();
  void watchdogFired();
  std::string timeoutMessage() const { return "no reply within " + millis(shared_->options.timeout); }
  void connectFailed(uint64_t generation, const std::string& what);
  void fail(uint64_t generation, const std::string& what);

  Executor executor_;
  std::shared_ptr<const ClientShared> shared_;
  State state_ = State::Idle;
  uint64_t generation_ = 0;
  std::shared_ptr<Transport> transport_;
  std::string outbox_;  // encoded commands not yet handed to the writer
  bool writing_ = false;
  std::deque<std::shared_ptr<Waiter>> pending_;  // in the order their commands were queued
  Timer watchdog_{executor_};
  bool watching_ = false;
  ReplyParser parser_;
  Clock::time_point reconnect_at_{};  // no connect attempt before this (after a failed one)
  std::string connect_error_;
};

net::awaitable<Result<Reply>> Connection::call(std::string request, Clock::time_point deadline) {
  auto self = shared_from_this();  // alive until the reply, whatever happens to the Client
  if (state_ == State::Closed) {
    co_return unavailable(*shared_, "client closed");
  }
  if (Clock::now() >= deadline) {
    co_return unavailable(*shared_, timeoutMessage());
  }
  if (state_ == State::Idle) {
    if (Clock::now() < reconnect_at_) {
      co_return unavailable(*shared_, connect_error_ + " (reconnecting within " +
                                          millis(Client::kReconnectBackoff) + ")");
    }
    startConnect();
  }
  auto waiter = std::make_shared<Waiter>(executor_, deadline);
  const uint64_t generation = generation_;
  pending_.push_back(waiter);
  outbox_ += request;
  kickWriter();  // no-op while connecting: the handshake goes first, then the queue
  watch();
  if (!waiter->result) {
    co_await waiter->timer.async_wait(kTuple);
  }
  if (!waiter->result) {
    // Woken without a result: only when the context is going away. Out of step, as above.
    fail(generation, timeoutMessage());
    if (!waiter->result) {
      waiter->result = unavailable(*shared_, timeoutMessage());
    }
  }
  if (*waiter->result && meansReconnect(**waiter->result)) {
    fail(generation, "server answered " + (*waiter->result)->str.substr(0, 10));
  }
  co_return std::move(*waiter->result);
}

void Connection::watch() {
  if (watching_ || pending_.empty() || state_ == State::Closed) {
    return;
  }
  Clock::time_point earliest = Clock::time_point::max();
  for (const auto& waiter : pending_) {  // in order but for NOSCRIPT retries: look at all
    earliest = std::min(earliest, waiter->deadline);
  }
  watching_ = true;
  watchdog_.expires_at(earliest);
  watchdog_.async_wait([self = shared_from_this()](const error_code&) { self->watchdogFired(); });
}

void Connection::watchdogFired() {
  watching_ = false;
  if (state_ == State::Closed) {
    return;
  }
  const auto now = Clock::now();
  for (const auto& waiter : pending_) {
    if (waiter->deadline <= now) {
      fail(generation_, timeoutMessage());
      break;
    }
  }
  watch();
}

void Connection::startConnect() {
  state_ = State::Connecting;
  net::co_spawn(executor_, connect(shared_from_this(), generation_), net::detached);
}

net::awaitable<void> Connection::connect(std::shared_ptr<Connection> self, uint64_t generation) {
  const Options& options = shared_->options;
  auto transport = std::make_shared<Transport>(executor_);
  Socket* socket = &transport->socket;
  auto resolver = std::make_shared<net::ip::basic_resolver<tcp, Executor>>(executor_);
  transport_ = transport;
  // One timeout for resolve + connect + handshake: on expiry the socket is closed, which ends
  // whichever step is pending with an error. (Name resolution runs on Asio's resolver thread and
  // only reports the cancellation once it returns; commands waiting on it are bounded by their
  // own timeouts regardless.)
  auto timed_out = std::make_shared<bool>(false);
  Timer timer(executor_);
  timer.expires_after(options.timeout);
  timer.async_wait([transport, resolver, timed_out](const error_code& ec) {
    if (!ec) {
      *timed_out = true;
      resolver->cancel();
      error_code ignored;
      transport->socket.close(ignored);
    }
  });
  auto failed = [&](std::string_view what, const error_code& ec) {
    connectFailed(generation,
                  *timed_out ? std::string(what) + " timed out after " + millis(options.timeout)
                             : std::string(what) + " failed: " + ec.message());
  };

  std::vector<tcp::endpoint> endpoints;
  error_code parse_ec;
  const auto address = net::ip::make_address(options.host, parse_ec);
  if (!parse_ec) {
    endpoints.emplace_back(address, options.port);
  } else {
    auto [ec, results] =
        co_await resolver->async_resolve(options.host, std::to_string(options.port), kTuple);
    if (generation != generation_) {
      co_return;
    }
    if (ec) {
      failed("name resolution", ec);
      co_return;
    }
    for (const auto& entry : results) {
      endpoints.push_back(entry.endpoint());
    }
  }
  {
    auto [ec, endpoint] = co_await net::async_connect(*socket, endpoints, kTuple);
    if (generation != generation_) {
      co_return;
    }
    if (ec) {
      failed("connect", ec);
      co_return;
    }
  }
  error_code ignored;
  socket->set_option(tcp::no_delay(true), ignored);
  if (shared_->tls || !shared_->tls_error.empty()) {
    if (!shared_->tls) {
      connectFailed(generation, shared_->tls_error);
      co_return;
    }
    auto& stream = transport->tls.emplace(*socket, *shared_->tls);
    error_code not_ip;
    net::ip::make_address(options.host, not_ip);
    if (not_ip && !SSL_set_tlsext_host_name(stream.native_handle(), options.host.c_str())) {
      connectFailed(generation, "TLS: cannot set the server name");
      co_return;
    }
    stream.set_verify_mode(net::ssl::verify_peer);
    stream.set_verify_callback(net::ssl::host_name_verification(options.host));
    auto [ec] = co_await stream.async_handshake(net::ssl::stream_base::client, kTuple);
    if (generation != generation_) {
      co_return;
    }
    if (ec) {
      failed("TLS handshake", ec);
      co_return;
    }
  }
  {
    const auto hello = net::buffer(shared_->hello);
    error_code ec;
    if (transport->tls) {
      std::tie(ec, std::ignore) = co_await net::async_write(*transport->tls, hello, kTuple);
    } else {
      std::tie(ec, std::ignore) = co_await net::async_write(*socket, hello, kTuple);
    }
    if (generation != generation_) {
      co_return;
    }
    if (ec) {
      failed("handshake", ec);
      co_return;
    }
  }
  std::vector<char> buffer(4096);
  for (size_t step = 0; step < shared_->steps.size();) {
    Reply reply;
    const auto outcome = parser_.next(reply);
    if (outcome == ReplyParser::Outcome::Malformed) {
      connectFailed(generation, "protocol error: " + parser_.error());
      co_return;
    }
    if (outcome == ReplyParser::Outcome::Incomplete) {
      error_code ec;
      size_t n = 0;
      if (transport->tls) {
        std::tie(ec, n) = co_await transport->tls->async_read_some(net::buffer(buffer), kTuple);
      } else {
        std::tie(ec, n) = co_await socket->async_read_some(net::buffer(buffer), kTuple);
      }
      if (generation != generation_) {
        co_return;
      }
      if (ec) {
        failed("handshake", ec);
        co_return;
      }
      parser_.feed({buffer.data(), n});
      continue;
    }
    const std::string& name = shared_->steps[step];
    if (reply.type == Reply::Type::Error) {
      connectFailed(generation, name + " failed: " + reply.str);
      co_return;
    }
    const size_t script = step + shared_->shas.size() - shared_->steps.size();
    if (name == "SCRIPT LOAD" &&
        (reply.type != Reply::Type::Bulk || reply.str != shared_->shas[script])) {
      connectFailed(generation, "SCRIPT LOAD answered an unexpected SHA");
      co_return;
    }
    ++step;
  }
  timer.cancel();
  state_ = State::Ready;
  net::co_spawn(executor_, readLoop(self, transport, generation), net::detached);
  kickWriter();
}

net::awaitable<void> Connection::readLoop(std::shared_ptr<Connection> /*self*/,
                                          std::shared_ptr<Transport> transport,
                                          uint64_t generation) {
  std::vector<char> buffer(16384);
  for (;;) {
    // Replies already buffered (e.g. behind the handshake's) are delivered before reading more.
    for (;;) {
      Reply reply;
      const auto outcome = parser_.next(reply);
      if (outcome == ReplyParser::Outcome::Incomplete) {
        break;
      }
      if (outcome == ReplyParser::Outcome::Malformed) {
        fail(generation, "protocol error: " + parser_.error());
        co_return;
      }
      if (pending_.empty()) {
        fail(generation, "protocol error: a reply to no command");
        co_return;
      }
      std::shared_ptr<Waiter> waiter = std::move(pending_.front());
      pending_.pop_front();
      waiter->result = std::move(reply);
      waiter->timer.cancel();
    }
    error_code ec;
    size_t n = 0;
    if (transport->tls) {
      std::tie(ec, n) = co_await transport->tls->async_read_some(net::buffer(buffer), kTuple);
    } else {
      std::tie(ec, n) = co_await transport->socket.async_read_some(net::buffer(buffer), kTuple);
    }
    if (generation != generation_) {
      co_return;
    }
    if (ec) {
      fail(generation, ec == net::error::eof ? std::string("connection closed by the server")
                                             : "read failed: " + ec.message());
      co_return;
    }
    parser_.feed({buffer.data(), n});
  }
}

void Connection::kickWriter() {
  if (state_ != State::Ready || writing_ || outbox_.empty()) {
    return;
  }
  writing_ = true;
  net::co_spawn(executor_, writeLoop(shared_from_this(), transport_, generation_), net::detached);
}

net::awaitable<void> Connection::writeLoop(std::shared_ptr<Connection> /*self*/,
                                           std::shared_ptr<Transport> transport,
                                           uint64_t generation) {
  // Commands queued while a write is in progress go out together in the next one.
  std::string buffer;
  while (generation == generation_ && !outbox_.empty()) {
    buffer.clear();
    buffer.swap(outbox_);
    error_code ec;
    if (transport->tls) {
      std::tie(ec, std::ignore) =
          co_await net::async_write(*transport->tls, net::buffer(buffer), kTuple);
    } else {
      std::tie(ec, std::ignore) =
          co_await net::async_write(transport->socket, net::buffer(buffer), kTuple);
    }
    if (generation != generation_) {
      co_return;
    }
    if (ec) {
      fail(generation, "write failed: " + ec.message());
      co_return;
    }
  }
  if (generation == generation_) {
    writing_ = false;
  }
}

void Connection::connectFailed(uint64_t generation, const std::string& what) {
  if (generation != generation_) {
    return;
  }
  reconnect_at_ = Clock::now() + Client::kReconnectBackoff;
  connect_error_ = what;
  fail(generation, what);
}

void Connection::fail(uint64_t generation, const std::string& what) {
  if (generation != generation_ || state_ == State::Closed) {
    return;
  }
  ++generation_;
  state_ = State::Idle;
  if (transport_) {
    error_code ignored;
    transport_->socket.close(ignored);
    transport_.reset();
  }
  outbox_.clear();
  writing_ = false;
  parser_.reset();
  auto pending = std::exchange(pending_, {});
  for (const auto& waiter : pending) {
    waiter->result = unavailable(*shared_, what);
    waiter->timer.cancel();
  }
}

namespace {

// Owns the connections made on one io_context, so that they are destroyed with it (their
// sockets and timers belong to it) even when a Client outlives the context. Touched only from
// the context's thread, and by shutdown() when the context is destroyed.
class ConnectionRegistry final : public net::execution_context::service {
 public:
  static net::execution_context::id id;

  explicit ConnectionRegistry(net::execution_context& context) : service(context) {}

  void add(std::shared_ptr<Connection> connection) {
    std::erase_if(connections_, [](const auto& c) { return c->closed(); });
    connections_.push_back(std::move(connection));
  }

 private:
  void shutdown() override { connections_.clear(); }

  std::vector<std::shared_ptr<Connection>> connections_;
};

net::execution_context::id ConnectionRegistry::id;

}  // namespace

// ---------------------------------------------------------------------------------------------
// Client

namespace {

std::shared_ptr<const ClientShared> makeShared(Options options) {
  auto shared = std::make_shared<ClientShared>();
  shared->address = options.host.find(':') != std::string::npos
                        ? "[" + options.host + "]:" + std::to_string(options.port)
                        : options.host + ":" + std::to_string(options.port);
  if (!options.password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!options.username.empty()) {
      auth.push_back(options.username);
    }
    auth.push_back(options.password);
    encodeCommand(shared->hello, auth);
    shared->steps.push_back("AUTH");
  }
  encodeCommand(shared->hello, {"SELECT", std::to_string(options.db)});
  shared->steps.push_back("SELECT " + std::to_string(options.db));
  for (const std::string& script : options.scripts) {
    encodeCommand(shared->hello, {"SCRIPT", "LOAD", script});
    shared->steps.push_back("SCRIPT LOAD");
    shared->shas.push_back(sha1Hex(script));
  }
  if (options.tls) {
    auto context = std::make_unique<net::ssl::context>(net::ssl::context::tls_client);
    context->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                         net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                         net::ssl::context::no_tlsv1_1);
    error_code ec;
    if (options.tls_ca_file.empty()) {
      context->set_default_verify_paths(ec);
    } else {
      context->load_verify_file(options.tls_ca_file, ec);
    }
    if (ec) {
      shared->tls_error = "TLS: cannot load the trust store" +
                          (options.tls_ca_file.empty() ? std::string()
                                                       : " '" + options.tls_ca_file + "'") +
                          ": " + ec.message();
    } else {
      shared->tls = std::move(context);
    }
  }
  shared->options = std::move(options);
  return shared;
}

}  // namespace

uint16_t keySlot(std::string_view key) {
  if (const size_t open = key.find('{'); open != std::string_view::npos) {
    const size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  uint16_t crc = 0;  // CRC16-CCITT (XMODEM), as Redis Cluster hashes keys
  for (unsigned char c : key) {
    crc ^= static_cast<uint16_t>(c << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) != 0 ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                                : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc & (kClusterSlots - 1);
}

// Which node serves which slot, as MOVED replies taught it.
struct ClusterMap {
  std::mutex mutex;                            // guards nodes
  std::vector<std::unique_ptr<Client>> nodes;  // only grows, so a Client* stays valid
  std::array<std::atomic<uint16_t>, kClusterSlots> slots{};  // nodes index + 1; 0: the seed
  std::atomic<bool> redirected{false};                       // any MOVED seen yet
};

Client::Client(Options options)
    : shared_(makeShared(std::move(options))), cluster_(std::make_unique<ClusterMap>()) {}

Client& Client::route(std::string_view key) {
  if (!cluster_->redirected.load(std::memory_order_relaxed) || key.empty()) {
    return *this;
  }
  const uint16_t node = cluster_->slots[keySlot(key)].load(std::memory_order_relaxed);
  if (node == 0) {
    return *this;
  }
  std::lock_guard lock(cluster_->mutex);
  return *cluster_->nodes[node - 1];
}

Client* Client::followMoved(const Reply& reply) {
  // "MOVED <slot> <host>:<port>" (an IPv6 host is not bracketed: the port is after the last ':')
  if (reply.type != Reply::Type::Error || !reply.str.starts_with("MOVED ")) {
    return nullptr;
  }
  const std::string_view text = std::string_view(reply.str).substr(6);
  const size_t space = text.find(' ');
  const size_t colon = text.rfind(':');
  uint32_t slot = 0;
  uint32_t port = 0;
  if (space == std::string_view::npos || colon == std::string_view::npos || colon < space ||
      !parseDecimal(text.substr(0, space), slot) || slot >= kClusterSlots ||
      !parseDecimal(text.substr(colon + 1), port) || port == 0 || port > 65535) {
    return nullptr;
  }
  std::string host(text.substr(space + 1, colon - space - 1));
  if (host.empty()) {
    host = shared_->options.host;  // "MOVED 12 :6380": the node did not learn its own address
  }
  cluster_->redirected = true;
  if (host == shared_->options.host && port == shared_->options.port) {
    cluster_->slots[slot] = 0;
    return this;
  }
  std::lock_guard lock(cluster_->mutex);
  size_t index = 0;
  while (index < cluster_->nodes.size() &&
         !(cluster_->nodes[index]->shared_->options.host == host &&
           cluster_->nodes[index]->shared_->options.port == port)) {
    ++index;
  }
  if (index == cluster_->nodes.size()) {
    Options options = shared_->options;
    options.host = std::move(host);
    options.port = static_cast<uint16_t>(port);
    cluster_->nodes.push_back(std::make_unique<Client>(std::move(options)));
  }
  cluster_->slots[slot] = static_cast<uint16_t>(index + 1);
  return cluster_->nodes[index].get();
}

Client::~Client() {
  std::lock_guard lock(mutex_);
  for (auto& [context, weak] : connections_) {
    if (auto connection = weak.lock()) {
      net::post(connection->executor(), [connection] { connection->close(); });
    }
  }
}

const std::string& Client::address() const { return shared_->address; }

net::awaitable<Result<std::shared_ptr<Connection>>> Client::connectionHere() {
  const auto any = co_await net::this_coro::executor;
  const Executor* executor = any.target<Executor>();
  if (executor == nullptr) {
    co_return unavailable(*shared_, "commands must be awaited on an io_context executor");
  }
  std::shared_ptr<Connection> connection;
  bool created = false;
  {
    std::lock_guard lock(mutex_);
    connection = connections_[&executor->context()].lock();
    if (!connection) {
      std::erase_if(connections_, [](const auto& entry) { return entry.second.expired(); });
      connection = std::make_shared<Connection>(*executor, shared_);
      connections_[&executor->context()] = connection;
      created = true;
    }
  }
  if (created) {
    net::use_service<ConnectionRegistry>(executor->context()).add(connection);
  }
  co_return connection;
}

net::awaitable<Result<Reply>> Client::command(std::vector<std::string> args) {
  Client* target = &route(args.size() > 1 ? std::string_view(args[1]) : std::string_view());
  Result<Reply> reply = co_await target->commandHere(args);
  for (int hop = 0; hop < kMaxRedirects && reply; ++hop) {
    target = followMoved(*reply);
    if (target == nullptr) {
      break;
    }
    reply = co_await target->commandHere(args);
  }
  co_return reply;
}

net::awaitable<Result<Reply>> Client::evalScript(size_t script,
                                                 const std::vector<std::string>& keys,
                                                 const std::vector<std::string>& args) {
  Client* target = &route(keys.empty() ? std::string_view() : std::string_view(keys.front()));
  Result<Reply> reply = co_await target->evalScriptHere(script, keys, args);
  for (int hop = 0; hop < kMaxRedirects && reply; ++hop) {
    target = followMoved(*reply);
    if (target == nullptr) {
      break;
    }
    reply = co_await target->evalScriptHere(script, keys, args);
  }
  co_return reply;
}

net::awaitable<Result<Reply>> Client::commandHere(const std::vector<std::string>& args) {
  const auto deadline = Clock::now() + shared_->options.timeout;
  auto connection = co_await connectionHere();
  if (!connection) {
    co_return std::unexpected(std::move(connection.error()));
  }
  std::string request;
  encodeCommand(request, args);
  co_return co_await (*connection)->call(std::move(request), deadline);
}

net::awaitable<Result<Reply>> Client::evalScriptHere(size_t script,
                                                     const std::vector<std::string>& keys,
                                                     const std::vector<std::string>& args) {
  const auto deadline = Clock::now() + shared_->options.timeout;
  auto connection = co_await connectionHere();
  if (!connection) {
    co_return std::unexpected(std::move(connection.error()));
  }
  // EVALSHA sha numkeys keys... args..., encoded straight from the caller's vectors.
  const auto encode = [&](std::string_view verb, std::string_view body) {
    std::string request;
    request.reserve(64 + body.size() + encodedSize(keys) + encodedSize(args));
    appendHeader(request, '*', 3 + keys.size() + args.size());
    appendBulk(request, verb);
    appendBulk(request, body);
    appendBulk(request, std::to_string(keys.size()));
    for (const std::string& key : keys) {
      appendBulk(request, key);
    }
    for (const std::string& arg : args) {
      appendBulk(request, arg);
    }
    return request;
  };
  Result<Reply> reply =
      co_await (*connection)->call(encode("EVALSHA", shared_->shas.at(script)), deadline);
  if (reply && reply->type == Reply::Type::Error && reply->str.starts_with("NOSCRIPT")) {
    // EVAL runs the script and caches it again, so later EVALSHAs succeed.
    reply = co_await (*connection)->call(encode("EVAL", shared_->options.scripts[script]), deadline);
  }
  co_return reply;
}

}  // namespace sy::server::redis
