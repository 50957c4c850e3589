#include "gateway/server/transport/worker_state.h"

#include <openssl/rand.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cstdio>
#include <map>

#include "observability/logging.h"

namespace sy::server {

WorkerState::WorkerState(Executor executor, SharedState& shared_state)
    : shared(shared_state), deadlines(executor), upstream(executor, deadlines), executor_(executor) {
  deadlines.start();
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&id_prefix_), sizeof id_prefix_) != 1) {
    id_prefix_ = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
}

WorkerState::~WorkerState() { flushAccessLog(); }

void WorkerState::accessLog(std::string_view fields) {
  if (!log::enabled(log::Level::Info)) {
    return;
  }
  const size_t before = access_lines_.size();
  log::formatFields(access_lines_, "request", fields);
  if (access_lines_.size() > log::kAtomicWriteBytes && before > 0) {
    // Too long for one atomic write with the new line: what was gathered goes first.
    log::writeLines(std::string_view(access_lines_).substr(0, before));
    access_lines_.erase(0, before);
  }
  if (before == 0) {
    net::post(executor_, [this] { flushAccessLog(); });
  }
}

void WorkerState::flushAccessLog() {
  if (!access_lines_.empty()) {
    log::writeLines(access_lines_);
    access_lines_.clear();
  }
}

uint64_t WorkerState::random() {
  uint64_t z = (random_state_ += 0x9e3779b97f4a7c15ull) ^ id_prefix_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::string WorkerState::nextRequestId() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  const uint64_t halves[2] = {id_prefix_, ++id_counter_};
  for (int half = 0; half < 2; ++half) {
    for (int i = 0; i < 16; ++i) {
      id[half * 16 + 15 - i] = kHex[(halves[half] >> (4 * i)) & 0xf];
    }
  }
  return id;
}

std::string WorkerState::labelKey(const void* family, Labels labels) {
  std::string key;
  key.reserve(96);
  key.append(reinterpret_cast<const char*>(&family), sizeof family);
  for (const auto& [name, value] : labels) {
    key.push_back('\x1f');
    key.append(value);
  }
  return key;
}

namespace {

std::map<std::string, std::string> labelMap(
    std::initializer_list<std::pair<std::string_view, std::string_view>> labels) {
  std::map<std::string, std::string> map;
  for (const auto& [name, value] : labels) {
    map.emplace(name, value);
  }
  return map;
}

}  // namespace

prometheus::Counter& WorkerState::cachedCounter(prometheus::Family<prometheus::Counter>& family,
                                                Labels labels) {
  std::string key = labelKey(&family, labels);
  auto it = counters_.find(key);
  if (it == counters_.end()) {
    // Family::Add locks: it runs once per label set per worker.
    it = counters_.emplace(std::move(key), &family.Add(labelMap(labels))).first;
  }
  return *it->second;
}

prometheus::Histogram& WorkerState::cachedHistogram(
    prometheus::Family<prometheus::Histogram>& family, Labels labels,
    const prometheus::Histogram::BucketBoundaries& buckets) {
  std::string key = labelKey(&family, labels);
  auto it = histograms_.find(key);
  if (it == histograms_.end()) {
    it = histograms_.emplace(std::move(key), &family.Add(labelMap(labels), buckets)).first;
  }
  return *it->second;
}

void WorkerState::recordRequest(const RequestLabels& labels, double seconds) {
  auto& metrics = shared.metrics;
  const unsigned status = labels.status;
  char code[3] = {static_cast<char>('0' + status / 100 % 10),
                  static_cast<char>('0' + status / 10 % 10), static_cast<char>('0' + status % 10)};
  cachedCounter(metrics.requests_total, {{"endpoint", labels.endpoint},
                                         {"tier", labels.tier},
                                         {"backend", labels.backend},
                                         {"model", labels.model},
                                         {"team", labels.team},
                                         {"code", std::string_view(code, 3)}})
      .Increment();
  cachedHistogram(metrics.request_duration_seconds, {{"endpoint", labels.endpoint}},
                  observability::GatewayMetrics::latencyBuckets())
      .Observe(seconds);
}

void WorkerState::recordUsage(std::string_view team, const BackendSpec& backend, uint64_t tokens_in,
                              uint64_t tokens_out, uint64_t cached_in,
                              const std::optional<Cost>& baseline) {
  auto& metrics = shared.metrics;
  const std::string_view name = backend.name;
  const std::string_view model = backend.model;
  if (tokens_in > 0) {
    cachedCounter(metrics.tokens_total,
                  {{"team", team}, {"backend", name}, {"model", model}, {"direction", "input"}})
        .Increment(static_cast<double>(tokens_in));
  }
  if (tokens_out > 0) {
    cachedCounter(metrics.tokens_total,
                  {{"team", team}, {"backend", name}, {"model", model}, {"direction", "output"}})
        .Increment(static_cast<double>(tokens_out));
  }
  if (cached_in > 0) {
    cachedCounter(metrics.tokens_total, {{"team", team},
                                         {"backend", name},
                                         {"model", model},
                                         {"direction", "cached_input"}})
        .Increment(static_cast<double>(cached_in));
  }
  const double cost = backend.cost.usd(tokens_in, tokens_out, cached_in);
  cachedCounter(metrics.cost_usd_total, {{"team", team}, {"backend", name}, {"model", model}})
      .Increment(cost);
  if (baseline) {
    const double baseline_cost = baseline->usd(tokens_in, tokens_out, cached_in);
    cachedCounter(metrics.baseline_cost_usd_total, {{"team", team}}).Increment(baseline_cost);
    cachedCounter(metrics.savings_usd_total, {{"team", team}})
        .Increment(std::max(0.0, baseline_cost - cost));
  }
}

void WorkerState::recordFirstToken(std::string_view tier, std::string_view backend,
                                   double seconds) {
  cachedHistogram(shared.metrics.time_to_first_token_seconds,
                  {{"tier", tier}, {"backend", backend}},
                  observability::GatewayMetrics::ttftBuckets())
      .Observe(seconds);
}

void WorkerState::recordRouting(std::string_view sensitivity, std::string_view difficulty,
                                std::string_view tier, std::string_view rule) {
  cachedCounter(
      shared.metrics.routing_decisions_total,
      {{"sensitivity", sensitivity}, {"difficulty", difficulty}, {"tier", tier}, {"rule", rule}})
      .Increment();
}

void WorkerState::recordBlock(std::string_view reason) {
  cachedCounter(shared.metrics.blocks_total, {{"reason", reason}}).Increment();
}

void WorkerState::recordFirstByte(std::string_view backend, double seconds) {
  cachedHistogram(shared.metrics.upstream_first_byte_seconds, {{"backend", backend}},
                  observability::GatewayMetrics::latencyBuckets())
      .Observe(seconds);
}

void WorkerState::recordRejection(std::string_view reason) {
  cachedCounter(shared.metrics.downstream_rejections_total, {{"reason", reason}}).Increment();
}

void WorkerState::recordUpstreamError(std::string_view backend, std::string_view reason) {
  cachedCounter(shared.metrics.upstream_errors_total, {{"backend", backend}, {"reason", reason}})
      .Increment();
}

void WorkerState::recordRetry(std::string_view backend, std::string_view reason) {
  cachedCounter(shared.metrics.upstream_retries_total, {{"backend", backend}, {"reason", reason}})
      .Increment();
}

void WorkerState::recordFallback(std::string_view from_tier, std::string_view to_tier) {
  cachedCounter(shared.metrics.fallbacks_total, {{"from_tier", from_tier}, {"to_tier", to_tier}})
      .Increment();
}

void WorkerState::recordDlpFinding(std::string_view detector, std::string_view action,
                                   std::string_view direction) {
  cachedCounter(shared.metrics.dlp_findings_total,
                {{"detector", detector}, {"action", action}, {"direction", direction}})
      .Increment();
}

void WorkerState::recordLimitRejection(std::string_view limit) {
  cachedCounter(shared.metrics.limit_rejections_total, {{"limit", limit}}).Increment();
}

void WorkerState::recordLimitStoreError() { shared.metrics.limit_store_errors_total.Increment(); }

void WorkerState::recordJudge(std::string_view outcome, double seconds) {
  cachedCounter(shared.metrics.difficulty_judge_total, {{"outcome", outcome}}).Increment();
  if (seconds >= 0) {
    cachedHistogram(shared.metrics.difficulty_judge_duration_seconds, {},
                    observability::GatewayMetrics::latencyBuckets())
        .Observe(seconds);
  }
}

void WorkerState::recordDlpBlock(std::string_view rule) {
  cachedCounter(shared.metrics.dlp_blocks_total, {{"rule", rule}}).Increment();
}

}  // namespace sy::server
