#include "gateway/server/state/redis_connection.h"

#include <openssl/evp.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>
#include <tuple>
#include <utility>

// g++ 12 misreports Asio's coroutine frame allocator in Connection::connect (awaitable_frame_base's
// sized operator delete "mismatched" with its operator new): the known false positive that
// health_checker.cc and forward.cc silence too.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace sy::server::redis {
namespace {

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

}  // namespace

std::unexpected<Error> unavailable(const ClientShared& shared, std::string_view what) {
  return makeError(ErrorCode::Unavailable, ErrorSource::Internal,
                   "redis " + shared.address + ": " + std::string(what));
}

std::shared_ptr<const ClientShared> makeClientShared(Options options) {
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
      shared->tls_error =
          "TLS: cannot load the trust store" +
          (options.tls_ca_file.empty() ? std::string() : " '" + options.tls_ca_file + "'") + ": " +
          ec.message();
    } else {
      shared->tls = std::move(context);
    }
  }
  shared->options = std::move(options);
  return shared;
}

std::string Connection::timeoutMessage() const {
  return "no reply within " + millis(shared_->options.timeout);
}

net::awaitable<Result<Reply>> Connection::call(std::string request, Clock::time_point deadline,
                                               bool asking) {
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
  std::shared_ptr<Waiter> asked;  // ASKING's reply: nobody sleeps on it, the command's comes next
  if (asking) {
    static constexpr std::string_view kAsking = "*1\r\n$6\r\nASKING\r\n";
    asked = std::make_shared<Waiter>(executor_, deadline);
    pending_.push_back(asked);
    outbox_ += kAsking;
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
  if (asked && asked->result && *asked->result && (*asked->result)->type == Reply::Type::Error) {
    co_return std::move(*asked->result);
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

void registerConnection(net::execution_context& context, std::shared_ptr<Connection> connection) {
  net::use_service<ConnectionRegistry>(context).add(std::move(connection));
}

}  // namespace sy::server::redis
