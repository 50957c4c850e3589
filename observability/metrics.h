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

  // {endpoint, tier, backend, model, team, code}: one per finished request (code = HTTP status
  // sent; model = the answering backend's model id; team = the key's team, "" without one).
  prometheus::Family<prometheus::Counter>& requests_total;
  // {team, backend, model, direction}: tokens billed, direction "input" (prompt) or "output".
  prometheus::Family<prometheus::Counter>& tokens_total;
  // {team, backend, model}: what the answered requests cost at the backends' policy prices.
  prometheus::Family<prometheus::Counter>& cost_usd_total;
  // {team}: what the same tokens would have cost at the policy's all-frontier baseline price, and
  // the difference (baseline - actual) for requests that cost less than the baseline.
  prometheus::Family<prometheus::Counter>& baseline_cost_usd_total;
  prometheus::Family<prometheus::Counter>& savings_usd_total;
  // {tier, backend}: from the request's start to the first response body byte sent to the client.
  prometheus::Family<prometheus::Histogram>& time_to_first_token_seconds;
  // {sensitivity, difficulty, tier, rule}: one per routed or blocked request.
  prometheus::Family<prometheus::Counter>& routing_decisions_total;
  // {reason}: requests refused with 403 (dlp, routing_rule, scope, external_sensitivity).
  prometheus::Family<prometheus::Counter>& blocks_total;
  // {backend}: 1 when the backend is healthy (active checks), 0 otherwise.
  prometheus::Family<prometheus::Gauge>& backend_healthy;
  // {backend}: the circuit breaker: 0 closed, 1 open, 2 half-open.
  prometheus::Family<prometheus::Gauge>& backend_breaker_state;
  // {backend, to}: breaker transitions, to "open", "half_open" or "closed" (copied from the
  // breakers at each scrape).
  prometheus::Family<prometheus::Counter>& backend_breaker_transitions_total;
  // {endpoint}: from the first request byte to the last response byte.
  prometheus::Family<prometheus::Histogram>& request_duration_seconds;
  // {backend}: time from sending the request upstream to the response head.
  prometheus::Family<prometheus::Histogram>& upstream_first_byte_seconds;
  // {backend, reason}: connect/timeout/reset/status failures seen on upstream attempts.
  prometheus::Family<prometheus::Counter>& upstream_errors_total;
  // {backend, reason}: upstream attempts made after a failed one in the same tier; backend and
  // reason (as in upstream_errors_total) are those of the failed attempt being retried.
  prometheus::Family<prometheus::Counter>& upstream_retries_total;
  // {from_tier, to_tier}: requests that moved on to a fallback tier after their tier failed.
  prometheus::Family<prometheus::Counter>& fallbacks_total;
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
  // {op}: the Redis limit store's calls (op "admit" or "settle": one script each), from the call
  // to the reply, as the gateway sees them (connecting included). Failed calls are not observed.
  prometheus::Family<prometheus::Histogram>& redis_duration_seconds;
  // {op, reason}: Redis limit store calls that failed: reason "unavailable" (no reply within
  // state.redis.timeout: refused, reset, timed out, malformed), "error" (Redis answered an error,
  // e.g. a failed script, OOM, a wrong ACL) or "reply" (an answer the store does not understand).
  prometheus::Family<prometheus::Counter>& redis_errors_total;
  // Audit records that could not be written (the policy's on_failure choice applied).
  prometheus::Counter& audit_errors_total;
  // The audit writer's own figures, copied from AuditLog::stats() at each scrape.
  prometheus::Counter& audit_records_total;
  prometheus::Counter& audit_fsyncs_total;
  prometheus::Gauge& audit_last_fsync_seconds;
  prometheus::Gauge& active_connections;
  prometheus::Gauge& inflight_body_bytes;  // request bodies held now (max_inflight_body_bytes)
  prometheus::Counter& session_exceptions_total;
  prometheus::Counter& config_reloads_total;          // successful reloads
  prometheus::Counter& config_reload_failures_total;  // rejected files; the old policy stays
  // {result="ok"|"error", trigger="signal"|"file"}: every reload attempt (all four children are
  // exported from the start, at 0).
  prometheus::Family<prometheus::Counter>& policy_reloads_total;
  // difficulty.judge: consultations by outcome (agreed, overruled, timeout, failed, skipped_dlp)
  // and the duration of those that reached the judge backend.
  prometheus::Family<prometheus::Counter>& difficulty_judge_total;
  prometheus::Family<prometheus::Histogram>& difficulty_judge_duration_seconds;
  prometheus::Counter& policyReloads(bool ok, bool by_file) {
    return policy_reloads_total.Add(
        {{"result", ok ? "ok" : "error"}, {"trigger", by_file ? "file" : "signal"}});
  }
  // Shadow mode (`shadow:`): requests the candidate policy decided, and how many it decided
  // differently by rule pair {active_rule, shadow_rule} (rule names from the two policies, or
  // the gateway's own refusal codes in parentheses: never client strings). Evaluations that
  // failed (a bug; the client's answer is unaffected) are counted apart.
  prometheus::Counter& shadow_evaluations_total;
  prometheus::Family<prometheus::Counter>& shadow_disagreements_total;
  prometheus::Counter& shadow_errors_total;
  // {outcome}: Responses API answers the gateway meant to store (`responses.store`), after the
  // answer went out: stored, too_large (over max_bytes_per_response: not stored, the answer said
  // store: false) or error (the store failed; logged, the delivered answer unaffected).
  prometheus::Family<prometheus::Counter>& responses_stored_total;

  // Text exposition format 0.0.4 of everything registered.
  std::string serialize() const;

  // Bucket boundaries (seconds) sized for LLM latencies: 1 ms .. 5 min.
  static const prometheus::Histogram::BucketBoundaries& latencyBuckets();
  // Time-to-first-token buckets: 10 ms .. 60 s, dense around interactive latencies.
  static const prometheus::Histogram::BucketBoundaries& ttftBuckets();
  // Redis call buckets: 50 us .. 1 s (a loopback script call takes ~0.1 ms).
  static const prometheus::Histogram::BucketBoundaries& redisBuckets();
};

}  // namespace sy::observability
