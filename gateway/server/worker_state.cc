#include "gateway/server/worker_state.h"

#include <openssl/rand.h>

#include <cstdio>

namespace sy::server {

WorkerState::WorkerState(Executor executor, SharedState& shared_state)
    : shared(shared_state), deadlines(executor), pool(executor, deadlines) {
  deadlines.start();
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&id_prefix_), sizeof id_prefix_) != 1) {
    id_prefix_ = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
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

prometheus::Counter& WorkerState::cachedCounter(prometheus::Family<prometheus::Counter>& family,
                                                Labels labels) {
  std::string key;
  key.reserve(64);
  const void* family_id = &family;
  key.append(reinterpret_cast<const char*>(&family_id), sizeof family_id);
  for (const auto& [name, value] : labels) {
    key.push_back('\x1f');
    key.append(value);
  }
  auto it = counters_.find(key);
  if (it == counters_.end()) {
    // Family::Add locks: it runs once per label set per worker.
    std::map<std::string, std::string> label_map;
    for (const auto& [name, value] : labels) {
      label_map.emplace(name, value);
    }
    it = counters_.emplace(std::move(key), &family.Add(label_map)).first;
  }
  return *it->second;
}

void WorkerState::recordRequest(std::string_view endpoint, std::string_view tier,
                                std::string_view backend, unsigned status, double seconds) {
  auto& metrics = shared.metrics;
  char code[3] = {static_cast<char>('0' + status / 100 % 10),
                  static_cast<char>('0' + status / 10 % 10), static_cast<char>('0' + status % 10)};
  cachedCounter(metrics.requests_total, {{"endpoint", endpoint},
                                         {"tier", tier},
                                         {"backend", backend},
                                         {"code", std::string_view(code, 3)}})
      .Increment();
  cachedHistogram(metrics.request_duration_seconds, "endpoint", endpoint).Observe(seconds);
}

void WorkerState::recordFirstByte(std::string_view backend, double seconds) {
  cachedHistogram(shared.metrics.upstream_first_byte_seconds, "backend", backend).Observe(seconds);
}

prometheus::Histogram& WorkerState::cachedHistogram(
    prometheus::Family<prometheus::Histogram>& family, std::string_view label,
    std::string_view value) {
  std::string key(label);
  key.push_back('\x1f');
  key.append(value);
  auto it = histograms_.find(key);
  if (it == histograms_.end()) {
    auto& child = family.Add({{std::string(label), std::string(value)}},
                             observability::GatewayMetrics::latencyBuckets());
    it = histograms_.emplace(std::move(key), &child).first;
  }
  return *it->second;
}

void WorkerState::recordRejection(std::string_view reason) {
  cachedCounter(shared.metrics.downstream_rejections_total, {{"reason", reason}}).Increment();
}

void WorkerState::recordUpstreamError(std::string_view backend, std::string_view reason) {
  cachedCounter(shared.metrics.upstream_errors_total, {{"backend", backend}, {"reason", reason}})
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

void WorkerState::recordDlpBlock(std::string_view rule) {
  cachedCounter(shared.metrics.dlp_blocks_total, {{"rule", rule}}).Increment();
}

}  // namespace sy::server
