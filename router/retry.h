// Retry decisions for the gateway's forward loop: which outcomes may be retried on the next
// candidate, or on a backend already tried once every candidate had its try, and how long to
// wait first (exponential backoff with full jitter).
// Pure functions of their arguments; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

#include "router/outcome.h"

namespace sy::router {

struct RetryPolicy {
  uint32_t max_attempts = 3;  // tries per tier (or fallback), the first included; 0 is treated as 1
  std::chrono::milliseconds base{25};   // the ceiling of the first retry's delay
  std::chrono::milliseconds max{1000};  // the ceiling never grows beyond this
};

// True when a try that ended with `outcome` may be retried: ConnectError, Timeout, ServerError
// and RateLimited, and only while nothing of the response reached the client. Once the first
// byte was sent (a stream already started) the answer is false: the client cannot un-read it.
// Success, ClientError (the request is at fault) and Cancelled (the client left) are final.
bool retryable(Outcome outcome, bool first_byte_sent_to_client);

// retryable() and the attempt budget: `attempts_made` tries (>= 1) have ended so far.
bool shouldRetry(const RetryPolicy& policy, uint32_t attempts_made, Outcome outcome,
                 bool first_byte_sent_to_client);

// True when a backend whose try ended with `outcome` may be tried again by the same request,
// once every candidate of the tier had its try and attempts remain (a tier of one backend is
// retried this way): ConnectError, ServerError and RateLimited. Not Timeout: a backend that has
// just used up its deadline would likely make the client wait that long again. The other
// outcomes are not retryable at all (see retryable()).
bool retryableOnSameBackend(Outcome outcome);

// The delay before retry number `attempt` (1 = before the second try; 0 is treated as 1):
// uniform in [0, min(max, base * 2^(attempt-1))] ("full jitter", which spreads a herd of retries
// best). `random` is a fresh random number; equal inputs give equal delays (tests).
std::chrono::milliseconds backoff(const RetryPolicy& policy, uint32_t attempt, uint64_t random);

}  // namespace sy::router
