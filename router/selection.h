// Backend selection within one tier: weighted power-of-two-choices on outstanding requests among
// the admissible candidates (healthy, breaker closed or half-open with the probe slot free), the
// rest of them ordered for failover, and a panic mode when none is admissible.
// Also fallbackAllowed(), the data-residency guard for falling back to another tier.
// BackendStates is thread-safe and lives for the whole process (it survives policy reloads:
// state is keyed by backend name, and a reload only swaps the thresholds, see setPolicy). It runs
// no timers or threads: time comes from the NowFn.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/backend.h"
#include "router/backend_state.h"

namespace sy::router {

// One backend of the tier being served. `spec` is non-null and borrowed from the request's
// pinned snapshot. `weight` is its relative capacity; 0 is treated as 1 (config rejects it).
struct Candidate {
  const sy::BackendSpec* spec = nullptr;
  uint32_t weight = 1;
};

struct Pick {
  const sy::BackendSpec* spec = nullptr;
  BackendState* state = nullptr;  // owned by BackendStates; valid for its whole lifetime
};

struct Selection {
  // The order to try. Normally only the admissible candidates: the P2C winner first, then the
  // others by ascending score (ties keep the candidates' order). In panic every candidate, in
  // the same manner, as if all were admissible (Envoy's panic routing: better a likely failure
  // than a certain one). Empty only when `candidates` was.
  std::vector<Pick> picks;
  // True when no candidate was admissible. The gateway passes it to acquire() so the tries are
  // not refused, and should count and log it: it means the whole tier is down.
  bool panic = false;
};

class BackendStates {
 public:
  // `now` defaults to SteadyClock::now. `policy` holds until setPolicy replaces it.
  explicit BackendStates(SelectionPolicy policy = {}, NowFn now = {});
  BackendStates(const BackendStates&) = delete;
  BackendStates& operator=(const BackendStates&) = delete;

  // The state of `name`, created (closed, healthy, idle) on first use. Never removed: the
  // reference stays valid for the lifetime of this object, across reloads (one small object per
  // backend name ever configured). Lookups take a shared lock; creation an exclusive one.
  BackendState& state(std::string_view name);

  // Orders one tier's candidates for one request (see Selection). `random` seeds the P2C draw:
  // pass a fresh random number per request (tests pass fixed seeds). Score of a candidate:
  // (outstanding + 1) / weight, lower is better. P2C draws two distinct candidates with
  // probability proportional to weight and keeps the lower score (the first drawn on a tie), so
  // idle equal-weight backends share load evenly and a heavier backend wins at equal load.
  Selection order(std::span<const Candidate> candidates, uint64_t random);

  // Forwards an active health probe result to state(name).recordProbe(ok).
  void recordProbe(std::string_view name, bool ok);

  // Every backend seen so far, sorted by name, for the gauges.
  std::vector<BackendStatus> snapshot() const;

  // Replaces the thresholds of every backend's breaker and active health, existing and future
  // (a policy reload). Nothing is reset: failure runs, windows, streaks, open breakers and health
  // verdicts carry on and are judged by the new thresholds from the next outcome or probe on; a
  // breaker that is open keeps the open time it was given, the next ejection gets the new one.
  void setPolicy(const SelectionPolicy& policy);

  // The current thresholds. The reference stays valid for the lifetime of this object.
  const SelectionPolicy& policy() const { return *policy_.load(std::memory_order_acquire); }

 private:
  const NowFn now_;
  mutable std::shared_mutex mu_;
  std::map<std::string, std::unique_ptr<BackendState>, std::less<>> states_;
  // Every policy set so far, never freed (one small struct per reload that changed it), so that
  // a BackendState may keep using the one it loaded; `policy_` points at the newest. Appended to
  // under mu_ (exclusive).
  std::vector<std::unique_ptr<const SelectionPolicy>> policies_;
  std::atomic<const SelectionPolicy*> policy_;
};

// The data-residency rule for tier fallback. False when the primary candidates are all
// self-hosted (the rule keeps data in-house) or `rule_keeps_data_local` is set, and the fallback
// contains any external backend. An empty primary counts as all self-hosted (fail closed).
// True otherwise (including an all-self-hosted fallback, or a primary that was already external).
// Pointers must be non-null. The gateway checks this before EVERY fallback to another tier, on
// top of whether the rule allows fallback at all.
bool fallbackAllowed(std::span<const sy::BackendSpec* const> primary,
                     std::span<const sy::BackendSpec* const> fallback,
                     bool rule_keeps_data_local = false);

}  // namespace sy::router
