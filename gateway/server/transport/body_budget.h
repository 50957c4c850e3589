// The process-wide budget of request body bytes held in memory at once
// (server.limits.max_inflight_body_bytes), so that many large uploads cannot take the process'
// memory: a body is read only under a lease, and a request whose lease cannot grow is refused
// (503 with Retry-After) instead of buffered. BodyBudget is thread-safe (one atomic counter
// shared by every worker); a BodyLease belongs to one request on one worker and gives its bytes
// back when it is destroyed.
#pragma once

#include <prometheus/gauge.h>

#include <atomic>
#include <cstdint>
#include <utility>

namespace sy::server {

class BodyBudget {
 public:
  // `gauge` (may be null) follows the total: switchyard_inflight_body_bytes.
  explicit BodyBudget(prometheus::Gauge* gauge = nullptr) : gauge_(gauge) {}

  // Adds `bytes` to the total when the total stays within `limit`: true; false (nothing added)
  // otherwise. The limit is the caller's (the pinned snapshot's), so a reload applies at once.
  bool tryReserve(uint64_t bytes, uint64_t limit) {
    uint64_t used = in_use_.load(std::memory_order_relaxed);
    do {
      if (bytes > limit || used > limit - bytes) {
        return false;
      }
    } while (!in_use_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
    observe(static_cast<double>(bytes));
    return true;
  }
  // Adds `bytes` whatever the limit (memory that is already allocated must be counted).
  void add(uint64_t bytes) {
    in_use_.fetch_add(bytes, std::memory_order_relaxed);
    observe(static_cast<double>(bytes));
  }
  void release(uint64_t bytes) {
    in_use_.fetch_sub(bytes, std::memory_order_relaxed);
    observe(-static_cast<double>(bytes));
  }
  uint64_t inUse() const { return in_use_.load(std::memory_order_relaxed); }

 private:
  void observe(double delta) {
    if (gauge_ != nullptr && delta != 0) {
      gauge_->Increment(delta);
    }
  }

  prometheus::Gauge* gauge_;
  std::atomic<uint64_t> in_use_{0};
};

// One request's share of the budget. Move-only; releases what it holds when destroyed.
class BodyLease {
 public:
  explicit BodyLease(BodyBudget& budget) : budget_(&budget) {}
  BodyLease(BodyLease&& other) noexcept
      : budget_(other.budget_), bytes_(std::exchange(other.bytes_, 0)) {}
  BodyLease& operator=(BodyLease&&) = delete;
  BodyLease(const BodyLease&) = delete;
  ~BodyLease() { budget_->release(bytes_); }

  // Makes the lease cover `total` bytes: true when it already does or the budget had room for
  // the difference; false (the lease unchanged) when it did not.
  bool cover(uint64_t total, uint64_t limit) {
    if (total <= bytes_) {
      return true;
    }
    if (!budget_->tryReserve(total - bytes_, limit)) {
      return false;
    }
    bytes_ = total;
    return true;
  }
  // Counts `total` bytes even beyond the limit: for memory a read has already allocated.
  void account(uint64_t total) {
    if (total > bytes_) {
      budget_->add(total - bytes_);
      bytes_ = total;
    }
  }
  uint64_t bytes() const { return bytes_; }

 private:
  BodyBudget* budget_;
  uint64_t bytes_ = 0;
};

}  // namespace sy::server
