// The `forward` phase of the pipeline: resolve the requested model to candidate
// backends, send the request upstream and relay the answer, failing over inside
// the tier (and retrying its backends, then the fallback tiers) while nothing has
// reached the client yet.
#include <boost/asio/steady_timer.hpp>
#include <boost/json/serialize.hpp>

#include "connectors/anthropic_inbound.h"
#include "connectors/responses_inbound.h"
#include "gateway/server/pipeline/output_bound.h"
#include "gateway/server/pipeline/pipeline.h"
#include "gateway/server/pipeline/stored_responses.h"
#include "observability/logging.h"

// g++ 12 misreports Asio's coroutine frame allocator here (awaitable_frame_base's sized
// operator delete "mismatched" with its operator new): a known false positive of -Werror builds.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace sy::server {
namespace {

// x-switchyard-route: tier=…; backend=…; model=…; rule=…[; overridden=true][; difficulty=first-turn].
// `overridden` says the policy sent the request somewhere other than the model the client named;
// `difficulty=first-turn` that the conversation was judged on its first user turn
// (difficulty.conversation) and its latest turn alone would have been labelled otherwise.
std::string routeHeader(const RequestContext& ctx, const BackendSpec& backend) {
  std::string value = "tier=";
  value += ctx.tier.empty() ? "-" : ctx.tier;
  value += "; backend=";
  value += backend.name;
  value += "; model=";
  value += backend.model;
  if (ctx.rule != nullptr) {
    value += "; rule=";
    value += ctx.rule->name;
  }
  if (ctx.overridden) {
    value += "; overridden=true";
  }
  if (ctx.difficulty && ctx.latest_turn_difficulty) {
    const double threshold = ctx.config->difficultyThreshold();
    if (difficultyLabel(ctx) != ctx.latest_turn_difficulty->label(threshold)) {
      value += "; difficulty=first-turn";
    }
  }
  return value;
}

// True when DLP rewrites, for `destination`, a text inside a thinking block of the client's own
// Anthropic body: the block's signature would then not verify upstream.
bool rewritesThinking(RequestContext& ctx, Location destination) {
  const DestinationVerdict& verdict = ctx.dlp->verdict(destination);
  if (!verdict.transforms) {
    return false;
  }
  const std::vector<ScannedText>& texts = ctx.dlp->texts();
  for (size_t t = 0; t < texts.size(); ++t) {
    const bool rewritten =
        std::any_of(verdict.actions[t].begin(), verdict.actions[t].end(), [](const auto& a) {
          return a.action != policies::PolicyAction::Allow &&
                 a.action != policies::PolicyAction::Block;
        });
    const std::vector<uint32_t>& at = texts[t].at;  // messages, [i], content, [j], ...
    if (!rewritten || at.size() < 5 || at[0] >= ctx.native.size()) {
      continue;
    }
    const auto& messages = *(ctx.native.begin() + at[0]);
    const boost::json::array* list = messages.value().if_array();
    if (messages.key() != "messages" || list == nullptr || at[1] >= list->size() ||
        !(*list)[at[1]].is_object()) {
      continue;
    }
    const boost::json::object& message = (*list)[at[1]].get_object();
    if (at[2] >= message.size()) {
      continue;
    }
    const boost::json::array* blocks = (message.begin() + at[2])->value().if_array();
    const boost::json::object* block =
        blocks != nullptr && at[3] < blocks->size() ? (*blocks)[at[3]].if_object() : nullptr;
    const boost::json::value* type = block != nullptr ? block->if_contains("type") : nullptr;
    if (type != nullptr && type->is_string() &&
        (type->get_string() == "thinking" || type->get_string() == "redacted_thinking")) {
      return true;
    }
  }
  return false;
}

// How an attempt ended, for the backend's breaker and the retry decision.
router::Outcome outcomeOf(unsigned status) {
  if (status / 100 == 2 || status / 100 == 3) {
    return router::Outcome::Success;
  }
  if (status == 429) {
    return router::Outcome::RateLimited;
  }
  return status >= 500 ? router::Outcome::ServerError : router::Outcome::ClientError;
}

router::Outcome outcomeOf(const Error& error, unsigned upstream_status) {
  if (error.code_id == "upstream_status") {
    return outcomeOf(upstream_status);
  }
  if (error.code_id == "upstream_timeout") {
    return router::Outcome::Timeout;
  }
  return error.source == ErrorSource::Upstream ? router::Outcome::ConnectError
                                               : router::Outcome::ServerError;
}

// The `reason` label of switchyard_upstream_errors_total for a failed attempt.
std::string_view errorReason(const Error& error) {
  if (error.code_id == "upstream_timeout") {
    return "timeout";
  }
  if (error.code_id == "upstream_unreachable") {
    return "unreachable";
  }
  if (error.code_id == "upstream_tls_error") {
    return "tls";
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

// The canonical request rebuilt from the client's own body (RequestContext::native), as the
// decode phase built it (its prior turns are already in the body).
Result<boost::json::object> canonicalFromNative(RequestContext& ctx) {
  if (ctx.surface == connectors::Surface::Responses) {
    return connectors::responsesToChat(ctx.native, ctx.body.storage(), nullptr,
                                       {.builtin_tools = ctx.needs_builtin_tools});
  }
  return connectors::anthropicToChat(ctx.native, ctx.body.storage());
}

}  // namespace

bool servesBuiltInTools(const BackendSpec& backend) {
  return backend.kind == BackendKind::OpenAi && backend.apis.responses;
}

Result<connectors::UpstreamRequest> upstreamRequest(RequestContext& ctx,
                                                    const config::BackendRuntime& backend,
                                                    std::string_view api_key) {
  const Location destination = backend.spec->location;
  boost::json::object& inspected = ctx.native.empty() ? ctx.body : ctx.native;
  if (ctx.dlp) {
    ctx.dlp->apply(inspected, destination);
    ctx.dlp_verdict = &ctx.dlp->verdict(destination);
  }
  if (!ctx.native.empty() && backend.connector->speaks(ctx.surface)) {
    connectors::NativeRequest native{
        .request_id = ctx.request_id,
        .output_cap = ctx.output_cap,
        .beta = ctx.downstream != nullptr ? (*ctx.downstream)["anthropic-beta"] : "",
        .without_thinking = ctx.dlp && ctx.surface == connectors::Surface::Anthropic &&
                            rewritesThinking(ctx, destination)};
    return backend.connector->buildNative(ctx.surface, ctx.native, *backend.spec, api_key, native);
  }
  if (!ctx.native.empty()) {
    const std::optional<Location> wanted = ctx.dlp && ctx.dlp->verdict(destination).transforms
                                               ? std::optional(destination)
                                               : std::nullopt;
    if (wanted != ctx.canonical_texts) {
      auto canonical = canonicalFromNative(ctx);
      if (!canonical) {
        return std::unexpected(std::move(canonical.error()));
      }
      ctx.body = std::move(*canonical);
      ctx.output_cap_field = {};
      ctx.canonical_texts = wanted;
    }
  }
  if (ctx.output_cap != 0) {  // the upstream may not produce more than was reserved
    applyOutputCap(ctx.body, ctx.output_cap, *backend.spec, ctx.output_cap_field);
  }
  return backend.connector->buildRequest(ctx.api, ctx.body, *backend.spec, api_key, ctx.request_id);
}

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
  const uint64_t needed_tokens = ctx.prompt_estimate + ctx.max_tokens;
  uint32_t largest_window = 0;
  std::string_view missing_capability;
  bool too_large = false;
  for (const BackendSpec* spec : target.backends) {
    if (spec->context_window != 0 && needed_tokens > spec->context_window) {
      too_large = true;
      largest_window = std::max(largest_window, spec->context_window);
      continue;
    }
    const Capabilities& has = spec->capabilities;
    const std::string_view missing =
        ctx.needs_builtin_tools && !servesBuiltInTools(*spec) ? "built-in OpenAI tools"
        : ctx.needs.tools && !has.tools                       ? "tools"
        : ctx.needs.vision && !has.vision                     ? "image input"
        : ctx.needs.json_mode && !has.json_mode               ? "JSON mode"
                                                              : "";
    if (!missing.empty()) {
      missing_capability = missing;
      continue;
    }
    if (ctx.principal != nullptr && spec->location == Location::External &&
        !ctx.principal->mayReachExternal(ctx.sensitivity)) {
      if (!out.blocked) {
        ctx.block_reason = BlockReason::ExternalSensitivity;
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
          ctx.block_reason = BlockReason::Dlp;
          out.blocked = ctx.dlp->blockError(*verdict.block);
          ctx.dlp_verdict = &verdict;
        }
        continue;
      }
    }
    out.allowed.push_back(&ctx.config->backend(*spec));
  }
  if (out.allowed.empty() && !out.blocked) {
    const std::string where =
        target.tier.empty() ? "the requested backend" : "tier '" + std::string(target.tier) + "'";
    out.blocked =
        too_large ? makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream,
                              "This request needs about " + std::to_string(needed_tokens) +
                                  " tokens (prompt estimate plus max_tokens), more than any "
                                  "backend of " +
                                  where + " holds (largest context window: " +
                                  std::to_string(largest_window) + " tokens).",
                              "context_length_exceeded")
                        .error()
                  : makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream,
                              "No backend of " + where + " supports " +
                                  std::string(missing_capability) + ", which this request uses.",
                              "unsupported_capability")
                        .error();
  }
  return out;
}

Result<std::vector<CandidateGroup>> Pipeline::route(RequestContext& ctx) {
  auto plan = decideRoute(ctx);
  if (!plan) {
    return std::unexpected(std::move(plan.error()));
  }
  ctx.tier = plan->primary.tier;
  auto [candidates, blocked] = allowedCandidates(ctx, plan->primary);
  if (candidates.empty()) {
    return std::unexpected(std::move(*blocked));
  }
  // Groups tried in order: the route's own backends, then each fallback tier the request may
  // reach (its DLP verdicts and the key's scopes apply there too).
  std::vector<CandidateGroup> groups{{ctx.tier, std::move(candidates)}};
  for (const router::Target& fallback : plan->fallbacks) {
    auto allowed = allowedCandidates(ctx, fallback).allowed;
    if (!allowed.empty()) {
      groups.push_back({fallback.tier, std::move(allowed)});
    }
  }
  return groups;
}

net::awaitable<Status> Pipeline::forward(RequestContext& ctx, Downstream& downstream,
                                         const std::vector<CandidateGroup>& groups) {
  FailedTries failed;
  for (size_t g = 0; g < groups.size(); ++g) {
    if (g > 0) {
      ctx.tier = groups[g].tier;
      worker_.recordFallback(groups[g - 1].tier, groups[g].tier);
      log::info("falling back to another tier",
                {{"request_id", ctx.request_id}, {"tier", groups[g].tier}});
    }
    auto answered =
        co_await forwardToGroup(ctx, downstream, groups[g], g + 1 == groups.size(), failed);
    if (!answered) {
      co_return std::unexpected(std::move(answered.error()));
    }
    if (*answered) {
      co_return Status{};
    }
    if (failed.last_error && !failed.last_error->retryable) {
      break;  // the request itself is at fault: another tier would fail the same way
    }
  }
  if (!failed.last_error || failed.all_unreachable) {
    // Nothing answered at all: the service is unavailable rather than a bad gateway.
    ctx.retry_after = 1;
    std::string message = "No backend the policy allows for this request is available right now";
    message += failed.last_error ? " (" + std::to_string(failed.tried) +
                                       " tried; last: " + failed.last_error->message + ")"
                                 : " (circuit breakers open)";
    co_return makeError(ErrorCode::Unavailable, ErrorSource::Upstream,
                        message + "; try again shortly.", "no_backend_available",
                        /*retryable=*/true);
  }
  Error error = std::move(*failed.last_error);
  if (failed.tried > 1) {
    error.message = std::to_string(failed.tried) + " attempts failed (tier '" +
                    std::string(ctx.tier) + "'); last: " + error.message;
  }
  co_return std::unexpected(std::move(error));
}

net::awaitable<Result<bool>> Pipeline::forwardToGroup(RequestContext& ctx, Downstream& downstream,
                                                      const CandidateGroup& group, bool last_group,
                                                      FailedTries& failed) {
  const router::RetryPolicy& retry = ctx.config->config().resilience.retry;
  const uint32_t max_attempts = std::max<uint32_t>(retry.max_attempts, 1);
  router::BackendStates& states = *worker_.shared.backend_states;
  std::vector<router::Candidate> choices;
  choices.reserve(group.backends.size());
  for (const config::BackendRuntime* backend : group.backends) {
    choices.push_back({backend->spec, backend->spec->weight});
  }
  router::Selection selection = states.order(choices, worker_.random());
  if (selection.panic) {
    log::warn("no healthy backend; trying all anyway",
              {{"request_id", ctx.request_id}, {"tier", group.tier}});
  }
  uint32_t attempts = 0;
  uint32_t paused_after = 0;  // the number of tries the last backoff pause followed
  // The failed try the next one retries: its backend and reason (policy names, fixed reasons).
  std::string_view retrying_backend, retrying_reason;
  for (;;) {
    bool retry_next = false;  // the last try failed in a way another try may fix
    for (size_t i = 0; i < selection.picks.size(); ++i) {
      if (attempts > paused_after) {  // a try failed: the full-jitter pause before the next
        paused_after = attempts;
        net::steady_timer pause(co_await net::this_coro::executor);
        pause.expires_after(router::backoff(retry, attempts, worker_.random()));
        co_await pause.async_wait(kTuple);
      }
      const router::Pick& pick = selection.picks[i];
      router::Inflight inflight = pick.state->acquire(selection.panic);
      if (!inflight) {
        continue;  // its breaker opened, or another request holds its half-open probe
      }
      ++attempts;
      ++failed.tried;
      if (!retrying_backend.empty()) {
        worker_.recordRetry(retrying_backend, retrying_reason);
      }
      // No try follows this one: its 429/5xx goes to the client as is. (After a panic round
      // there is no retry round: every breaker is open or every backend unhealthy.)
      const bool last = last_group && (attempts >= max_attempts ||
                                       (selection.panic && i + 1 == selection.picks.size()));
      const config::BackendRuntime& backend = ctx.config->backend(*pick.spec);
      auto request = upstreamRequest(ctx, backend, backend.api_key);
      if (!request) {
        co_return std::unexpected(std::move(request.error()));
      }
      auto answered = co_await attempt(ctx, downstream, backend, *request, last);
      const router::Outcome outcome =
          answered ? outcomeOf(ctx.status) : outcomeOf(answered.error(), ctx.upstream_status);
      inflight.report(outcome);
      if (answered) {
        co_return true;
      }
      retrying_backend = backend.spec->name;
      retrying_reason = errorReason(answered.error());
      worker_.recordUpstreamError(retrying_backend, retrying_reason);
      log::warn("upstream attempt failed", {{"request_id", ctx.request_id},
                                            {"backend", backend.spec->name},
                                            {"error", answered.error().message}});
      failed.last_error = std::move(answered.error());
      failed.all_unreachable =
          failed.all_unreachable && failed.last_error->code_id == "upstream_unreachable";
      if (!router::retryableOnSameBackend(outcome)) {
        std::erase_if(choices, [&](const router::Candidate& c) { return c.spec == pick.spec; });
      }
      // Errors reach here only before anything was sent to the client.
      retry_next =
          failed.last_error->retryable && router::shouldRetry(retry, attempts, outcome, false);
      if (!retry_next) {
        co_return false;
      }
    }
    // Every candidate had its try and attempts remain: the group's backends again, in a fresh
    // order, but never one whose breaker is open now (no panic) or whose try timed out.
    if (!retry_next || selection.panic || choices.empty()) {
      co_return false;
    }
    selection = states.order(choices, worker_.random());
    if (selection.panic) {
      co_return false;
    }
  }
}

net::awaitable<Result<bool>> Pipeline::attempt(RequestContext& ctx, Downstream& downstream,
                                               const config::BackendRuntime& backend,
                                               const connectors::UpstreamRequest& upstream,
                                               bool last) {
  const BackendSpec& spec = *backend.spec;
  auto sent = co_await upstream_.send(backend, upstream, ctx.config->version());
  if (!sent) {
    co_return std::unexpected(std::move(sent.error()));
  }
  // Returning without release() closes the connection: the answer was not read to its end.
  UpstreamExchange& exchange = **sent;
  worker_.recordFirstByte(spec.name, std::chrono::duration<double>(exchange.firstByte()).count());

  const unsigned status = exchange.status();
  ctx.upstream_status = status;
  if (!last && (status == 429 || status >= 500)) {
    co_return makeError(ErrorCode::UpstreamError, ErrorSource::Upstream,
                        "backend '" + spec.name + "' answered HTTP " + std::to_string(status),
                        "upstream_status", /*retryable=*/true);
  }
  ctx.backend = spec.name;
  ctx.answered_by = &spec;
  const bool event_stream =
      exchange.headers()[http::field::content_type].starts_with("text/event-stream");
  auto translator = backend.connector->newTranslator(
      ctx.api, status, event_stream,
      {.client_wants_usage = ctx.client_wants_usage,
       .client = ctx.surface,
       .upstream_api = upstream.api});
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
  // The client's surface: the canonical answer (after response DLP) in its own wire format.
  auto encoder = connectors::newAnswerEncoder(ctx.surface, status, event_stream,
                                              ctx.requested_model,
                                              ctx.answer_echo.empty() ? nullptr : &ctx.answer_echo);
  if (encoder && ctx.store_items) {
    // The final response as the client receives it: stored after the answer (finish()).
    encoder->setFinalResponseHook(
        [&ctx](boost::json::object& final) { keepForStore(ctx, final); });
  }
  // Nothing goes to the client before the request's audit record is written.
  if (Status audited = co_await auditBeforeAnswer(ctx); !audited) {
    Error error = std::move(audited.error());
    error.retryable = false;  // another backend would not fix the audit log
    co_return std::unexpected(std::move(error));
  }
  bool reusable = false;
  if (event_stream) {
    http::response<http::empty_body> head{static_cast<http::status>(status), 11};
    setCommonHeaders(head, ctx.request_id);
    head.set("x-switchyard-route", routeHeader(ctx, spec));
    addCorsHeaders(ctx, head);
    head.set(http::field::content_type, "text/event-stream; charset=utf-8");
    head.set(http::field::cache_control, "no-cache");
    head.chunked(true);
    head.keep_alive(!ctx.close_connection);
    copyRelayedHeaders(exchange.headers(), head);
    ctx.status = status;
    if (co_await downstream.writeHead(head)) {
      ctx.close_connection = true;
    } else {
      co_await relayStream(ctx, downstream, spec, exchange, *translator,
                           response_dlp ? &*response_dlp : nullptr, encoder.get(), reusable);
    }
  } else {
    auto read = co_await exchange.readBody();
    if (!read) {
      co_return std::unexpected(std::move(read.error()));
    }
    std::string body = std::move(*read);
    if (Status translated = translator->onChunk(body, true); !translated) {
      co_return std::unexpected(std::move(translated.error()));
    }
    if (response_dlp) {
      response_dlp->rewriteBody(body);
    }
    if (encoder) {
      if (Status encoded = encoder->encode(body, true); !encoded) {
        co_return std::unexpected(std::move(encoded.error()));
      }
    }
    auto response = jsonResponse(status, std::move(body), ctx.request_id, !ctx.close_connection);
    response.set("x-switchyard-route", routeHeader(ctx, spec));
    addCorsHeaders(ctx, response);
    copyRelayedHeaders(exchange.headers(), response);
    ctx.status = status;
    ctx.first_byte_at = std::chrono::steady_clock::now();
    if (co_await downstream.writeResponse(response)) {
      ctx.close_connection = true;
      ctx.stored.reset();  // the client did not receive it
    }
    reusable = true;  // read whole; release() keeps the connection if the backend allows
  }
  ctx.usage = translator->usage();
  if (response_dlp) {
    ctx.response_findings = response_dlp->findings();
  }
  if (reusable) {
    exchange.release();
  }
  co_return true;
}

net::awaitable<void> Pipeline::relayStream(RequestContext& ctx, Downstream& downstream,
                                           const BackendSpec& spec, UpstreamExchange& exchange,
                                           connectors::ResponseTranslator& translator,
                                           ResponseDlp* response_dlp,
                                           connectors::AnswerEncoder* encoder, bool& reusable) {
  std::string chunk;
  std::optional<OutputBound> bound;  // cuts an upstream that overruns the cap it was sent
  if (ctx.output_cap != 0 && ctx.api == connectors::Endpoint::ChatCompletions) {
    bound.emplace(ctx.output_cap, ctx.client_wants_usage ? ctx.prompt_estimate : 0);
  }
  while (!exchange.done()) {
    if (Status read = co_await exchange.readChunk(chunk); !read) {
      // Headers are out: the status can no longer change. Tell the client
      // in-band, the way OpenAI does (an SSE event with an error object), then
      // end the stream.
      const Error& error = read.error();
      worker_.recordUpstreamError(spec.name,
                                  error.code_id == "upstream_timeout" ? "timeout" : "reset");
      log::warn("upstream stream broke",
                {{"request_id", ctx.request_id}, {"backend", spec.name}, {"error", error.message}});
      ctx.stream_end = StreamEnd::UpstreamBroke;
      std::string event;
      if (response_dlp != nullptr) {
        response_dlp->rewriteEvents(event, true);  // what DLP held back, before the error
      }
      if (encoder != nullptr) {
        // The canonical in-band error, which the encoder ends the stream with in its own shape
        // (its state: open blocks or items, sequence numbers).
        event += connectors::streamErrorEvent(connectors::Surface::OpenAi, error);
        (void)encoder->encode(event, true);
      } else {
        event += connectors::streamErrorEvent(ctx.surface, error);
      }
      // The answer ends well framed (the error event, then the last chunk), so the client's
      // connection stays usable: closing it after a response that announced keep-alive races
      // a client's next request on it (ECONNRESET in SDKs that pool connections).
      if (co_await downstream.writeChunk(event) || co_await downstream.writeLastChunk()) {
        ctx.close_connection = true;
      }
      co_return;
    }
    if (Status translated = translator.onChunk(chunk, exchange.done()); !translated) {
      ctx.stream_end = StreamEnd::UpstreamBroke;
      ctx.close_connection = true;
      co_return;
    }
    // At the cap, the stream ends here (finish_reason "length"); the upstream is not read on.
    const bool capped = bound && bound->clip(chunk);
    const bool end = exchange.done() || capped;
    if (response_dlp != nullptr) {
      response_dlp->rewriteEvents(chunk, end);
    }
    if (encoder != nullptr) {
      if (Status encoded = encoder->encode(chunk, end); !encoded) {
        ctx.close_connection = true;
        co_return;
      }
    }
    if (!chunk.empty()) {
      if (!ctx.first_byte_at) {
        ctx.first_byte_at = std::chrono::steady_clock::now();
      }
      if (co_await downstream.writeChunk(chunk)) {
        ctx.stream_end = StreamEnd::ClientGone;
        ctx.close_connection = true;  // the client went away: stop reading the upstream
        co_return;
      }
    }
    if (capped) {
      ctx.stream_end = StreamEnd::OutputCap;
      log::info("stream cut at the output cap", {{"request_id", ctx.request_id},
                                                 {"backend", spec.name},
                                                 {"max_tokens", std::to_string(ctx.output_cap)}});
      if (co_await downstream.writeLastChunk()) {
        ctx.close_connection = true;
      }
      co_return;  // not reusable: the rest of the upstream's answer was not read
    }
  }
  if (co_await downstream.writeLastChunk()) {
    ctx.close_connection = true;
  }
  reusable = true;
}

}  // namespace sy::server
