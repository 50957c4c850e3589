#include "router/retry.h"

#include <algorithm>

namespace sy::router {

bool retryable(Outcome outcome, bool first_byte_sent_to_client) {
  if (first_byte_sent_to_client) {
    return false;
  }
  switch (outcome) {
    case Outcome::ConnectError:
    case Outcome::Timeout:
    case Outcome::ServerError:
    case Outcome::RateLimited:
      return true;
    case Outcome::Success:
    case Outcome::ClientError:
    case Outcome::Cancelled:
      return false;
  }
  return false;
}

bool shouldRetry(const RetryPolicy& policy, uint32_t attempts_made, Outcome outcome,
                 bool first_byte_sent_to_client) {
  return attempts_made < std::max<uint32_t>(policy.max_attempts, 1) &&
         retryable(outcome, first_byte_sent_to_client);
}

bool retryableOnSameBackend(Outcome outcome) {
  return outcome != Outcome::Timeout && retryable(outcome, false);
}

std::chrono::milliseconds backoff(const RetryPolicy& policy, uint32_t attempt, uint64_t random) {
  const int64_t cap = std::max<int64_t>(policy.max.count(), 0);
  int64_t ceiling = std::clamp<int64_t>(policy.base.count(), 0, cap);
  for (uint32_t i = 1; i < attempt && ceiling < cap; ++i) {
    ceiling = ceiling > cap / 2 ? cap : ceiling * 2;
  }
  // Mix the input so that sequential seeds (0, 1, 2...) still spread over the whole range.
  uint64_t z = random + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return std::chrono::milliseconds(static_cast<int64_t>(z % (static_cast<uint64_t>(ceiling) + 1)));
}

}  // namespace sy::router
