// The live state of one backend: outstanding requests, a circuit breaker fed by request
// outcomes (passive outlier detection, after Envoy's consecutive-5xx and failure-percentage
// ejection) and the verdict of the gateway's active health probes.
// Thread-safe: every method may be called from any worker. The hot path (acquire, record on a
// closed breaker, the reads) uses atomics only; a small per-backend mutex serializes state
// transitions (ejection, closing, window rotation, probe results).
// BackendStates (router/selection.h) owns one per backend name; an Inflight guard borrows it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "router/outcome.h"

namespace sy::router {

using SteadyClock = std::chrono::steady_clock;
// The time source. Production: SteadyClock::now; tests: a fake clock.
using NowFn = std::function<SteadyClock::time_point()>;

// Thresholds of the breaker and of active health. Defaults live here, in one place.
struct SelectionPolicy {
  // Eject after this many breaker failures in a row (ServerError, ConnectError, Timeout) while
  // closed. A success resets the run; RateLimited and Cancelled leave it alone. 0 disables.
  uint32_t consecutive_failures = 5;
  // Also eject when more than this fraction of the counted outcomes in the current tumbling
  // window of `ratio_window` failed, once the window has `ratio_min_requests` outcomes.
  // 0 disables (the default).
  double failure_ratio = 0;
  uint32_t ratio_min_requests = 20;
  std::chrono::milliseconds ratio_window{10'000};
  // Open time of the n-th consecutive ejection: ejection_base * 2^(n-1), at most ejection_max.
  std::chrono::milliseconds ejection_base{10'000};
  std::chrono::milliseconds ejection_max{300'000};
  // An ejection that follows `streak_reset_after` or more of closed breaker starts at base again.
  std::chrono::milliseconds streak_reset_after{300'000};
  // Active health: consecutive probe results that flip the verdict.
  uint32_t healthy_threshold = 2;
  uint32_t unhealthy_threshold = 3;

  bool operator==(const SelectionPolicy&) const = default;
};

// Exported as a gauge: closed=0, open=1, half_open=2.
enum class BreakerState : uint8_t { Closed = 0, Open = 1, HalfOpen = 2 };
std::string_view toString(BreakerState);  // "closed", "open", "half_open"

// One backend, for /metrics and /admin. A consistent-enough copy: fields are read one by one.
struct BackendStatus {
  std::string name;
  bool healthy = true;  // the active-health verdict
  BreakerState breaker = BreakerState::Closed;
  uint32_t outstanding = 0;
  uint64_t ejections_total = 0;  // transitions to open (from closed, or a failed probe)
  uint32_t consecutive_failures = 0;
  // Transitions to half-open (an open period ran out; computed, since that happens by time
  // alone) and to closed (a probe succeeded). Never decrease.
  uint64_t half_opens_total = 0;
  uint64_t closes_total = 0;
};

class BackendState;

// Counts one try of a backend as outstanding from acquire() until destruction (or reset()), and
// carries the half-open probe slot when the try was admitted as the probe. Move-only; an empty
// (default or moved-from) guard does nothing. Not thread-safe itself: one request owns it.
class Inflight {
 public:
  Inflight() = default;
  Inflight(Inflight&& other) noexcept;
  Inflight& operator=(Inflight&& other) noexcept;
  Inflight(const Inflight&) = delete;
  Inflight& operator=(const Inflight&) = delete;
  ~Inflight() { reset(); }

  // False when acquire() refused the backend (or the guard is empty): do not try it.
  explicit operator bool() const { return state_ != nullptr; }
  // True when this try is the single half-open probe: its outcome closes or re-opens the breaker.
  bool probe() const { return probe_epoch_ != 0; }

  // Records the outcome of this try in the breaker. Only the first call counts; later calls and
  // calls on an empty guard are ignored. Call it as soon as the outcome is known (the response
  // head, or the end of a stream if it may still fail); the request stays outstanding until the
  // guard is destroyed. A guard destroyed without report() counts as Cancelled (neutral).
  void report(Outcome outcome);

  // Ends the try now: an unreported probe gives its slot back, outstanding is decremented, the
  // guard becomes empty. Idempotent.
  void reset();

 private:
  friend class BackendState;
  Inflight(BackendState* state, uint64_t probe_epoch) : state_(state), probe_epoch_(probe_epoch) {}

  BackendState* state_ = nullptr;
  uint64_t probe_epoch_ = 0;  // the ejection this try probes; 0 = not a probe
  bool reported_ = false;
};

class BackendState {
 public:
  // `policy` and `now` are borrowed and must outlive this object (BackendStates owns all three).
  // `policy` points at the current thresholds; every policy it ever pointed at must stay alive
  // too (BackendStates::setPolicy may swap it at any time: each operation loads it once).
  BackendState(std::string name, const std::atomic<const SelectionPolicy*>& policy,
               const NowFn& now);
  BackendState(const BackendState&) = delete;
  BackendState& operator=(const BackendState&) = delete;

  const std::string& name() const { return name_; }

  // Admits one try. Without `panic`: refused (empty guard) when the backend is actively
  // unhealthy, its breaker is open, or it is half-open and another try holds the probe slot.
  // With `panic` (no candidate was admissible): always admitted, as the probe if the slot is free.
  Inflight acquire(bool panic = false);

  // True when acquire(false) would currently admit a try (racy by nature: a hint for ordering).
  bool admissible() const;

  // Records the outcome of a try that was not admitted through an Inflight (rare: prefer the
  // guard). Counts only while the breaker is closed, like every non-probe outcome.
  void record(Outcome outcome);

  // Records one active health probe (the gateway's periodic GET). `healthy_threshold` successes
  // in a row mark the backend healthy, `unhealthy_threshold` failures in a row unhealthy.
  // Independent of the breaker: a backend must be healthy AND have a closed/probe-free breaker.
  void recordProbe(bool ok);

  bool healthy() const { return healthy_.load(std::memory_order_relaxed); }
  BreakerState breaker() const;
  uint32_t outstanding() const { return outstanding_.load(std::memory_order_relaxed); }
  BackendStatus status() const;

 private:
  friend class Inflight;
  static constexpr uint8_t kClosed = 0;
  static constexpr uint8_t kOpen = 1;

  BreakerState breakerAt(int64_t now) const;
  bool claimProbe(uint64_t epoch);
  void release() { outstanding_.fetch_sub(1, std::memory_order_relaxed); }
  void finish(Outcome outcome, uint64_t probe_epoch);  // from Inflight::report
  void abandonProbe(uint64_t probe_epoch);             // an unreported probe ended
  void recordClosed(const SelectionPolicy& policy, Outcome outcome, int64_t now);
  bool ratioExceeded(const SelectionPolicy& policy, bool failure, int64_t now);
  void ejectLocked(const SelectionPolicy& policy, int64_t now, bool from_closed);
  const SelectionPolicy& policy() const { return *policy_.load(std::memory_order_acquire); }
  int64_t nowTicks() const;

  const std::string name_;
  const std::atomic<const SelectionPolicy*>& policy_;
  const NowFn& now_;

  std::atomic<uint32_t> outstanding_{0};
  std::atomic<bool> healthy_{true};  // optimistic until probes say otherwise
  // Breaker. state_/open_until_/ejections_ change only under mu_; readers use them lock-free.
  std::atomic<uint8_t> state_{kClosed};
  std::atomic<int64_t> open_until_{0};    // steady ticks; half-open from then on
  std::atomic<uint64_t> ejections_{0};    // also the epoch a probe belongs to
  std::atomic<uint64_t> probe_epoch_{0};  // epoch whose probe slot is taken; 0 = free
  std::atomic<uint32_t> consecutive_failures_{0};
  std::atomic<uint64_t> closes_{0};  // probes that closed the breaker
  std::atomic<int64_t> window_start_{0};
  std::atomic<uint32_t> window_total_{0};
  std::atomic<uint32_t> window_failures_{0};

  std::mutex mu_;
  uint32_t streak_ = 0;           // consecutive ejections (guarded by mu_)
  int64_t closed_since_ = 0;      // guarded by mu_
  uint32_t probe_successes_ = 0;  // active health runs (guarded by mu_)
  uint32_t probe_failures_ = 0;
};

}  // namespace sy::router
