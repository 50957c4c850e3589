// Prometheus metric families of the gateway, declared once (Envoy's stats-struct idea) and the
// text exposition served on the admin port. GatewayMetrics is built once at startup and shared
// by reference; families are thread-safe. Labels only ever take values from the policy (tier,
// backend names) or from fixed sets (endpoint, status code): never from client input.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace sy::observability {

class GatewayMetrics {
  // Declared first: members are initialized in declaration order and the families below are
  // registered in it.
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();

 public:
  GatewayMetrics();

  // {endpoint, tier, backend, code}: one per finished request (code = HTTP status sent).
  prometheus::Family<prometheus::Counter>& requests_total;
  // {endpoint}: from the first request byte to the last response byte.
  prometheus::Family<prometheus::Histogram>& request_duration_seconds;
  // {backend}: time from sending the request upstream to the response head.
  prometheus::Family<prometheus::Histogram>& upstream_first_byte_seconds;
  // {backend, reason}: connect/timeout/reset/status failures seen on upstream attempts.
  prometheus::Family<prometheus::Counter>& upstream_errors_total;
  // {reason}: connections refused at the limit, request read timeouts, malformed requests.
  prometheus::Family<prometheus::Counter>& downstream_rejections_total;
  // {detector, action, direction}: one per finding; direction is "request" or "response".
  prometheus::Family<prometheus::Counter>& dlp_findings_total;
  // {rule}: requests refused by a DLP block rule.
  prometheus::Family<prometheus::Counter>& dlp_blocks_total;
  // {limit}: requests refused with 429 by a rate limit or budget (rpm, tpm, concurrency,
  // budget_day, budget_month).
  prometheus::Family<prometheus::Counter>& limit_rejections_total;
  // The limit store (Redis) could not be reached; the policy's fail open/closed choice applied.
  prometheus::Counter& limit_store_errors_total;
  // Audit records that could not be written (the policy's on_failure choice applied).
  prometheus::Counter& audit_errors_total;
  // The audit writer's own figures, copied from AuditLog::stats() at each scrape.
  prometheus::Counter& audit_records_total;
  prometheus::Counter& audit_fsyncs_total;
  prometheus::Gauge& audit_last_fsync_seconds;
  prometheus::Gauge& active_connections;
  prometheus::Counter& session_exceptions_total;
  prometheus::Counter& config_reloads_total;          // successful reloads
  prometheus::Counter& config_reload_failures_total;  // rejected files; the old policy stays

  // Text exposition format 0.0.4 of everything registered.
  std::string serialize() const;

  // Bucket boundaries (seconds) sized for LLM latencies: 1 ms .. 5 min.
  static const prometheus::Histogram::BucketBoundaries& latencyBuckets();
};

}  // namespace sy::observability
