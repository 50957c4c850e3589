// The answers the pipeline makes itself, in the client's surface: models (list and one model),
// count_tokens, CORS preflights, errors; and the CORS headers every answer carries.
#include <algorithm>
#include <boost/json/serialize.hpp>

#include "gateway/server/pipeline/pipeline.h"
#include "observability/logging.h"

namespace sy::server {

namespace {

// A model entry as the client's surface lists it.
boost::json::object modelEntry(connectors::Surface surface, std::string_view name) {
  if (surface == connectors::Surface::Anthropic) {
    return {{"type", "model"},
            {"id", name},
            {"display_name", name},
            {"created_at", "1970-01-01T00:00:00Z"}};
  }
  return {{"id", name}, {"object", "model"}, {"created", 0}, {"owned_by", "switchyard"}};
}

}  // namespace

net::awaitable<Status> Pipeline::answerModels(RequestContext& ctx, Downstream& downstream) {
  // Only what this key may use: the name itself, and the tier it routes to.
  const auto usable = [&](std::string_view name) {
    const auto target = ctx.config->catalog().resolve(name, 0);
    return target && ctx.principal->mayUseModel(name) && ctx.principal->mayUseTier(target->tier);
  };
  boost::json::value answer;
  if (ctx.path.size() > 11) {  // GET /v1/models/{id}
    const std::string_view id = ctx.path.substr(11);
    if (!usable(id)) {
      co_return makeError(ErrorCode::NotFound, ErrorSource::Downstream,
                          "The model '" + std::string(id.substr(0, 128)) +
                              "' does not exist or this key may not use it.",
                          "model_not_found");
    }
    answer = modelEntry(ctx.surface, id);
  } else {
    boost::json::array data;
    for (const std::string& name : ctx.config->catalog().modelNames()) {
      if (usable(name)) {
        data.push_back(modelEntry(ctx.surface, name));
      }
    }
    if (ctx.surface == connectors::Surface::Anthropic) {
      boost::json::value first = data.empty() ? nullptr : data.front().at("id");
      boost::json::value last = data.empty() ? nullptr : data.back().at("id");
      answer = boost::json::object{{"data", std::move(data)},
                                   {"has_more", false},
                                   {"first_id", std::move(first)},
                                   {"last_id", std::move(last)}};
    } else {
      answer = boost::json::object{{"object", "list"}, {"data", std::move(data)}};
    }
  }
  auto response =
      jsonResponse(200, boost::json::serialize(answer), ctx.request_id, !ctx.close_connection);
  ctx.status = 200;
  co_await auditBeforeAnswer(ctx);
  co_await writeLocal(ctx, downstream, response);
  co_return Status{};
}

net::awaitable<void> Pipeline::answerCountTokens(RequestContext& ctx, Downstream& downstream) {
  // The gateway's own estimate (the one its reservations use): nothing is sent upstream for it.
  boost::json::object answer{{"input_tokens", ctx.prompt_estimate}};
  auto response =
      jsonResponse(200, boost::json::serialize(answer), ctx.request_id, !ctx.close_connection);
  ctx.status = 200;
  co_await auditBeforeAnswer(ctx);
  co_await writeLocal(ctx, downstream, response);
}

void addCorsHeaders(const RequestContext& ctx, http::fields& fields) {
  const auto& origins = ctx.config->config().server.cors.allow_origins;
  const std::string_view origin = (*ctx.downstream)[http::field::origin];
  if (origins.empty() || origin.empty()) {
    return;
  }
  const bool allowed = std::any_of(origins.begin(), origins.end(), [&](const std::string& o) {
    return o == "*" || o == origin;
  });
  if (!allowed) {
    return;
  }
  fields.set(http::field::access_control_allow_origin, origin);
  fields.set(http::field::vary, "Origin");
  fields.set(http::field::access_control_expose_headers,
             "x-request-id, x-switchyard-route, retry-after, request-id");
}

net::awaitable<void> Pipeline::answerPreflight(RequestContext& ctx, Downstream& downstream) {
  http::response<http::string_body> response{http::status::no_content, 11};
  setCommonHeaders(response, ctx.request_id);
  response.keep_alive(!ctx.close_connection);
  addCorsHeaders(ctx, response);
  if (response.count(http::field::access_control_allow_origin) > 0) {
    response.set(http::field::access_control_allow_methods, "GET, POST, OPTIONS");
    // Any request header the browser asks for: the key and every header are checked on the
    // actual request, not here.
    const std::string_view asked = (*ctx.downstream)[http::field::access_control_request_headers];
    response.set(http::field::access_control_allow_headers,
                 asked.empty() ? std::string_view("authorization, content-type, x-api-key") : asked);
    response.set(http::field::access_control_max_age,
                 std::to_string(ctx.config->config().server.cors.max_age.count()));
  }
  response.prepare_payload();
  ctx.status = 204;
  if (auto ec = co_await downstream.writeResponse(response); ec) {
    ctx.close_connection = true;
  }
}

net::awaitable<void> Pipeline::writeLocal(RequestContext& ctx, Downstream& downstream,
                                          http::response<http::string_body>& response) {
  addCorsHeaders(ctx, response);
  if (ctx.downstream->method() == http::verb::head) {
    response.body().clear();  // Content-Length stays what GET would send (RFC 9110, 9.3.2)
  }
  if (auto ec = co_await downstream.writeResponse(response); ec) {
    ctx.close_connection = true;
  }
}

net::awaitable<void> Pipeline::answerError(RequestContext& ctx, Downstream& downstream,
                                           const Error& error) {
  ctx.status = toHttpStatus(error);
  auto response = jsonResponse(ctx.status, connectors::errorBody(ctx.surface, error),
                               ctx.request_id, !ctx.close_connection);
  if ((ctx.status == 429 || ctx.status == 503) && ctx.retry_after > 0) {
    response.set(http::field::retry_after, std::to_string(ctx.retry_after));
  }
  if (ctx.status == 401) {
    response.set(http::field::www_authenticate, "Bearer");
  }
  if (ctx.status == 405) {
    const std::string_view target = ctx.downstream->target();
    response.set(http::field::allow,
                 target.starts_with("/v1/models")
                     ? "GET, HEAD"
                     : (target.starts_with("/v1/responses/") && !target.ends_with("/cancel")
                            ? "GET, HEAD, DELETE"
                            : "POST"));
  }
  co_await auditBeforeAnswer(ctx);  // an error answer is sent even if its record failed
  if (ctx.status >= 500) {
    log::warn("request failed", {{"request_id", ctx.request_id},
                                 {"status", std::to_string(ctx.status)},
                                 {"error", error.message}});
  }
  co_await writeLocal(ctx, downstream, response);
}

}  // namespace sy::server
