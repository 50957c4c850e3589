// Everything one worker thread owns: its upstream (pooled connections), request-id generator,
// round-robin counter and cached metric children. Used only from that worker's
// thread: NOT thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <unordered_map>

#include "gateway/config/snapshot.h"
#include "gateway/server/state/limit_store.h"
#include "gateway/server/state/response_store.h"
#include "gateway/server/transport/body_budget.h"
#include "gateway/server/transport/deadline.h"
#include "gateway/server/transport/upstream_client.h"
#include "observability/audit_log.h"
#include "observability/metrics.h"
#include "router/selection.h"

namespace sy::server {

// Process-wide state shared by all workers: the snapshot and the metric
// families (thread-safe).
struct SharedState {
  config::SnapshotHolder& snapshots;
  observability::GatewayMetrics& metrics;
  LimitStore* limits = nullptr;              // null when the policy has no rate limit or budget
  observability::AuditLog* audit = nullptr;  // null when the policy has no `audit:` section
  router::BackendStates* backend_states = nullptr;  // breakers, load and health per backend
  ResponseStore* responses = nullptr;  // null unless the policy's responses.store is true
  std::atomic<bool> draining{false};
  std::atomic<uint32_t> connections{0};
  // Request bodies held in memory (server.limits.max_inflight_body_bytes).
  BodyBudget bodies{&metrics.inflight_body_bytes};
};

class WorkerState {
 public:
  WorkerState(Executor executor, SharedState& shared);
  ~WorkerState();  // writes the access log lines still gathered
  WorkerState(const WorkerState&) = delete;
  WorkerState& operator=(const WorkerState&) = delete;

  SharedState& shared;
  DeadlineSweeper deadlines;  // declared before the pool: pooled connections hold deadlines
  PooledUpstream upstream;    // the pipeline's default Upstream
  uint64_t rotation = 0;  // spreads requests over a tier's backends

  // A new 32-hex-digit request id: a random per-worker prefix and a counter.
  std::string nextRequestId();
  // A fast pseudo-random number (splitmix64) for load balancing and retry jitter; not for secrets.
  uint64_t random();

  // One access log line ({"msg":"request",...}, `fields` as for log::formatFields). Lines are
  // gathered and written together once the event loop has run what is ready (one write(2) for
  // several requests under load, at most log::kAtomicWriteBytes each), so a line is never held
  // back longer than one turn of the loop.
  void accessLog(std::string_view fields);

  // Counts a finished request; label values are policy names or fixed strings
  // only.
  struct RequestLabels {
    std::string_view endpoint, tier = {}, backend = {}, model = {}, team = {};
    unsigned status = 0;
  };
  void recordRequest(const RequestLabels& labels, double seconds);
  // Tokens, cost and (with a baseline price) baseline cost and savings of an answered request.
  // `cached_in`: the prompt tokens read from the provider's prompt cache (part of `tokens_in`),
  // counted again as direction "cached_input" and priced at the cached rate.
  void recordUsage(std::string_view team, const BackendSpec& backend, uint64_t tokens_in,
                   uint64_t tokens_out, uint64_t cached_in, const std::optional<Cost>& baseline);
  void recordFirstToken(std::string_view tier, std::string_view backend, double seconds);
  void recordRouting(std::string_view sensitivity, std::string_view difficulty,
                     std::string_view tier, std::string_view rule);
  void recordBlock(std::string_view reason);
  void recordRejection(std::string_view reason);
  void recordFirstByte(std::string_view backend, double seconds);
  void recordUpstreamError(std::string_view backend, std::string_view reason);
  // An attempt after a failed one in the same tier (the failed attempt's backend and reason).
  void recordRetry(std::string_view backend, std::string_view reason);
  void recordFallback(std::string_view from_tier, std::string_view to_tier);
  void recordDlpFinding(std::string_view detector, std::string_view action,
                        std::string_view direction);
  void recordDlpBlock(std::string_view rule);
  void recordLimitRejection(std::string_view limit);
  void recordLimitStoreError();
  void recordJudge(std::string_view outcome, double seconds);  // seconds < 0: not sent

 private:
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;
  prometheus::Counter& cachedCounter(prometheus::Family<prometheus::Counter>& family,
                                     Labels labels);
  void flushAccessLog();
  Executor executor_;
  std::string access_lines_;  // whole lines not yet written
  uint64_t id_prefix_;
  uint64_t id_counter_ = 0;
  uint64_t random_state_ = 0;
  std::unordered_map<std::string, prometheus::Counter*> counters_;
  prometheus::Histogram& cachedHistogram(prometheus::Family<prometheus::Histogram>& family,
                                         Labels labels,
                                         const prometheus::Histogram::BucketBoundaries& buckets);
  static std::string labelKey(const void* family, Labels labels);
  std::unordered_map<std::string, prometheus::Histogram*> histograms_;
};

}  // namespace sy::server
