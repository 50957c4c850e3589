#include "core/error.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace sy {

std::unexpected<Error> makeError(ErrorCode code, ErrorSource source, std::string message,
                                 std::string code_id, bool retryable) {
  return std::unexpected<Error>(
      Error{code, source, std::move(message), retryable, std::move(code_id)});
}

unsigned toHttpStatus(const Error& error) {
  const bool upstream = error.source == ErrorSource::Upstream;
  switch (error.code) {
    case ErrorCode::InvalidArgument:
      return upstream ? 502 : 400;
    case ErrorCode::Unauthenticated:
      return upstream ? 502 : 401;
    case ErrorCode::PermissionDenied:
      return upstream ? 502 : 403;
    case ErrorCode::NotFound:
      return upstream ? 502 : 404;
    case ErrorCode::MethodNotAllowed:
      return 405;
    case ErrorCode::DeadlineExceeded:
      return error.source == ErrorSource::Downstream ? 408 : 504;
    case ErrorCode::PayloadTooLarge:
      return 413;
    case ErrorCode::HeadersTooLarge:
      return 431;
    case ErrorCode::ResourceExhausted:
      return 429;
    case ErrorCode::Unavailable:
      return 503;
    case ErrorCode::UpstreamError:
      return 502;
    case ErrorCode::Internal:
      return 500;
  }
  return 500;
}

std::string_view openAiErrorType(unsigned http_status) {
  switch (http_status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 429:
      return "rate_limit_error";
    default:
      break;
  }
  if (http_status == 502 || http_status == 504) {
    return "upstream_error";  // a backend failed or timed out
  }
  if (http_status >= 500) {
    return "server_error";  // the gateway itself (500, 503 at capacity or draining)
  }
  return "invalid_request_error";
}

std::string openAiErrorBody(std::string_view message, unsigned http_status,
                            std::string_view code_id, std::string_view param) {
  boost::json::object inner;
  inner["message"] = message;
  inner["type"] = openAiErrorType(http_status);
  if (param.empty()) {
    inner["param"] = nullptr;
  } else {
    inner["param"] = param;
  }
  if (code_id.empty()) {
    inner["code"] = nullptr;
  } else {
    inner["code"] = code_id;
  }
  boost::json::object outer;
  outer["error"] = std::move(inner);
  return boost::json::serialize(outer);
}

std::string openAiErrorBody(const Error& error) {
  return openAiErrorBody(error.message, toHttpStatus(error), error.code_id, error.param);
}

std::string_view anthropicErrorType(unsigned http_status) {
  switch (http_status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
    case 529:
      return "overloaded_error";
    default:
      break;
  }
  return http_status >= 500 ? "api_error" : "invalid_request_error";
}

std::string anthropicErrorBody(std::string_view message, unsigned http_status) {
  boost::json::object inner;
  inner["type"] = anthropicErrorType(http_status);
  inner["message"] = message;
  boost::json::object outer;
  outer["type"] = "error";
  outer["error"] = std::move(inner);
  return boost::json::serialize(outer);
}

std::string anthropicErrorBody(const Error& error) {
  return anthropicErrorBody(error.message, toHttpStatus(error));
}

}  // namespace sy
