#include "router/backend_state.h"

#include <algorithm>
#include <utility>

namespace sy::router {
namespace {

int64_t ticksOf(std::chrono::milliseconds duration) {
  return std::chrono::duration_cast<SteadyClock::duration>(duration).count();
}

// ejection_base * 2^(streak-1), capped at ejection_max without overflowing.
int64_t openTicks(const SelectionPolicy& policy, uint32_t streak) {
  const int64_t cap = std::max<int64_t>(ticksOf(policy.ejection_max), 0);
  int64_t duration = std::clamp<int64_t>(ticksOf(policy.ejection_base), 0, cap);
  for (uint32_t i = 1; i < streak && duration < cap; ++i) {
    duration = duration > cap / 2 ? cap : duration * 2;
  }
  return duration;
}

}  // namespace

std::string_view toString(BreakerState state) {
  switch (state) {
    case BreakerState::Closed:
      return "closed";
    case BreakerState::Open:
      return "open";
    case BreakerState::HalfOpen:
      return "half_open";
  }
  return "unknown";
}

// --- Inflight ---

Inflight::Inflight(Inflight&& other) noexcept
    : state_(std::exchange(other.state_, nullptr)),
      probe_epoch_(std::exchange(other.probe_epoch_, 0)),
      reported_(std::exchange(other.reported_, false)) {}

Inflight& Inflight::operator=(Inflight&& other) noexcept {
  if (this != &other) {
    reset();
    state_ = std::exchange(other.state_, nullptr);
    probe_epoch_ = std::exchange(other.probe_epoch_, 0);
    reported_ = std::exchange(other.reported_, false);
  }
  return *this;
}

void Inflight::report(Outcome outcome) {
  if (state_ == nullptr || reported_) {
    return;
  }
  reported_ = true;
  state_->finish(outcome, probe_epoch_);
}

void Inflight::reset() {
  if (state_ == nullptr) {
    return;
  }
  if (!reported_ && probe_epoch_ != 0) {
    state_->abandonProbe(probe_epoch_);
  }
  state_->release();
  state_ = nullptr;
  probe_epoch_ = 0;
  reported_ = false;
}

// --- BackendState ---

BackendState::BackendState(std::string name, const std::atomic<const SelectionPolicy*>& policy,
                           const NowFn& now)
    : name_(std::move(name)), policy_(policy), now_(now) {
  closed_since_ = nowTicks();
  window_start_.store(closed_since_, std::memory_order_relaxed);
}

int64_t BackendState::nowTicks() const { return now_().time_since_epoch().count(); }

BreakerState BackendState::breakerAt(int64_t now) const {
  if (state_.load(std::memory_order_acquire) == kClosed) {
    return BreakerState::Closed;
  }
  return now >= open_until_.load(std::memory_order_acquire) ? BreakerState::HalfOpen
                                                            : BreakerState::Open;
}

BreakerState BackendState::breaker() const { return breakerAt(nowTicks()); }

bool BackendState::admissible() const {
  if (!healthy()) {
    return false;
  }
  const uint64_t epoch = ejections_.load(std::memory_order_acquire);
  switch (breakerAt(nowTicks())) {
    case BreakerState::Closed:
      return true;
    case BreakerState::HalfOpen:
      return probe_epoch_.load(std::memory_order_acquire) != epoch;
    case BreakerState::Open:
      return false;
  }
  return false;
}

// The probe slot of ejection `epoch` is taken when probe_epoch_ == epoch. A claim left over from
// an older ejection never blocks a newer one, and a stale release (CAS from the old epoch) is a
// no-op, so no reset is needed when the breaker opens or closes.
bool BackendState::claimProbe(uint64_t epoch) {
  uint64_t expected = probe_epoch_.load(std::memory_order_acquire);
  if (expected == epoch) {
    return false;
  }
  return probe_epoch_.compare_exchange_strong(expected, epoch, std::memory_order_acq_rel);
}

Inflight BackendState::acquire(bool panic) {
  if (!panic && !healthy()) {
    return {};
  }
  // Read the epoch before the state: a probe claimed for an older ejection is detected in finish().
  const uint64_t epoch = ejections_.load(std::memory_order_acquire);
  const BreakerState breaker = breakerAt(nowTicks());
  uint64_t probe = 0;
  if (breaker == BreakerState::HalfOpen) {
    if (claimProbe(epoch)) {
      probe = epoch;
    } else if (!panic) {
      return {};
    }
  } else if (breaker == BreakerState::Open && !panic) {
    return {};
  }
  outstanding_.fetch_add(1, std::memory_order_relaxed);
  return Inflight(this, probe);
}

void BackendState::record(Outcome outcome) {
  if (state_.load(std::memory_order_acquire) == kClosed) {
    recordClosed(policy(), outcome, nowTicks());
  }
}

void BackendState::abandonProbe(uint64_t probe_epoch) {
  uint64_t expected = probe_epoch;
  probe_epoch_.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
}

void BackendState::finish(Outcome outcome, uint64_t probe_epoch) {
  const SelectionPolicy& policy = this->policy();
  const int64_t now = nowTicks();
  if (probe_epoch != 0) {
    std::unique_lock lock(mu_);
    const bool current = state_.load(std::memory_order_relaxed) == kOpen &&
                         ejections_.load(std::memory_order_relaxed) == probe_epoch;
    if (current && isBreakerSuccess(outcome)) {
      // The probe proved the backend: close, but keep the streak (see streak_reset_after).
      consecutive_failures_.store(0, std::memory_order_relaxed);
      window_total_.store(0, std::memory_order_relaxed);
      window_failures_.store(0, std::memory_order_relaxed);
      window_start_.store(now, std::memory_order_relaxed);
      closed_since_ = now;
      state_.store(kClosed, std::memory_order_release);
      closes_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (current && isBreakerFailure(outcome)) {
      ejectLocked(policy, now, /*from_closed=*/false);  // a new epoch: the slot is free again
      return;
    }
    // A neutral probe (429, cancelled) gives the slot back; a stale one just lets go of it.
    abandonProbe(probe_epoch);
    if (current) {
      return;
    }
  }
  if (state_.load(std::memory_order_acquire) == kClosed) {
    recordClosed(policy, outcome, now);
  }
  // Outcomes of tries admitted before an ejection (or in panic) do not move an open breaker.
}

void BackendState::recordClosed(const SelectionPolicy& policy, Outcome outcome, int64_t now) {
  const bool ratio = policy.failure_ratio > 0;
  if (isBreakerSuccess(outcome)) {
    if (consecutive_failures_.load(std::memory_order_relaxed) != 0) {
      consecutive_failures_.store(0, std::memory_order_relaxed);
    }
    if (ratio) {
      ratioExceeded(policy, false, now);
    }
    return;
  }
  if (!isBreakerFailure(outcome)) {
    return;  // RateLimited and Cancelled are neutral: a rate-limited backend is not broken.
  }
  const uint32_t run = consecutive_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
  bool eject = policy.consecutive_failures != 0 && run >= policy.consecutive_failures;
  if (ratio && ratioExceeded(policy, true, now)) {
    eject = true;
  }
  if (eject) {
    std::lock_guard lock(mu_);
    if (state_.load(std::memory_order_relaxed) == kClosed) {
      ejectLocked(policy, now, /*from_closed=*/true);
    }
  }
}

// Counts one outcome in the tumbling window and says whether the failure ratio is exceeded.
// Increments racing a rotation may land in either window: an approximation, by design.
bool BackendState::ratioExceeded(const SelectionPolicy& policy, bool failure, int64_t now) {
  const int64_t window = ticksOf(policy.ratio_window);
  if (now - window_start_.load(std::memory_order_acquire) >= window) {
    std::lock_guard lock(mu_);
    if (now - window_start_.load(std::memory_order_relaxed) >= window) {
      window_total_.store(0, std::memory_order_relaxed);
      window_failures_.store(0, std::memory_order_relaxed);
      window_start_.store(now, std::memory_order_release);
    }
  }
  const uint32_t total = window_total_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (!failure) {
    return false;
  }
  const uint32_t failures = window_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
  return total >= std::max<uint32_t>(policy.ratio_min_requests, 1) &&
         static_cast<double>(failures) > policy.failure_ratio * static_cast<double>(total);
}

void BackendState::ejectLocked(const SelectionPolicy& policy, int64_t now, bool from_closed) {
  if (from_closed && now - closed_since_ >= ticksOf(policy.streak_reset_after)) {
    streak_ = 0;  // it stayed closed long enough: this is a fresh problem, not a relapse
  }
  streak_ = std::min<uint32_t>(streak_ + 1, 64);
  open_until_.store(now + openTicks(policy, streak_), std::memory_order_relaxed);
  consecutive_failures_.store(0, std::memory_order_relaxed);
  window_total_.store(0, std::memory_order_relaxed);
  window_failures_.store(0, std::memory_order_relaxed);
  window_start_.store(now, std::memory_order_relaxed);
  state_.store(kOpen, std::memory_order_release);
  ejections_.fetch_add(1, std::memory_order_acq_rel);
}

void BackendState::recordProbe(bool ok) {
  const SelectionPolicy& policy = this->policy();
  std::lock_guard lock(mu_);
  if (ok) {
    probe_failures_ = 0;
    ++probe_successes_;
    if (probe_successes_ >= std::max<uint32_t>(policy.healthy_threshold, 1)) {
      healthy_.store(true, std::memory_order_relaxed);
    }
  } else {
    probe_successes_ = 0;
    ++probe_failures_;
    if (probe_failures_ >= std::max<uint32_t>(policy.unhealthy_threshold, 1)) {
      healthy_.store(false, std::memory_order_relaxed);
    }
  }
}

BackendStatus BackendState::status() const {
  BackendStatus status;
  status.name = name_;
  status.healthy = healthy();
  // The ejections first, then the state: a racing ejection makes half_opens_total lag by one
  // for a moment, never run ahead.
  status.ejections_total = ejections_.load(std::memory_order_acquire);
  status.closes_total = closes_.load(std::memory_order_relaxed);
  status.breaker = breaker();
  // Every ejection but the current one while it is still open has reached half-open.
  status.half_opens_total =
      status.ejections_total - (status.breaker == BreakerState::Open && status.ejections_total > 0);
  status.outstanding = outstanding();
  status.consecutive_failures = consecutive_failures_.load(std::memory_order_relaxed);
  return status;
}

}  // namespace sy::router
