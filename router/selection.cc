#include "router/selection.h"

#include <algorithm>
#include <mutex>
#include <utility>

namespace sy::router {
namespace {

// SplitMix64: a tiny, good-enough generator seeded from the caller's random number.
uint64_t nextRandom(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

struct Scored {
  Pick pick;
  uint32_t weight = 1;
  double score = 0;  // (outstanding + 1) / weight
};

// Index of a candidate drawn with probability proportional to weight, never `skip`.
size_t weightedDraw(const std::vector<Scored>& pool, size_t skip, uint64_t& rng) {
  uint64_t total = 0;
  for (size_t i = 0; i < pool.size(); ++i) {
    total += i == skip ? 0 : pool[i].weight;
  }
  uint64_t target = nextRandom(rng) % total;
  for (size_t i = 0; i < pool.size(); ++i) {
    if (i == skip) {
      continue;
    }
    if (target < pool[i].weight) {
      return i;
    }
    target -= pool[i].weight;
  }
  return skip == 0 ? 1 : 0;  // not reached: target < total
}

// Power of two choices: two distinct weighted draws, the lower score wins, the first on a tie.
size_t powerOfTwo(const std::vector<Scored>& pool, uint64_t& rng) {
  if (pool.size() == 1) {
    return 0;
  }
  const size_t first = weightedDraw(pool, pool.size(), rng);
  const size_t second = weightedDraw(pool, first, rng);
  return pool[second].score < pool[first].score ? second : first;
}

}  // namespace

BackendStates::BackendStates(SelectionPolicy policy, NowFn now)
    : now_(now ? std::move(now) : NowFn([] { return SteadyClock::now(); })) {
  policies_.push_back(std::make_unique<const SelectionPolicy>(std::move(policy)));
  policy_.store(policies_.back().get(), std::memory_order_release);
}

void BackendStates::setPolicy(const SelectionPolicy& policy) {
  std::unique_lock lock(mu_);
  if (policy == *policy_.load(std::memory_order_acquire)) {
    return;
  }
  policies_.push_back(std::make_unique<const SelectionPolicy>(policy));
  policy_.store(policies_.back().get(), std::memory_order_release);
}

BackendState& BackendStates::state(std::string_view name) {
  {
    std::shared_lock lock(mu_);
    if (auto it = states_.find(name); it != states_.end()) {
      return *it->second;
    }
  }
  std::unique_lock lock(mu_);
  auto [it, inserted] = states_.try_emplace(std::string(name));
  if (inserted) {
    it->second = std::make_unique<BackendState>(std::string(name), policy_, now_);
  }
  return *it->second;
}

Selection BackendStates::order(std::span<const Candidate> candidates, uint64_t random) {
  std::vector<Scored> all;
  all.reserve(candidates.size());
  std::vector<Scored> pool;
  pool.reserve(candidates.size());
  for (const Candidate& candidate : candidates) {
    Scored scored;
    scored.pick = {candidate.spec, &state(candidate.spec->name)};
    scored.weight = std::max<uint32_t>(candidate.weight, 1);
    scored.score = (static_cast<double>(scored.pick.state->outstanding()) + 1.0) / scored.weight;
    if (scored.pick.state->admissible()) {
      pool.push_back(scored);
    }
    all.push_back(scored);
  }
  Selection selection;
  selection.panic = pool.empty();
  if (selection.panic) {
    pool = std::move(all);
  }
  if (pool.empty()) {
    return selection;
  }
  uint64_t rng = random;
  const size_t winner = powerOfTwo(pool, rng);
  std::rotate(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(winner),
              pool.begin() + static_cast<std::ptrdiff_t>(winner) + 1);
  std::stable_sort(pool.begin() + 1, pool.end(),
                   [](const Scored& a, const Scored& b) { return a.score < b.score; });
  selection.picks.reserve(pool.size());
  for (const Scored& scored : pool) {
    selection.picks.push_back(scored.pick);
  }
  return selection;
}

void BackendStates::recordProbe(std::string_view name, bool ok) { state(name).recordProbe(ok); }

std::vector<BackendStatus> BackendStates::snapshot() const {
  std::shared_lock lock(mu_);
  std::vector<BackendStatus> out;
  out.reserve(states_.size());
  for (const auto& [name, state] : states_) {
    out.push_back(state->status());
  }
  return out;
}

bool fallbackAllowed(std::span<const sy::BackendSpec* const> primary,
                     std::span<const sy::BackendSpec* const> fallback, bool rule_keeps_data_local) {
  const bool leaves_house = std::any_of(fallback.begin(), fallback.end(), [](const auto* spec) {
    return spec->location == sy::Location::External;
  });
  if (!leaves_house) {
    return true;
  }
  if (rule_keeps_data_local) {
    return false;
  }
  const bool primary_local = std::all_of(primary.begin(), primary.end(), [](const auto* spec) {
    return spec->location == sy::Location::SelfHosted;
  });
  return !primary_local;
}

}  // namespace sy::router
