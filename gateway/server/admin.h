// The admin plane, on its own listener (127.0.0.1:9090 by default): GET
// /healthz (the process is up), GET /readyz (accepting traffic; 503 while
// draining), GET /metrics (Prometheus text). Runs on the main thread's
// io_context.
#pragma once

#include <atomic>

#include "gateway/server/net.h"
#include "observability/metrics.h"

namespace sy::server {

// Serves one admin connection to completion.
net::awaitable<void> runAdminSession(tcp::socket socket, observability::GatewayMetrics& metrics,
                                     const std::atomic<bool>& draining);

}  // namespace sy::server
