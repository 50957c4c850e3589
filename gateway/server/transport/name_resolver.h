// Host name resolution for upstream connections, bounded by the caller's deadline. getaddrinfo
// cannot be cancelled and Asio runs it on one resolver thread per io_context, so lookups of a
// name that does not answer would queue behind each other far past timeouts.connect. Here a
// waiter gives up at its deadline while the lookup finishes in the background; one lookup per
// (host, port) is in flight at a time (later waiters join it); a failed or overdue lookup is
// remembered for kNegativeTtl, so a dead name costs one lookup per few seconds, not one per
// request. Successful lookups are not cached (docs/architecture.md says why). IP literals never
// reach the resolver.
// Owned by one worker and used only from its thread: NOT thread-safe.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gateway/server/transport/net.h"

namespace sy::server {

using Endpoints = std::vector<tcp::endpoint>;
// Called once, on the worker's executor, when a lookup ends (possibly long after every waiter
// gave up).
using LookupDone = std::function<void(error_code, Endpoints)>;
// Starts resolving host:port; must call `done` exactly once, on the worker's thread, unless the
// io_context is destroyed first. Production: systemLookup(); tests inject slow or failing ones.
using LookupFn = std::function<void(const std::string& host, uint16_t port, LookupDone done)>;

// getaddrinfo through Asio's resolver on `executor` (its resolver object lives until the lookup
// ends, so an abandoned wait never leaves it dangling).
LookupFn systemLookup(Executor executor);

class NameResolver {
 public:
  // How long a failed (or overdue) lookup of a (host, port) is remembered.
  static constexpr std::chrono::seconds kNegativeTtl{5};

  NameResolver(Executor executor, LookupFn lookup);
  explicit NameResolver(Executor executor) : NameResolver(executor, systemLookup(executor)) {}
  NameResolver(const NameResolver&) = delete;
  NameResolver& operator=(const NameResolver&) = delete;

  struct Resolved {
    error_code ec;  // net::error::timed_out: the lookup did not finish by the deadline
    Endpoints endpoints;
    bool cached = false;  // ec is a failure remembered from an earlier lookup
  };
  // The endpoints of host:port, at the latest at `deadline`. A failure (ec set) is one of the
  // resolver's errors (host_not_found, ...), or net::error::timed_out when the deadline came
  // first; either is remembered for kNegativeTtl, unless a lookup succeeds meanwhile.
  net::awaitable<Resolved> resolve(const std::string& host, uint16_t port,
                                   std::chrono::steady_clock::time_point deadline);

  // Lookups started so far (tests).
  size_t lookups() const { return lookups_; }

 private:
  using Timer = net::basic_waitable_timer<std::chrono::steady_clock,
                                          net::wait_traits<std::chrono::steady_clock>, Executor>;
  // One lookup, shared by its waiters, the cache entry and the completion callback (which may
  // run after both are gone).
  struct Lookup {
    bool done = false;
    error_code ec;
    Endpoints endpoints;
    std::chrono::steady_clock::time_point finished_at{};
    std::vector<Timer*> waiters;  // cancelled (woken) on completion; each removes itself on timeout
  };
  struct Entry {
    std::shared_ptr<Lookup> pending;
    std::chrono::steady_clock::time_point failed_until{};
    error_code failure;
  };
  void settle(Entry& entry);  // folds a finished pending lookup into the entry

  Executor executor_;
  LookupFn lookup_;
  std::map<std::pair<std::string, uint16_t>, Entry> entries_;
  size_t lookups_ = 0;
};

}  // namespace sy::server
