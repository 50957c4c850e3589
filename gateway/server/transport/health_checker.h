// Active health checks: every backend whose policy enables them (`health_check`, on by default
// for self-hosted backends) is probed with `GET <path>` every interval on the admin thread; a 2xx
// within the timeout is a pass. Results go to BackendStates::recordProbe, which marks a backend
// unhealthy after consecutive failures and healthy again after consecutive passes; selection
// skips unhealthy backends. Follows policy reloads (each round reads the current snapshot).
// Runs on one executor: NOT thread-safe.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <string>

#include "gateway/config/snapshot.h"
#include "gateway/server/transport/deadline.h"
#include "gateway/server/transport/name_resolver.h"
#include "gateway/server/transport/net.h"
#include "router/selection.h"

namespace sy::server {

class HealthChecker {
 public:
  HealthChecker(Executor executor, config::SnapshotHolder& snapshots,
                router::BackendStates& states);

  void start();
  void stop();  // no new probe starts; probes in flight end with their timeout

 private:
  net::awaitable<void> loop();
  net::awaitable<void> probe(std::shared_ptr<const config::Snapshot> pinned,
                             const config::BackendRuntime& backend);

  Executor executor_;
  config::SnapshotHolder& snapshots_;
  router::BackendStates& states_;
  DeadlineSweeper sweeper_;
  NameResolver resolver_;  // the probes' own, on the admin thread
  net::steady_timer timer_;
  std::map<std::string, std::chrono::steady_clock::time_point, std::less<>> next_due_;
  bool stopped_ = false;
};

}  // namespace sy::server
