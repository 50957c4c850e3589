// Coarse per-worker I/O deadlines. Arming a Deadline writes a time stamp: no
// syscall and no timer-queue operation on the request path (Beast's
// per-operation timers re-arm a timerfd and allocate on every read and write).
// One sweep per kTick cancels the pending I/O of every socket whose armed
// deadline has passed, so a timeout fires at most kTick late. Everything here
// belongs to one worker thread: NOT thread-safe.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>

#include "gateway/server/transport/net.h"

namespace sy::server {

class DeadlineSweeper;

// The deadline of one socket's I/O. Registered with the sweeper for its whole
// life; the socket must outlive it.
class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  Deadline(DeadlineSweeper& sweeper, Socket& socket);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // Starts (or restarts) the clock for the next operations; clears fired().
  void arm(std::chrono::milliseconds timeout) {
    at_ = Clock::now() + timeout;
    fired_ = false;
  }
  // Stops the clock. Returns true when it ran out and cancelled the socket's
  // pending I/O.
  bool disarm() {
    at_ = Clock::time_point::max();
    return fired_;
  }
  bool fired() const { return fired_; }

 private:
  friend class DeadlineSweeper;
  DeadlineSweeper* sweeper_;  // null once the sweeper is gone (worker shutdown)
  Socket& socket_;
  Clock::time_point at_ = Clock::time_point::max();
  bool fired_ = false;
  Deadline* prev_ = nullptr;  // intrusive list of the sweeper's deadlines
  Deadline* next_ = nullptr;
};

class DeadlineSweeper {
 public:
  static constexpr std::chrono::milliseconds kTick{100};

  explicit DeadlineSweeper(Executor executor);
  // Detaches the deadlines still registered: coroutine frames that outlive the
  // sweeper at shutdown (destroyed with their io_context) must not touch it.
  ~DeadlineSweeper();
  DeadlineSweeper(const DeadlineSweeper&) = delete;
  DeadlineSweeper& operator=(const DeadlineSweeper&) = delete;
  // Schedules the periodic sweep on the worker's io_context.
  void start();
  void stop();

 private:
  friend class Deadline;
  void add(Deadline& deadline);
  void remove(Deadline& deadline);
  void sweep();
  void scheduleNext();

  net::basic_waitable_timer<std::chrono::steady_clock, net::wait_traits<std::chrono::steady_clock>,
                            Executor>
      timer_;
  Deadline* head_ = nullptr;
  bool running_ = false;
};

}  // namespace sy::server
