// The admin plane, on its own listener (127.0.0.1:9090 by default): GET
// /healthz (the process is up), GET /readyz (accepting traffic; 503 while
// draining), GET /metrics (Prometheus text), POST /admin/explain (the decision
// for a request body, as `switchyard explain`). Runs on the main thread's
// io_context.
#pragma once

#include <atomic>

#include "gateway/server/transport/net.h"
#include "gateway/server/transport/worker_state.h"

namespace sy::server {

// Serves one admin connection to completion.
net::awaitable<void> runAdminSession(tcp::socket socket, SharedState& shared);

}  // namespace sy::server
