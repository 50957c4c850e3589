#include "gateway/server/transport/request_limits.h"

namespace sy::server {

void applyParserLimits(http::request_parser<http::string_body>& parser,
                       const config::ServerLimits& limits) {
  parser.header_limit(limits.max_header_bytes);
  parser.body_limit(limits.max_body_bytes);
}

std::optional<Rejection> classifyReadError(const error_code& ec, bool reading_body,
                                           const config::ServerLimits& limits) {
  auto reject = [](ErrorCode code, std::string message, std::string code_id,
                   std::string_view reason) {
    return Rejection{
        Error{code, ErrorSource::Downstream, std::move(message), false, std::move(code_id)},
        reason};
  };
  if (ec == beast::error::timeout) {
    const auto limit = reading_body ? limits.body_timeout : limits.header_timeout;
    return reject(ErrorCode::DeadlineExceeded,
                  std::string("The request ") + (reading_body ? "body" : "headers") +
                      " did not arrive within " + std::to_string(limit.count()) + " ms.",
                  "request_timeout", reading_body ? "body_timeout" : "header_timeout");
  }
  if (ec == http::error::header_limit) {
    return reject(
        ErrorCode::HeadersTooLarge,
        "The request headers exceed " + std::to_string(limits.max_header_bytes) + " bytes.",
        "headers_too_large", "headers_too_large");
  }
  if (ec == http::error::body_limit) {
    return reject(ErrorCode::PayloadTooLarge,
                  "The request body exceeds the limit of " + std::to_string(limits.max_body_bytes) +
                      " bytes.",
                  "body_too_large", "body_too_large");
  }
  if (ec == http::error::end_of_stream || ec == net::error::eof ||
      ec == net::error::connection_reset || ec == net::error::operation_aborted ||
      ec == http::error::partial_message) {
    return std::nullopt;  // the client left; nobody to answer
  }
  std::string message = "Malformed HTTP request: " + ec.message() + ".";
  if (ec == http::error::bad_transfer_encoding || ec == http::error::bad_content_length ||
      ec == http::error::multiple_content_length) {
    message +=
        " A request must carry exactly one valid Content-Length or a chunked "
        "Transfer-Encoding, never both.";
  }
  return reject(ErrorCode::InvalidArgument, std::move(message), "malformed_request",
                "malformed_request");
}

std::optional<Rejection> checkHeader(const http::request_parser<http::string_body>& parser,
                                     const config::ServerLimits& limits) {
  const auto& request = parser.get();
  const size_t fields = static_cast<size_t>(std::distance(request.begin(), request.end()));
  if (fields > limits.max_header_count) {
    return Rejection{
        Error{ErrorCode::HeadersTooLarge, ErrorSource::Downstream,
              "The request has " + std::to_string(fields) + " header fields; the limit is " +
                  std::to_string(limits.max_header_count) + ".",
              false, "headers_too_large"},
        "headers_too_large"};
  }
  if (request.count(http::field::transfer_encoding) > 0 && !parser.chunked()) {
    return Rejection{Error{ErrorCode::InvalidArgument, ErrorSource::Downstream,
                           "Malformed HTTP request: a Transfer-Encoding other than chunked is "
                           "not supported.",
                           false, "malformed_request"},
                     "malformed_request"};
  }
  // RFC 9112, 3.2: a 400 for an HTTP/1.1 request without Host, and for any with two.
  const size_t hosts = request.count(http::field::host);
  if (hosts > 1 || (hosts == 0 && request.version() >= 11)) {
    return Rejection{Error{ErrorCode::InvalidArgument, ErrorSource::Downstream,
                           hosts > 1 ? "Malformed HTTP request: more than one Host header."
                                     : "Malformed HTTP request: an HTTP/1.1 request must carry "
                                       "a Host header.",
                           false, "malformed_request"},
                     "malformed_request"};
  }
  if (auto length = parser.content_length(); length && *length > limits.max_body_bytes) {
    return classifyReadError(http::error::body_limit, true, limits);
  }
  return std::nullopt;
}

}  // namespace sy::server
