#include "gateway/server/transport/health_checker.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "gateway/server/transport/upstream_client.h"
#include "observability/logging.h"

// g++ 12 misreports Asio's coroutine frame allocator here (awaitable_frame_base's sized
// operator delete "mismatched" with its operator new): a known false positive of -Werror builds.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace sy::server {
namespace {

constexpr std::chrono::milliseconds kRound{250};  // how often due probes are looked for

}  // namespace

HealthChecker::HealthChecker(Executor executor, config::SnapshotHolder& snapshots,
                             router::BackendStates& states)
    : executor_(executor),
      snapshots_(snapshots),
      states_(states),
      sweeper_(executor),
      resolver_(executor),
      timer_(executor) {}

void HealthChecker::start() {
  sweeper_.start();
  net::co_spawn(executor_, loop(), net::detached);
}

void HealthChecker::stop() {
  stopped_ = true;
  timer_.cancel();
  sweeper_.stop();
}

net::awaitable<void> HealthChecker::loop() {
  while (!stopped_) {
    const auto snapshot = snapshots_.get();
    const auto now = std::chrono::steady_clock::now();
    for (const config::BackendRuntime& backend : snapshot->backends()) {
      const HealthCheckSpec& check = backend.spec->health;
      if (!check.enabled) {
        continue;
      }
      auto [due, inserted] = next_due_.try_emplace(backend.spec->name, now);
      if (due->second > now) {
        continue;
      }
      due->second = now + check.interval;
      net::co_spawn(executor_, probe(snapshot, backend), net::detached);
    }
    timer_.expires_after(kRound);
    co_await timer_.async_wait(kTuple);
  }
}

// `pinned` keeps `backend` alive while the probe runs, even if a reload replaces the snapshot.
net::awaitable<void> HealthChecker::probe(
    [[maybe_unused]] std::shared_ptr<const config::Snapshot> pinned,
    const config::BackendRuntime& backend) {
  const BackendSpec& spec = *backend.spec;
  bool ok = false;
  std::string problem;
  UpstreamConnection connection(executor_, backend, sweeper_);
  connection.arm(spec.health.timeout);
  if (Status connected = co_await connection.connect(backend, resolver_); !connected) {
    problem = connected.error().message;
  } else {
    http::request<http::string_body> request{http::verb::get, healthCheckTarget(spec), 11};
    request.set(http::field::host, backend.host_header);
    request.set(http::field::user_agent, "switchyard-health/0.1");
    if (!backend.api_key.empty() && spec.location == Location::External) {
      request.set(http::field::authorization, "Bearer " + backend.api_key);
    }
    request.keep_alive(false);
    http::response_parser<http::empty_body> parser;
    connection.arm(spec.health.timeout);
    error_code ec = co_await connection.write(request);
    if (!ec) {
      ec = co_await connection.readHeader(parser);
    }
    if (ec) {
      problem = ec.message();
    } else {
      const unsigned status = parser.get().result_int();
      ok = status / 100 == 2;
      if (!ok) {
        problem = "HTTP " + std::to_string(status);
      }
    }
  }
  connection.disarm();
  connection.close();
  if (stopped_) {
    co_return;
  }
  router::BackendState& state = states_.state(spec.name);
  const bool was_healthy = state.healthy();
  state.recordProbe(ok);
  if (was_healthy && !state.healthy()) {
    log::warn("backend unhealthy", {{"backend", spec.name}, {"check", spec.health.path},
                                    {"error", problem}});
  } else if (!was_healthy && state.healthy()) {
    log::info("backend healthy again", {{"backend", spec.name}});
  }
}

}  // namespace sy::server
