#include "observability/metrics.h"

#include <prometheus/text_serializer.h>

namespace sy::observability {
namespace {

prometheus::Family<prometheus::Counter>& counter(prometheus::Registry& registry,
                                                 const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

prometheus::Family<prometheus::Histogram>& histogram(prometheus::Registry& registry,
                                                     const std::string& name,
                                                     const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(registry);
}

}  // namespace

GatewayMetrics::GatewayMetrics()
    : requests_total(counter(*registry_, "switchyard_requests_total",
                             "Requests answered, by endpoint, tier, backend, model, team and "
                             "HTTP status.")),
      tokens_total(counter(*registry_, "switchyard_tokens_total",
                           "Tokens billed, by team, backend, model and direction (input or "
                           "output).")),
      cost_usd_total(counter(*registry_, "switchyard_cost_usd_total",
                             "Cost in USD at the policy's backend prices, by team, backend and "
                             "model.")),
      baseline_cost_usd_total(counter(*registry_, "switchyard_baseline_cost_usd_total",
                                      "Cost in USD the same tokens would have had at the "
                                      "all-frontier baseline price, by team.")),
      savings_usd_total(counter(*registry_, "switchyard_savings_usd_total",
                                "Baseline cost minus actual cost in USD, by team, over requests "
                                "that cost less than the baseline.")),
      time_to_first_token_seconds(
          histogram(*registry_, "switchyard_time_to_first_token_seconds",
                    "Time from request start to the first response byte sent to the client.")),
      routing_decisions_total(counter(*registry_, "switchyard_routing_decisions_total",
                                      "Routing decisions, by sensitivity, difficulty label, tier "
                                      "and rule.")),
      blocks_total(counter(*registry_, "switchyard_blocks_total",
                           "Requests refused with 403, by reason.")),
      backend_healthy(prometheus::BuildGauge()
                          .Name("switchyard_backend_healthy")
                          .Help("1 when the backend passes its health checks, else 0.")
                          .Register(*registry_)),
      backend_breaker_state(prometheus::BuildGauge()
                                .Name("switchyard_backend_breaker_state")
                                .Help("Circuit breaker per backend: 0 closed, 1 open, 2 half-open.")
                                .Register(*registry_)),
      backend_breaker_transitions_total(
          counter(*registry_, "switchyard_backend_breaker_transitions_total",
                  "Circuit breaker transitions per backend, by the state entered (open, "
                  "half_open, closed).")),
      request_duration_seconds(histogram(*registry_, "switchyard_request_duration_seconds",
                                         "Time from request start to last response byte.")),
      upstream_first_byte_seconds(
          histogram(*registry_, "switchyard_upstream_first_byte_seconds",
                    "Time from sending a request upstream to its response head.")),
      upstream_errors_total(counter(*registry_, "switchyard_upstream_errors_total",
                                    "Failed upstream attempts, by backend and reason.")),
      upstream_retries_total(counter(*registry_, "switchyard_upstream_retries_total",
                                     "Upstream attempts after a failed one in the same tier, by "
                                     "the failed attempt's backend and reason.")),
      fallbacks_total(counter(*registry_, "switchyard_fallbacks_total",
                              "Requests that moved on to a fallback tier, by the tier that "
                              "failed and the fallback tier.")),
      downstream_rejections_total(
          counter(*registry_, "switchyard_downstream_rejections_total",
                  "Client connections or requests rejected before routing, by reason.")),
      dlp_findings_total(counter(*registry_, "switchyard_dlp_findings_total",
                                 "DLP findings, by detector, the action taken and direction "
                                 "(request or response).")),
      dlp_blocks_total(counter(*registry_, "switchyard_dlp_blocks_total",
                               "Requests refused by a DLP rule, by rule.")),
      limit_rejections_total(counter(*registry_, "switchyard_limit_rejections_total",
                                     "Requests refused by a rate limit or budget, by limit.")),
      limit_store_errors_total(
          counter(*registry_, "switchyard_limit_store_errors_total",
                  "Limit store (Redis) failures; the policy's fail open/closed choice applied.")
              .Add({})),
      redis_duration_seconds(histogram(*registry_, "switchyard_redis_duration_seconds",
                                       "Redis limit store calls (one script each) from call to "
                                       "reply as the gateway sees them, by op (admit, settle).")),
      redis_errors_total(counter(*registry_, "switchyard_redis_errors_total",
                                 "Redis limit store calls that failed, by op (admit, settle) and "
                                 "reason (unavailable, error, reply).")),
      audit_errors_total(counter(*registry_, "switchyard_audit_errors_total",
                                 "Audit records that could not be written (full or failing "
                                 "disk); the policy's on_failure choice applied.")
                             .Add({})),
      audit_records_total(counter(*registry_, "switchyard_audit_records_total",
                                  "Audit records written (and synced in fsync mode).")
                              .Add({})),
      audit_fsyncs_total(counter(*registry_, "switchyard_audit_fsyncs_total",
                                 "fdatasync calls on the audit log (one serves many records).")
                             .Add({})),
      audit_last_fsync_seconds(prometheus::BuildGauge()
                                   .Name("switchyard_audit_last_fsync_seconds")
                                   .Help("Duration of the audit log's last fdatasync.")
                                   .Register(*registry_)
                                   .Add({})),
      active_connections(prometheus::BuildGauge()
                             .Name("switchyard_active_connections")
                             .Help("Open client connections on the data plane.")
                             .Register(*registry_)
                             .Add({})),
      inflight_body_bytes(prometheus::BuildGauge()
                              .Name("switchyard_inflight_body_bytes")
                              .Help("Request body bytes held in memory now, against "
                                    "server.limits.max_inflight_body_bytes.")
                              .Register(*registry_)
                              .Add({})),
      session_exceptions_total(
          counter(*registry_, "switchyard_session_exceptions_total",
                  "Unexpected exceptions caught at the session boundary (bugs).")
              .Add({})),
      config_reloads_total(
          counter(*registry_, "switchyard_config_reloads_total", "Policy reloads that took effect.")
              .Add({})),
      config_reload_failures_total(
          counter(*registry_, "switchyard_config_reload_failures_total",
                  "Policy reloads rejected as invalid; the running policy stayed.")
              .Add({})),
      policy_reloads_total(counter(*registry_, "switchyard_policy_reloads_total",
                                   "Policy reload attempts by result (ok: the new policy took "
                                   "effect; error: rejected, the running one stayed) and trigger "
                                   "(signal: SIGHUP; file: a watched policy file changed).")),
      difficulty_judge_total(counter(*registry_, "switchyard_difficulty_judge_total",
                                     "Second opinions asked of difficulty.judge, by outcome.")),
      difficulty_judge_duration_seconds(
          histogram(*registry_, "switchyard_difficulty_judge_duration_seconds",
                    "Time from sending a prompt to difficulty.judge to its grade.")),
      shadow_evaluations_total(
          counter(*registry_, "switchyard_shadow_evaluations_total",
                  "Requests the shadow candidate policy decided beside the active one.")
              .Add({})),
      shadow_disagreements_total(
          counter(*registry_, "switchyard_shadow_disagreements_total",
                  "Requests the shadow candidate policy decided differently, by the active "
                  "and the candidate's rule.")),
      shadow_errors_total(counter(*registry_, "switchyard_shadow_errors_total",
                                  "Shadow evaluations that failed (never seen by the client).")
                              .Add({})),
      responses_stored_total(
          counter(*registry_, "switchyard_responses_stored_total",
                  "Responses API answers meant for the response store, by outcome.")) {
  for (std::string_view outcome : {"stored", "too_large", "error"}) {
    responses_stored_total.Add({{"outcome", std::string(outcome)}});
  }
  for (const bool ok : {true, false}) {
    for (const bool by_file : {false, true}) {
      policyReloads(ok, by_file);
    }
  }
}

const prometheus::Histogram::BucketBoundaries& GatewayMetrics::latencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets{
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
  return buckets;
}

const prometheus::Histogram::BucketBoundaries& GatewayMetrics::redisBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets{
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};
  return buckets;
}

const prometheus::Histogram::BucketBoundaries& GatewayMetrics::ttftBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets{
      0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 13, 20, 30, 60};
  return buckets;
}

std::string GatewayMetrics::serialize() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace sy::observability
