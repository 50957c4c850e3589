#include "gateway/server/transport/name_resolver.h"

#include <algorithm>

namespace sy::server {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

LookupFn systemLookup(Executor executor) {
  return [executor](const std::string& host, uint16_t port, LookupDone done) {
    // The handler owns the resolver: it lives until the lookup ends, whoever stopped waiting.
    auto resolver = std::make_shared<net::ip::basic_resolver<tcp, Executor>>(executor);
    resolver->async_resolve(
        host, std::to_string(port),
        [resolver, done = std::move(done)](const error_code& ec,
                                           const tcp::resolver::results_type& results) {
          Endpoints endpoints;
          for (const auto& entry : results) {
            endpoints.push_back(entry.endpoint());
          }
          done(ec, std::move(endpoints));
        });
  };
}

NameResolver::NameResolver(Executor executor, LookupFn lookup)
    : executor_(std::move(executor)), lookup_(std::move(lookup)) {}

void NameResolver::settle(Entry& entry) {
  if (!entry.pending || !entry.pending->done) {
    return;
  }
  const Lookup& lookup = *entry.pending;
  entry.failure = lookup.ec;
  entry.failed_until = lookup.ec ? lookup.finished_at + kNegativeTtl : Clock::time_point{};
  entry.pending.reset();
}

net::awaitable<NameResolver::Resolved> NameResolver::resolve(const std::string& host,
                                                             uint16_t port,
                                                             Clock::time_point deadline) {
  error_code not_literal;
  const net::ip::address address = net::ip::make_address(host, not_literal);
  if (!not_literal) {
    co_return Resolved{{}, {tcp::endpoint(address, port)}};
  }
  const auto key = std::pair{host, port};
  std::shared_ptr<Lookup> lookup;
  {
    Entry& entry = entries_[key];
    settle(entry);
    if (entry.failure && Clock::now() < entry.failed_until) {
      co_return Resolved{entry.failure, {}, /*cached=*/true};
    }
    if (!entry.pending) {
      entry.pending = std::make_shared<Lookup>();
      ++lookups_;
      // May complete at once (a fake, or a failure to start): `entry` is not touched after it.
      lookup_(host, port, [pending = entry.pending](error_code ec, Endpoints endpoints) {
        pending->done = true;
        pending->ec = ec;
        pending->endpoints = std::move(endpoints);
        pending->finished_at = Clock::now();
        for (Timer* waiter : std::exchange(pending->waiters, {})) {
          waiter->cancel();  // wakes it: it finds `done`
        }
      });
    }
    lookup = entry.pending;
  }
  if (!lookup->done) {
    Timer timer(executor_, deadline);
    lookup->waiters.push_back(&timer);
    // Also when the frame is destroyed mid-wait (io_context shutdown): no dangling waiter.
    struct Unregister {
      Lookup& lookup;
      Timer* timer;
      ~Unregister() { std::erase(lookup.waiters, timer); }
    } unregister{*lookup, &timer};
    co_await timer.async_wait(kTuple);  // cancelled by the completion, or the deadline
  }
  Entry& entry = entries_[key];
  if (lookup->done) {
    if (entry.pending == lookup) {
      settle(entry);
    }
    co_return Resolved{lookup->ec, lookup->ec ? Endpoints{} : lookup->endpoints};
  }
  // Overdue: fail now and for kNegativeTtl; the lookup goes on, and a success clears this.
  entry.failure = net::error::timed_out;
  entry.failed_until = Clock::now() + kNegativeTtl;
  co_return Resolved{net::error::timed_out, {}};
}

}  // namespace sy::server
