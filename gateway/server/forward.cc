// The `forward` phase of the pipeline: resolve the requested model to candidate
// backends, send the request upstream and relay the answer, failing over inside
// the tier while nothing has reached the client yet.
#include <boost/json/serialize.hpp>

#include "gateway/server/pipeline.h"
#include "observability/logging.h"

namespace sy::server {
namespace {

constexpr size_t kMaxUpstreamBody = 64 << 20;  // a non-streamed answer larger than this is a 502
constexpr size_t kRelayBuffer = 16 << 10;

std::string routeHeader(std::string_view tier, const BackendSpec& backend) {
  std::string value = "tier=";
  value += tier.empty() ? "-" : tier;
  value += "; backend=";
  value += backend.name;
  value += "; model=";
  value += backend.model;
  return value;
}

// A pooled connection the peer closed while it sat idle fails like this before
// any byte comes.
bool isStaleConnectionError(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe || ec == net::error::eof;
}

// The `reason` label of switchyard_upstream_errors_total for a failed attempt.
std::string_view errorReason(const Error& error) {
  if (error.code_id == "upstream_timeout") {
    return "timeout";
  }
  if (error.code_id == "upstream_unreachable") {
    return "unreachable";
  }
  if (error.code_id == "upstream_status") {
    return "status";
  }
  return "reset";
}

// Upstream response headers worth relaying to the client besides the body's
// content type.
void copyRelayedHeaders(const http::fields& from, http::fields& to) {
  if (auto retry_after = from[http::field::retry_after]; !retry_after.empty()) {
    to.set(http::field::retry_after, retry_after);
  }
}

}  // namespace

Candidates allowedCandidates(RequestContext& ctx, const router::Target& target) {
  // DLP and the key decide per destination: a candidate the policy blocks for this request is
  // skipped, so failover never sends the data where the policy forbids it.
  Candidates out;
  if (ctx.principal != nullptr) {
    if (Status tier = ctx.principal->allowTier(target.tier); !tier) {
      out.blocked = std::move(tier.error());
      return out;
    }
  }
  out.allowed.reserve(target.backends.size());
  for (const BackendSpec* spec : target.backends) {
    if (ctx.principal != nullptr && spec->location == Location::External &&
        !ctx.principal->mayReachExternal(ctx.sensitivity)) {
      if (!out.blocked) {
        ctx.block_reason = "external_sensitivity";
        const auto& levels = ctx.config->dlpPolicy().levels();
        out.blocked =
            makeError(ErrorCode::PermissionDenied, ErrorSource::Downstream,
                      "Key '" + ctx.principal->key_id + "' may not send " +
                          levels.name(ctx.sensitivity) +
                          " data to external backends (max_external_sensitivity: " +
                          levels.name(ctx.principal->scopes.max_external_sensitivity) + ").",
                      "policy_violation")
                .error();
      }
      continue;
    }
    if (ctx.dlp) {
      const DestinationVerdict& verdict = ctx.dlp->verdict(spec->location);
      if (verdict.block) {
        if (!out.blocked) {
          ctx.block_reason = "dlp";
          out.blocked = ctx.dlp->blockError(*verdict.block);
          ctx.dlp_verdict = &verdict;
        }
        continue;
      }
    }
    out.allowed.push_back(&ctx.config->backend(*spec));
  }
  return out;
}

net::awaitable<Status> Pipeline::forward(RequestContext& ctx, Downstream& downstream) {
  auto target = ctx.config->catalog().resolve(ctx.requested_model, worker_.rotation++);
  if (!target) {
    co_return std::unexpected(std::move(target.error()));
  }
  ctx.tier = target->tier;
  auto [candidates, blocked] = allowedCandidates(ctx, *target);
  if (candidates.empty()) {
    co_return std::unexpected(std::move(*blocked));
  }
  if (worker_.shared.limits != nullptr && ctx.principal != nullptr) {
    if (Status admitted = co_await admit(ctx, *target, candidates); !admitted) {
      co_return admitted;
    }
  }
  if (Status audited = co_await auditDecision(ctx, candidates); !audited) {
    co_return audited;
  }
  std::optional<Error> last_error;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const config::BackendRuntime& backend = *candidates[i];
    if (ctx.dlp) {
      ctx.dlp->apply(ctx.body, backend.spec->location);
      ctx.dlp_verdict = &ctx.dlp->verdict(backend.spec->location);
    }
    auto request = backend.connector->buildRequest(ctx.api, ctx.body, *backend.spec,
                                                   backend.api_key, ctx.request_id);
    if (!request) {
      co_return std::unexpected(std::move(request.error()));
    }
    const bool last = i + 1 == candidates.size();
    auto answered = co_await attempt(ctx, downstream, backend, *request, last);
    if (answered) {
      co_return Status{};
    }
    worker_.recordUpstreamError(backend.spec->name, errorReason(answered.error()));
    log::warn("upstream attempt failed", {{"request_id", ctx.request_id},
                                          {"backend", backend.spec->name},
                                          {"error", answered.error().message}});
    last_error = std::move(answered.error());
    if (!last_error->retryable) {
      break;
    }
  }
  Error error = std::move(*last_error);
  if (candidates.size() > 1) {
    error.message = "all " + std::to_string(candidates.size()) + " backends of tier '" +
                    std::string(ctx.tier) + "' failed; last: " + error.message;
  }
  co_return std::unexpected(std::move(error));
}

net::awaitable<Result<bool>> Pipeline::attempt(RequestContext& ctx, Downstream& downstream,
                                               const config::BackendRuntime& backend,
                                               const connectors::UpstreamRequest& upstream,
                                               bool last) {
  const BackendSpec& spec = *backend.spec;
  http::request<http::string_body> request{http::verb::post, upstream.target, 11};
  request.set(http::field::host, backend.host_header);
  request.set(http::field::user_agent, "switchyard/0.1");
  for (const auto& [name, value] : upstream.headers) {
    request.set(name, value);
  }
  request.body() = upstream.body;
  request.keep_alive(true);
  request.prepare_payload();

  auto connection = co_await worker_.pool.acquire(backend, ctx.config->version());
  if (!connection) {
    co_return std::unexpected(std::move(connection.error()));
  }
  const auto sent_at = std::chrono::steady_clock::now();
  std::optional<http::response_parser<http::empty_body>> head_parser;
  error_code ec;
  for (int tries = 0; tries < 2; ++tries) {
    head_parser.emplace();
    (*connection)->arm(spec.timeouts.first_byte);
    ec = co_await (*connection)->write(request);
    if (!ec) {
      ec = co_await (*connection)->readHeader(*head_parser);
    }
    (*connection)->disarm();
    if (!ec || !(*connection)->reused || !isStaleConnectionError(ec)) {
      break;
    }
    // The pooled connection was closed by the peer: nothing was processed, so
    // resend once.
    (*connection)->close();
    connection = co_await worker_.pool.connectNew(backend, ctx.config->version());
    if (!connection) {
      co_return std::unexpected(std::move(connection.error()));
    }
  }
  if (ec) {
    (*connection)->close();
    co_return upstreamIoError(spec, "request", ec, "upstream_error");
  }
  worker_.recordFirstByte(
      spec.name, std::chrono::duration<double>(std::chrono::steady_clock::now() - sent_at).count());

  const unsigned status = head_parser->get().result_int();
  if (!last && (status == 429 || status >= 500)) {
    (*connection)->close();
    co_return makeError(ErrorCode::UpstreamError, ErrorSource::Upstream,
                        "backend '" + spec.name + "' answered HTTP " + std::to_string(status),
                        "upstream_status", /*retryable=*/true);
  }
  ctx.backend = spec.name;
  ctx.answered_by = &spec;
  const bool event_stream =
      head_parser->get()[http::field::content_type].starts_with("text/event-stream");
  auto translator =
      backend.connector->newTranslator(ctx.api, status, event_stream, ctx.client_wants_usage);
  // DLP on the answer: restore this request's pseudonyms, apply the response rules.
  std::optional<ResponseDlp> response_dlp;
  if (ctx.dlp && ctx.api == connectors::Endpoint::ChatCompletions && status / 100 == 2) {
    const auto& policy = ctx.config->dlpPolicy();
    response_dlp.emplace(policy.scanResponses() ? &ctx.config->dlpEngine() : nullptr, policy,
                         &ctx.dlp->pseudonymizer());
    if (!response_dlp->active()) {
      response_dlp.reset();
    }
  }
  bool reusable = false;
  if (event_stream) {
    http::response_parser<http::buffer_body> parser{std::move(*head_parser)};
    parser.body_limit(boost::none);  // streams are relayed, never held whole
    http::response<http::empty_body> head{static_cast<http::status>(status), 11};
    setCommonHeaders(head, ctx.request_id);
    head.set("x-switchyard-route", routeHeader(ctx.tier, spec));
    head.set(http::field::content_type, "text/event-stream; charset=utf-8");
    head.set(http::field::cache_control, "no-cache");
    head.chunked(true);
    head.keep_alive(!ctx.close_connection);
    copyRelayedHeaders(parser.get(), head);
    ctx.status = status;
    if (co_await downstream.writeHead(head)) {
      ctx.close_connection = true;
    } else {
      co_await relayStream(ctx, downstream, spec, **connection, parser, *translator,
                           response_dlp ? &*response_dlp : nullptr, reusable);
    }
  } else {
    http::response_parser<http::string_body> parser{std::move(*head_parser)};
    parser.body_limit(kMaxUpstreamBody);
    (*connection)->arm(spec.timeouts.idle);
    ec = co_await (*connection)->readBody(parser);
    (*connection)->disarm();
    if (ec) {
      (*connection)->close();
      co_return upstreamIoError(spec, "response body", ec, "upstream_error");
    }
    reusable = parser.keep_alive();
    http::response<http::string_body> upstream_response = parser.release();
    std::string body = std::move(upstream_response.body());
    if (Status translated = translator->onChunk(body, true); !translated) {
      (*connection)->close();
      co_return std::unexpected(std::move(translated.error()));
    }
    if (response_dlp) {
      response_dlp->rewriteBody(body);
    }
    auto response = jsonResponse(status, std::move(body), ctx.request_id, !ctx.close_connection);
    response.set("x-switchyard-route", routeHeader(ctx.tier, spec));
    copyRelayedHeaders(upstream_response, response);
    ctx.status = status;
    ctx.first_byte_at = std::chrono::steady_clock::now();
    if (co_await downstream.writeResponse(response)) {
      ctx.close_connection = true;
    }
  }
  ctx.usage = translator->usage();
  if (response_dlp) {
    ctx.response_findings = response_dlp->findings();
  }
  if (reusable) {
    worker_.pool.release(std::move(*connection), backend);
  } else {
    (*connection)->close();
  }
  co_return true;
}

net::awaitable<void> Pipeline::relayStream(RequestContext& ctx, Downstream& downstream,
                                           const BackendSpec& spec, UpstreamConnection& connection,
                                           http::response_parser<http::buffer_body>& parser,
                                           connectors::ResponseTranslator& translator,
                                           ResponseDlp* response_dlp, bool& reusable) {
  std::string chunk;
  char buffer[kRelayBuffer];
  while (!parser.is_done()) {
    parser.get().body().data = buffer;
    parser.get().body().size = sizeof buffer;
    connection.arm(spec.timeouts.idle);
    auto [ec, n] = co_await connection.readSome(parser);
    connection.disarm();
    if (ec == http::error::need_buffer) {
      ec = {};
    }
    chunk.assign(buffer, sizeof buffer - parser.get().body().size);
    if (ec) {
      // Headers are out: the status can no longer change. Tell the client
      // in-band, the way OpenAI does (an SSE event with an error object), then
      // end the stream.
      worker_.recordUpstreamError(spec.name, ec == beast::error::timeout ? "timeout" : "reset");
      log::warn("upstream stream broke",
                {{"request_id", ctx.request_id}, {"backend", spec.name}, {"error", ec.message()}});
      const Error error = upstreamIoError(spec, "stream", ec, "upstream_error").error();
      std::string event;
      if (response_dlp != nullptr) {
        response_dlp->rewriteEvents(event, true);  // what DLP held back, before the error
      }
      event += "data: " + openAiErrorBody(error) + "\n\n";
      ctx.close_connection = true;
      if (!co_await downstream.writeChunk(event)) {
        co_await downstream.writeLastChunk();
      }
      co_return;
    }
    if (Status translated = translator.onChunk(chunk, parser.is_done()); !translated) {
      ctx.close_connection = true;
      co_return;
    }
    if (response_dlp != nullptr) {
      response_dlp->rewriteEvents(chunk, parser.is_done());
    }
    if (chunk.empty()) {
      continue;
    }
    if (!ctx.first_byte_at) {
      ctx.first_byte_at = std::chrono::steady_clock::now();
    }
    if (co_await downstream.writeChunk(chunk)) {
      ctx.close_connection = true;  // the client went away: stop reading the upstream
      co_return;
    }
  }
  if (co_await downstream.writeLastChunk()) {
    ctx.close_connection = true;
  }
  reusable = parser.keep_alive();
}

}  // namespace sy::server
