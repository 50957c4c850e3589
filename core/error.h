// The one error type of Switchyard and its mapping to HTTP statuses and OpenAI error bodies.
// Value types only; thread-safe as values. Every fallible function returns Result<T> or Status;
// exceptions from libraries are caught at the boundary and turned into an Error.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace sy {

// Who caused the error: decides 4xx (Downstream) vs 5xx (Upstream/Internal) for the same code.
enum class ErrorSource { Downstream, Upstream, Internal, Config };

enum class ErrorCode {
  InvalidArgument,    // 400
  Unauthenticated,    // 401
  PermissionDenied,   // 403
  NotFound,           // 404
  MethodNotAllowed,   // 405
  DeadlineExceeded,   // 408 from a client, 504 from an upstream
  PayloadTooLarge,    // 413
  HeadersTooLarge,    // 431
  ResourceExhausted,  // 429
  Unavailable,        // 503
  UpstreamError,      // 502
  Internal,           // 500
};

struct Error {
  ErrorCode code = ErrorCode::Internal;
  ErrorSource source = ErrorSource::Internal;
  std::string message;  // names the thing and where: "backends[1].url: missing host"
  bool retryable = false;  // set by connectors and the upstream client only
  std::string code_id;     // stable machine-readable id for the OpenAI body, e.g. "invalid_json"
  std::string param = {};  // the request field at fault, for the OpenAI body ("" none: null)
};

template <class T>
using Result = std::expected<T, Error>;
using Status = Result<void>;

// Convenience for `return makeError(...)` from a function returning Result<T>.
std::unexpected<Error> makeError(ErrorCode code, ErrorSource source, std::string message,
                                 std::string code_id = {}, bool retryable = false);

// The only place errors become status codes.
unsigned toHttpStatus(const Error& error);

// OpenAI's `type` for a status: invalid_request_error, authentication_error, permission_error,
// rate_limit_error, server_error, ...
std::string_view openAiErrorType(unsigned http_status);

// Serializes {"error":{"message","type","param","code"}} exactly as OpenAI does. `code_id` and
// `param` empty become null.
std::string openAiErrorBody(std::string_view message, unsigned http_status,
                            std::string_view code_id, std::string_view param = {});
std::string openAiErrorBody(const Error& error);

// Anthropic's error `type` for a status: invalid_request_error (400 and other 4xx),
// authentication_error (401), permission_error (403), not_found_error (404),
// request_too_large (413), rate_limit_error (429), overloaded_error (503, 529), api_error (5xx).
std::string_view anthropicErrorType(unsigned http_status);

// Serializes {"type":"error","error":{"type","message"}} as the Anthropic Messages API does.
std::string anthropicErrorBody(std::string_view message, unsigned http_status);
std::string anthropicErrorBody(const Error& error);

}  // namespace sy
