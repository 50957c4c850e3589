// The pipeline's phases on the request head, run before the session reads a byte of the body:
// request ids, CORS preflights, dispatch, authenticate and the head's own checks. A request
// refused here never has its body read or held, so keyless clients cannot make the gateway
// buffer what they send (the body is read only under the in-flight budget, after begin()).
#include <boost/beast/core/string.hpp>

#include "gateway/server/pipeline/pipeline.h"

namespace sy::server {

std::string_view clientRequestId(const http::request<http::string_body>& request) {
  for (std::string_view name : {"x-client-request-id", "x-request-id"}) {
    if (const std::string_view id = request[name]; isWellFormedRequestId(id)) {
      return id;
    }
  }
  return {};
}

bool isJsonContentType(std::string_view content_type) {
  const std::string_view media = content_type.substr(0, content_type.find(';'));
  const size_t first = media.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return false;
  }
  const size_t last = media.find_last_not_of(" \t");
  return beast::iequals(media.substr(first, last - first + 1), "application/json");
}

net::awaitable<bool> Pipeline::begin(const http::request<http::string_body>& request,
                                     bool body_pending, Downstream& downstream,
                                     RequestContext& ctx) {
  ctx.downstream = &request;
  ctx.config = worker_.shared.snapshots.get();
  // Always the gateway's own id: a client reusing another request's id cannot make two audit
  // records share one. The client's id is kept beside it.
  ctx.request_id = worker_.nextRequestId();
  ctx.client_request_id = clientRequestId(request);
  if (request.method() == http::verb::options &&
      !ctx.config->config().server.cors.allow_origins.empty()) {
    ctx.close_connection = ctx.close_connection || body_pending;
    co_await answerPreflight(ctx, downstream);  // browsers send no key on a preflight
    log(ctx);
    co_return false;
  }
  // An unknown path or method is answered after authentication (a wrong key is a 401 on every
  // path), in the error shape of the surface the path belongs to.
  const Status dispatched = dispatch(ctx);
  Status outcome = authenticate(ctx);
  if (outcome && !dispatched) {
    outcome = dispatched;
  }
  if (outcome) {
    outcome = checkHead(ctx);
  }
  if (outcome) {
    co_return true;
  }
  ctx.close_connection = ctx.close_connection || body_pending;
  co_await answerError(ctx, downstream, outcome.error());
  log(ctx);
  co_return false;
}

Status Pipeline::checkHead(const RequestContext& ctx) const {
  if (ctx.principal != nullptr) {
    if (Status endpoint = ctx.principal->allowEndpoint(endpointLabel(ctx.operation)); !endpoint) {
      return endpoint;
    }
  }
  if (ctx.operation == Operation::Models || ctx.operation == Operation::StoredResponse) {
    return {};  // no body to read
  }
  // The JSON endpoints. A browser sends text/plain (or no type, for a Blob) cross-origin without
  // a CORS preflight: only a JSON type keeps such requests out.
  const std::string_view type = (*ctx.downstream)[http::field::content_type];
  if (!isJsonContentType(type)) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream,
                     type.empty() ? std::string("The request has no Content-Type; send "
                                                "Content-Type: application/json.")
                                  : "Unsupported Content-Type '" + std::string(type.substr(0, 64)) +
                                        "'; send Content-Type: application/json.",
                     "invalid_content_type");
  }
  return {};
}

net::awaitable<void> Pipeline::fail(Downstream& downstream, RequestContext& ctx,
                                    const Error& error) {
  co_await answerError(ctx, downstream, error);
  log(ctx);
}

}  // namespace sy::server
