// Rate limits and budgets, enforced where the counters live: in this process (LocalLimitStore,
// persisted to SQLite so spend survives restarts; one replica) or in Redis (RedisLimitStore,
// atomic Lua scripts, so N replicas enforce one global limit exactly; or, in sync mode, local
// counters exchanged with Redis every interval, with a bounded overshoot across replicas).
//
// Protocol per request: admit() before forwarding checks every subject's limits (the key's and
// its team's) and, only if all pass, atomically counts the request (rpm), reserves its worst-case
// tokens (tpm) and cost (budgets) and takes a concurrency slot; settle() after the response (or
// the client's disconnect) replaces the reservation with what was actually used and frees the
// slot. A request is admitted whole or not at all: a rejection changes no counter.
//
// Windows: rpm and tpm count over the last 60 one-second buckets (so at most `rpm` requests are
// admitted in any bucket-aligned minute); budgets per UTC day and per UTC calendar month;
// concurrency slots are leases that expire (lease_ttl) so a crashed replica cannot hold them
// forever.
//
// Thread-safety: implementations are shared by all workers and thread-safe. Coroutines run on
// the calling worker's executor.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "gateway/server/transport/net.h"
#include "policies/access_config.h"
#include "policies/limit_state.h"

namespace sy::observability {
class GatewayMetrics;
}

namespace sy::server {

namespace redis {
struct Options;
}

// The value types live with the reference semantics in policies/limit_state.h (policies must
// not depend on server); the names are the same here.
using policies::Admission;
using policies::AdmitRequest;
using policies::LimitSubject;
using policies::Usage;

class LimitStore {
 public:
  virtual ~LimitStore() = default;

  // Checks and reserves. An error (not a refusal) means the store could not be reached; the
  // caller applies the policy's fail open/closed choice.
  virtual net::awaitable<Result<Admission>> admit(const AdmitRequest& request) = 0;

  // Settles an admitted request: releases its reservation and concurrency slot and records the
  // actual usage. Never fails visibly (a store error is logged and counted by the store).
  virtual net::awaitable<void> settle(const AdmitRequest& request, const Usage& used) = 0;

  // Flushes pending state (SQLite write-behind) before exit. Blocking; called once at shutdown.
  virtual void flush() {}
};

// The in-process store. Spend (budgets) is persisted to SQLite at `sqlite_path` by a background
// thread (write-behind, at least once per second, and by flush()), and loaded at startup; rate
// windows and concurrency live in memory only. Fails when the database cannot be opened.
Result<std::unique_ptr<LimitStore>> makeLocalLimitStore(const policies::StateConfig& config);

// The Redis store, for many replicas. Connects lazily per worker executor; every operation is
// bounded by config.redis_timeout. With `metrics` (which must outlive the store), each call's
// latency and failures are recorded (switchyard_redis_duration_seconds, _errors_total).
Result<std::unique_ptr<LimitStore>> makeRedisLimitStore(
    const policies::StateConfig& config, observability::GatewayMetrics* metrics = nullptr);

// Sync mode (state.redis.sync > 0; makeRedisLimitStore picks it): each replica decides on local
// counters, exchanged with Redis every `interval` (one script per active scope per interval, on
// a thread of the store's own); across R replicas a limit is overshot by at most (R - 1) x what
// one replica admits in one interval. The contract is in synced_limit_store.cc.
Result<std::unique_ptr<LimitStore>> makeSyncedRedisLimitStore(
    redis::Options options, std::chrono::milliseconds interval,
    observability::GatewayMetrics* metrics = nullptr);

// The Redis store's Lua scripts, admit then settle, as makeRedisLimitStore loads them (for tests
// that call them with arguments the store would not send).
std::vector<std::string> redisLimitScripts();

}  // namespace sy::server
