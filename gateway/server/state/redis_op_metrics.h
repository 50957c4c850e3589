// The metric children of one Redis operation of a store (switchyard_redis_duration_seconds{op}
// and switchyard_redis_errors_total{op,reason}), resolved once when the store is built, and the
// timing of one call. Shared by the Redis limit stores and the Redis response store.
// Thread-safety: immutable after construction; prometheus children are thread-safe.
#pragma once

#include <chrono>
#include <string>

#include "gateway/server/state/redis_client.h"
#include "observability/metrics.h"

namespace sy::server {

struct RedisOpMetrics {
  prometheus::Histogram* duration = nullptr;
  prometheus::Counter* unavailable = nullptr;  // no reply within the timeout
  prometheus::Counter* error = nullptr;        // Redis answered an error
  prometheus::Counter* reply = nullptr;        // a reply of an unexpected shape

  // The children of op `name`; all null without `metrics` (then nothing is recorded).
  static RedisOpMetrics make(observability::GatewayMetrics* metrics, const std::string& name) {
    RedisOpMetrics out;
    if (metrics == nullptr) {
      return out;
    }
    out.duration = &metrics->redis_duration_seconds.Add(
        {{"op", name}}, observability::GatewayMetrics::redisBuckets());
    out.unavailable = &metrics->redis_errors_total.Add({{"op", name}, {"reason", "unavailable"}});
    out.error = &metrics->redis_errors_total.Add({{"op", name}, {"reason", "error"}});
    out.reply = &metrics->redis_errors_total.Add({{"op", name}, {"reason", "reply"}});
    return out;
  }

  static void count(prometheus::Counter* counter) {
    if (counter != nullptr) {
      counter->Increment();
    }
  }

  // Records one finished call that started at `start`: its latency when a reply came, and the
  // unavailable/error counters.
  void record(const Result<redis::Reply>& reply,
              std::chrono::steady_clock::time_point start) const {
    if (!reply) {
      count(unavailable);
      return;
    }
    if (duration != nullptr) {
      duration->Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    if (reply->type == redis::Reply::Type::Error) {
      count(error);
    }
  }
};

}  // namespace sy::server
