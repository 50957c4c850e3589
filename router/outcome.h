// The result of one try of one backend, as the gateway reports it to the breaker (BackendState,
// router/backend_state.h) and to the retry decision (retryable(), router/retry.h).
// A value type; header only.
#pragma once

#include <string_view>

namespace sy::router {

enum class Outcome {
  Success,       // a 2xx/3xx response: the backend works
  ClientError,   // a 4xx other than 429: the request is at fault; the backend works
  RateLimited,   // 429: worth retrying elsewhere, but neutral for the breaker (limited != broken)
  ServerError,   // a 5xx response
  ConnectError,  // DNS, TCP or TLS failed, or the connection closed before a response head
  Timeout,       // the connect, first-byte or idle deadline of this try expired
  Cancelled,     // the client left or the request deadline ended: says nothing about the backend
};

// The metric/log label: "success", "client_error", "rate_limited", "server_error",
// "connect_error", "timeout", "cancelled".
constexpr std::string_view toString(Outcome outcome) {
  switch (outcome) {
    case Outcome::Success:
      return "success";
    case Outcome::ClientError:
      return "client_error";
    case Outcome::RateLimited:
      return "rate_limited";
    case Outcome::ServerError:
      return "server_error";
    case Outcome::ConnectError:
      return "connect_error";
    case Outcome::Timeout:
      return "timeout";
    case Outcome::Cancelled:
      return "cancelled";
  }
  return "unknown";
}

// True for the outcomes the breaker counts as failures: ServerError, ConnectError, Timeout.
constexpr bool isBreakerFailure(Outcome outcome) {
  return outcome == Outcome::ServerError || outcome == Outcome::ConnectError ||
         outcome == Outcome::Timeout;
}

// True for the outcomes that prove the backend is up: Success and ClientError.
constexpr bool isBreakerSuccess(Outcome outcome) {
  return outcome == Outcome::Success || outcome == Outcome::ClientError;
}

}  // namespace sy::router
