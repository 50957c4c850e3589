#include "examples/mock_llm/reply.h"

#include <charconv>

namespace sy::mock {

void Reply::reset() {
  kind = Kind::Full;
  status = 200;
  content_type = "application/json";
  headers.clear();
  body.clear();
  event_ends.clear();
  preamble_events = 0;
  content_events = 0;
  controls = Controls{};
}

std::string& Reply::beginEvent() {
  scratch_.clear();
  return scratch_;
}

void Reply::commitEvent() {
  char size[16];
  auto [end, ec] = std::to_chars(size, size + sizeof(size), scratch_.size(), 16);
  (void)ec;  // 16 bytes always hold a size_t in hex
  body.append(size, end);
  body += "\r\n";
  body += scratch_;
  body += "\r\n";
  event_ends.push_back(static_cast<uint32_t>(body.size()));
}

void Reply::finishStream() {
  body += "0\r\n\r\n";
  if (!event_ends.empty()) {
    event_ends.back() = static_cast<uint32_t>(body.size());
  }
}

void appendInt(std::string& out, int64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  (void)ec;  // 24 bytes always hold an int64
  out.append(buf, end);
}

std::string_view reasonPhrase(unsigned status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 529:
      return "Site Overloaded";
    default:
      return status < 500 ? "Client Error" : "Server Error";
  }
}

namespace {

void appendJsonOrNull(std::string& out, std::string_view text) {
  if (text.empty()) {
    out += "null";
  } else {
    appendJsonString(out, text);
  }
}

}  // namespace

void setOpenAiError(Reply& reply, unsigned status, std::string_view message, std::string_view type,
                    std::string_view param, std::string_view code) {
  reply.kind = Reply::Kind::Full;
  reply.status = status;
  reply.content_type = "application/json";
  std::string& b = reply.body;
  b.clear();
  b += "{\"error\":{\"message\":";
  appendJsonString(b, message);
  b += ",\"type\":";
  appendJsonString(b, type);
  b += ",\"param\":";
  appendJsonOrNull(b, param);
  b += ",\"code\":";
  appendJsonOrNull(b, code);
  b += "}}";
}

std::string_view anthropicErrorType(unsigned status) {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 504:
      return "timeout_error";
    case 529:
      return "overloaded_error";
    default:
      return status < 500 ? "invalid_request_error" : "api_error";
  }
}

void setAnthropicError(Reply& reply, unsigned status, std::string_view type,
                       std::string_view message) {
  reply.kind = Reply::Kind::Full;
  reply.status = status;
  reply.content_type = "application/json";
  std::string& b = reply.body;
  b.clear();
  b += "{\"type\":\"error\",\"error\":{\"type\":";
  appendJsonString(b, type);
  b += ",\"message\":";
  appendJsonString(b, message);
  b += "}}";
}

void setInjectedOpenAiError(Reply& reply, unsigned status) {
  // Types and codes as the OpenAI API sends them for each class of failure.
  switch (status) {
    case 401:
      setOpenAiError(reply, status, "Incorrect API key provided (mock error_status).",
                     "invalid_request_error", {}, "invalid_api_key");
      break;
    case 403:
      setOpenAiError(reply, status, "You are not allowed to access this resource (mock).",
                     "invalid_request_error", {}, "unsupported_country_region_territory");
      break;
    case 404:
      setOpenAiError(reply, status,
                     "The model does not exist or you do not have access to it "
                     "(mock error_status).",
                     "invalid_request_error", {}, "model_not_found");
      break;
    case 429:
      setOpenAiError(reply, status,
                     "Rate limit reached for requests (mock error_status). "
                     "Please try again in 1s.",
                     "requests", {}, "rate_limit_exceeded");
      break;
    case 500:
      setOpenAiError(reply, status,
                     "The server had an error while processing your request. "
                     "Sorry about that! (mock error_status)",
                     "server_error");
      break;
    case 503:
      setOpenAiError(reply, status,
                     "The engine is currently overloaded, please try again "
                     "later. (mock error_status)",
                     "server_error");
      break;
    default:
      setOpenAiError(reply, status, "Mock error_status " + std::to_string(status) + ".",
                     status < 500 ? "invalid_request_error" : "server_error");
  }
  if (status == 429) {
    reply.headers += "retry-after: 1\r\n";
  }
}

void setInjectedAnthropicError(Reply& reply, unsigned status) {
  std::string message;
  switch (status) {
    case 429:
      message = "Number of requests has exceeded your rate limit (mock error_status).";
      break;
    case 529:
      message = "Overloaded";
      break;
    case 500:
      message = "Internal server error";
      break;
    default:
      message = "Mock error_status " + std::to_string(status) + ".";
  }
  setAnthropicError(reply, status, anthropicErrorType(status), message);
  if (status == 429) {
    reply.headers += "retry-after: 1\r\n";
  }
}

}  // namespace sy::mock
