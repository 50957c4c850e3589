// The Redis client's internals (redis_client.h has the contract): what every connection of one
// Client shares, and the pipelined connection of one io_context. Included only by the client's
// own files. A Connection is touched only from its io_context's one thread; ClientShared is
// immutable once built and shared by every connection of a Client.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "gateway/server/state/redis_client.h"
#include "gateway/server/state/redis_resp.h"
#include "gateway/server/transport/net.h"

namespace sy::server::redis {

using Clock = std::chrono::steady_clock;
using Timer = net::basic_waitable_timer<Clock, net::wait_traits<Clock>, Executor>;

// What every connection of one Client shares; immutable after construction.
struct ClientShared {
  Options options;
  std::string address;                     // "host:port"
  std::vector<std::string> shas;           // SHA1 hex of each script, as EVALSHA wants it
  std::string hello;                       // the handshake commands, encoded
  std::vector<std::string> steps;          // the handshake commands' names, for messages
  std::unique_ptr<net::ssl::context> tls;  // rediss://: shared by every connection
  std::string tls_error;                   // why `tls` could not be set up (every connect fails)
};

// A connection's byte stream: the TCP socket, with TLS over it for rediss://.
struct Transport {
  explicit Transport(const Executor& executor) : socket(executor) {}
  Socket socket;
  std::optional<net::ssl::stream<Socket&>> tls;
};

// The handshake (AUTH, SELECT, SCRIPT LOAD), the scripts' SHAs, the address for messages and the
// TLS context of a Client with `options`.
std::shared_ptr<const ClientShared> makeClientShared(Options options);

// ErrorCode::Unavailable, "redis host:port: <what>".
std::unexpected<Error> unavailable(const ClientShared& shared, std::string_view what);

// Hands `connection` to `context`, which owns it from then on: it is destroyed with the context
// (its sockets and timers belong to it) even when its Client outlives the context.
void registerConnection(net::execution_context& context, std::shared_ptr<Connection> connection);

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

  // Sends one encoded command and awaits its reply until `deadline`. `asking`: the command is
  // preceded by ASKING in the same write (so no other caller's command comes between them, as
  // Redis Cluster requires after an ASK redirection); an error reply to ASKING is the result.
  net::awaitable<Result<Reply>> call(std::string request, Clock::time_point deadline,
                                     bool asking = false);

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
  std::string timeoutMessage() const;
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

}  // namespace sy::server::redis
