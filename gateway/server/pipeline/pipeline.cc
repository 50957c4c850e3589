#include "gateway/server/pipeline/pipeline.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>

#include "connectors/anthropic_inbound.h"
#include "connectors/chat_inbound.h"
#include "connectors/conversation_bounds.h"
#include "connectors/responses_inbound.h"
#include "core/json_text.h"
#include "gateway/server/pipeline/output_bound.h"
#include "gateway/server/pipeline/shadow.h"
#include "gateway/server/pipeline/stored_responses.h"
#include "observability/logging.h"

namespace sy::server {
namespace {

constexpr std::string_view kServerName = "switchyard";

std::unexpected<Error> badRequest(std::string message, std::string code_id = {},
                                  std::string param = {}) {
  auto error = makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream, std::move(message),
                         std::move(code_id));
  error.error().param = std::move(param);
  return error;
}

// "line 3, column 7 (byte 41)" for a byte offset into `text`.
std::string describePosition(std::string_view text, size_t offset) {
  size_t line = 1;
  size_t column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + " (byte " +
         std::to_string(offset) + ")";
}

}  // namespace

bool isWellFormedRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) {
    return false;
  }
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

void setCommonHeaders(http::fields& fields, std::string_view request_id) {
  fields.set(http::field::server, kServerName);
  fields.set("x-request-id", request_id);
  fields.set("request-id", request_id);  // where Anthropic's clients read it (`_request_id`)
}

http::response<http::string_body> jsonResponse(unsigned status, std::string body,
                                               std::string_view request_id, bool keep_alive) {
  http::response<http::string_body> response{static_cast<http::status>(status), 11};
  setCommonHeaders(response, request_id);
  response.set(http::field::content_type, "application/json");
  response.body() = std::move(body);
  response.keep_alive(keep_alive);
  response.prepare_payload();
  return response;
}

std::string_view endpointLabel(Operation operation) {
  switch (operation) {
    case Operation::Chat:
    case Operation::CountTokens:
      return "chat";
    case Operation::Embeddings:
      return "embeddings";
    case Operation::Models:
      return "models";
    case Operation::StoredResponse:
      return "responses";
    case Operation::Other:
      break;
  }
  return "other";
}

std::string_view blockReasonLabel(BlockReason reason) {
  switch (reason) {
    case BlockReason::RoutingRule:
      return "routing_rule";
    case BlockReason::Dlp:
      return "dlp";
    case BlockReason::ExternalSensitivity:
      return "external_sensitivity";
    case BlockReason::Scope:
      break;
  }
  return "scope";
}

net::awaitable<void> Pipeline::finish(Downstream& downstream, RequestContext& ctx) {
  // dispatch, authenticate and the head's checks ran in begin(), before the body was read.
  ctx.shadow_pending =
      ctx.config->shadow() != nullptr &&
      (ctx.operation == Operation::Chat || ctx.operation == Operation::Embeddings);
  Status outcome;
  if (ctx.operation == Operation::Models) {
    outcome = co_await answerModels(ctx, downstream);
  } else if (ctx.operation == Operation::StoredResponse) {
    outcome = co_await answerStoredResponse(ctx, downstream);
  } else {
    outcome = co_await decode(ctx);
    if (outcome) {
      outcome = authorizeBody(ctx);
    }
    if (outcome && ctx.operation == Operation::CountTokens) {
      co_await answerCountTokens(ctx, downstream);
    } else if (outcome) {
      outcome = co_await decideAndForward(ctx, downstream);
    }
  }
  if (!outcome) {
    co_await answerError(ctx, downstream, outcome.error());
  }
  evaluateShadow(ctx);  // the answer is out: the candidate's turn costs the client nothing
  co_await storeAnswer(ctx, worker_.shared.responses, worker_.shared.metrics);  // the same
  co_await settle(ctx);
  log(ctx);
}

void Pipeline::evaluateShadow(RequestContext& ctx) {
  if (!ctx.shadow_pending) {
    return;
  }
  ctx.shadow_pending = false;
  observability::GatewayMetrics& metrics = worker_.shared.metrics;
  try {
    const ExplainOptions options{endpointLabel(ctx.operation), ctx.surface, ctx.principal, false};
    auto disagreement = shadowCompare(ctx.config, ctx.downstream->body(), options);
    metrics.shadow_evaluations_total.Increment();
    if (disagreement) {
      metrics.shadow_disagreements_total
          .Add({{"active_rule", disagreement->active_rule},
                {"shadow_rule", disagreement->shadow_rule}})
          .Increment();
      ctx.shadow = std::move(disagreement->decision);
    }
  } catch (const std::exception& e) {
    metrics.shadow_errors_total.Increment();
    log::error("shadow evaluation failed", {{"request_id", ctx.request_id}, {"error", e.what()}});
  }
}

net::awaitable<Status> Pipeline::decideAndForward(RequestContext& ctx, Downstream& downstream) {
  // DLP findings and the request's sensitivity
  if (Status inspected = inspectBody(ctx); !inspected) {
    co_return inspected;
  }
  if (ctx.config->routes().usesDifficulty()) {
    classifyBody(ctx);
    co_await consultJudge(ctx);
  }
  auto groups = route(ctx);  // rule, tier, candidates per destination (scopes, DLP verdicts)
  if (!groups) {
    co_return std::unexpected(std::move(groups.error()));
  }
  ctx.output_cap = outputCap(ctx);  // the key's and budgets' bound on the answer (output_bound.h)
  if (worker_.shared.limits != nullptr && ctx.principal != nullptr) {
    // Rate limits and budgets reserve the worst case over every candidate.
    if (Status admitted = co_await admit(ctx, *groups); !admitted) {
      co_return admitted;
    }
  }
  std::vector<const config::BackendRuntime*> everyone;
  for (const CandidateGroup& group : *groups) {
    everyone.insert(everyone.end(), group.backends.begin(), group.backends.end());
  }
  if (Status audited = co_await auditDecision(ctx, everyone); !audited) {
    co_return audited;  // the decision record comes before anything leaves
  }
  co_return co_await forward(ctx, downstream,
                             *groups);  // failover, answer DLP, the client's surface
}

Status Pipeline::dispatch(RequestContext& ctx) {
  const auto& request = *ctx.downstream;
  std::string_view path = request.target();
  path = path.substr(0, path.find('?'));
  ctx.path = path;
  struct Route {
    std::string_view path;
    http::verb method;
    Operation operation;
    connectors::Surface surface;
  };
  static constexpr Route kRoutes[] = {
      {"/v1/chat/completions", http::verb::post, Operation::Chat, connectors::Surface::OpenAi},
      {"/v1/embeddings", http::verb::post, Operation::Embeddings, connectors::Surface::OpenAi},
      {"/v1/models", http::verb::get, Operation::Models, connectors::Surface::OpenAi},
      {"/v1/messages", http::verb::post, Operation::Chat, connectors::Surface::Anthropic},
      {"/v1/messages/count_tokens", http::verb::post, Operation::CountTokens,
       connectors::Surface::Anthropic},
      {"/v1/responses", http::verb::post, Operation::Chat, connectors::Surface::Responses},
  };
  // Anthropic clients send anthropic-version on every request: the shared paths (models, and
  // errors on unknown paths) answer them in Anthropic's shape.
  if (path.starts_with("/v1/messages") || !request["anthropic-version"].empty()) {
    ctx.surface = connectors::Surface::Anthropic;
  }
  if (path.starts_with("/v1/responses/") && path.size() > 14) {
    return dispatchStoredResponse(ctx);
  }
  const bool model_info = path.starts_with("/v1/models/") && path.size() > 11;
  for (const Route& route : kRoutes) {
    if (path != route.path && !(model_info && route.operation == Operation::Models)) {
      continue;
    }
    // HEAD is GET without a body (the answer's body is dropped when written).
    const bool head_of_get =
        route.method == http::verb::get && request.method() == http::verb::head;
    if (request.method() != route.method && !head_of_get) {
      return makeError(ErrorCode::MethodNotAllowed, ErrorSource::Downstream,
                       "Method " + std::string(request.method_string()) + " is not allowed on " +
                           std::string(route.path) + "; use " +
                           std::string(http::to_string(route.method)) + ".",
                       "method_not_allowed");
    }
    if (route.surface == connectors::Surface::Responses) {
      ctx.surface = route.surface;
    }
    ctx.operation = route.operation;
    ctx.api = route.operation == Operation::Embeddings ? connectors::Endpoint::Embeddings
                                                       : connectors::Endpoint::ChatCompletions;
    return {};
  }
  // Echoed only when shaped like an API path: a client may put anything there.
  const std::string_view method = request.method_string();
  return makeError(ErrorCode::NotFound, ErrorSource::Downstream,
                   isEchoableName(method) && isEchoableName(path)
                       ? "Unknown request URL: " + std::string(method) + " " + std::string(path) + "."
                       : std::string("Unknown request URL (not shown: it is not shaped like an "
                                     "API path)."),
                   "unknown_url");
}

Status Pipeline::dispatchStoredResponse(RequestContext& ctx) {
  const http::verb method = ctx.downstream->method();
  const bool cancel = ctx.path.ends_with("/cancel");
  const bool allowed = cancel ? method == http::verb::post
                              : (method == http::verb::get || method == http::verb::head ||
                                 method == http::verb::delete_);
  if (!allowed) {
    return makeError(ErrorCode::MethodNotAllowed, ErrorSource::Downstream,
                     "Method " + std::string(ctx.downstream->method_string()) +
                         " is not allowed on " +
                         (cancel ? "/v1/responses/{id}/cancel; use POST."
                                 : "/v1/responses/{id}; use GET or DELETE."),
                     "method_not_allowed");
  }
  ctx.operation = Operation::StoredResponse;
  return {};
}

net::awaitable<Status> Pipeline::decode(RequestContext& ctx) {
  const std::string_view text = ctx.downstream->body();
  if (Status bounded = precheckConversation(ctx, text); !bounded) {
    worker_.recordRejection(bounded.error().code_id);
    co_return bounded;
  }
  if (Status parsed = parseBody(text, ctx); !parsed) {
    co_return parsed;
  }
  // The Responses API's conversation state: the earlier turns a previous_response_id names
  // (stored_responses.h), decoded as if the client had sent them, so every phase after this one
  // sees the whole conversation.
  std::optional<boost::json::array> prior;
  if (ctx.surface == connectors::Surface::Responses) {
    auto loaded = co_await previousTurns(ctx, worker_.shared.responses);
    if (!loaded) {
      co_return std::unexpected(std::move(loaded.error()));
    }
    prior = std::move(*loaded);
  }
  const boost::json::array* items = prior.has_value() ? &*prior : nullptr;
  if (Status bounded = boundConversation(ctx, items); !bounded) {
    worker_.recordRejection(bounded.error().code_id);  // too_many_messages, ...: our own words
    co_return bounded;
  }
  if (ctx.surface == connectors::Surface::Responses &&
      willStoreAnswer(ctx, worker_.shared.responses)) {
    ctx.store_items = conversationInput(ctx.body, items);
  }
  co_return decodeParsed(text, ctx, items);
}

Status decodeBody(std::string_view text, RequestContext& ctx) {
  if (Status bounded = precheckConversation(ctx, text); !bounded) {
    return bounded;
  }
  if (Status parsed = parseBody(text, ctx); !parsed) {
    return parsed;
  }
  if (Status bounded = boundConversation(ctx, nullptr); !bounded) {
    return bounded;
  }
  return decodeParsed(text, ctx, nullptr);
}

Status precheckConversation(const RequestContext& ctx, std::string_view text) {
  if (ctx.api != connectors::Endpoint::ChatCompletions) {
    return {};
  }
  const config::ServerLimits& limits = ctx.config->config().server.limits;
  return connectors::precheckConversation(
      ctx.surface, text, {limits.max_messages, limits.max_content_parts, limits.max_tools});
}

Status boundConversation(const RequestContext& ctx, const boost::json::array* prior) {
  if (ctx.api != connectors::Endpoint::ChatCompletions) {
    return {};  // embeddings: their inputs are bounded by the body size
  }
  const config::ServerLimits& limits = ctx.config->config().server.limits;
  return connectors::checkConversation(
      ctx.surface, connectors::measureConversation(ctx.surface, ctx.body, prior),
      {limits.max_messages, limits.max_content_parts, limits.max_tools});
}

Status parseBody(std::string_view text, RequestContext& ctx) {
  if (text.empty()) {
    return badRequest("The request body is empty; send a JSON object.", "invalid_json");
  }
  unsigned char parser_stack[4096];  // the parser's scratch space; no allocation for most bodies
  boost::json::parser parser(boost::json::storage_ptr(), {}, parser_stack);
  parser.reset(ctx.body.storage());  // the value goes straight into the request's arena
  boost::system::error_code ec;
  const size_t consumed = parser.write(text.data(), text.size(), ec);
  if (ec) {
    return badRequest(
        "Invalid JSON body at " + describePosition(text, consumed) + ": " + ec.message() + ".",
        "invalid_json");
  }
  boost::json::value value = parser.release();
  if (!value.is_object()) {
    return badRequest("The request body must be a JSON object.", "invalid_json");
  }
  ctx.body = std::move(value.get_object());
  return {};
}

Status decodeParsed(std::string_view text, RequestContext& ctx, const boost::json::array* prior) {
  if (ctx.surface == connectors::Surface::Anthropic) {
    // Into the canonical request: every phase after this one reads only that.
    auto canonical = connectors::anthropicToChat(ctx.body, ctx.body.storage(),
                                                 ctx.operation == Operation::CountTokens);
    if (!canonical) {
      return std::unexpected(std::move(canonical.error()));
    }
    ctx.native = std::move(ctx.body);  // what passes through to an Anthropic backend
    ctx.body = std::move(*canonical);
  } else if (ctx.surface == connectors::Surface::Responses) {
    // Into the canonical request (every phase after this one reads it); the client's body is kept
    // too: DLP inspects it, and it passes through to a backend that serves the Responses API. The
    // turns of a previous_response_id (`prior`) go first into both.
    const bool builtin_tools =
        ctx.config->config().responses.builtin_tools == config::BuiltinTools::Allow;
    auto canonical = connectors::responsesToChat(ctx.body, ctx.body.storage(), prior,
                                                 {.builtin_tools = builtin_tools});
    if (!canonical) {
      return std::unexpected(std::move(canonical.error()));
    }
    ctx.answer_echo = connectors::responsesEcho(ctx.body, ctx.body.storage());
    ctx.answer_echo["store"] = ctx.store_items.has_value();  // the final answer may still say no
    ctx.needs_builtin_tools = builtin_tools && connectors::usesBuiltInTools(ctx.body);
    connectors::inlinePriorItems(ctx.body, prior);
    ctx.native = std::move(ctx.body);
    ctx.body = std::move(*canonical);
  }
  const boost::json::value* model = ctx.body.if_contains("model");
  if (model == nullptr || !model->is_string() || model->get_string().empty()) {
    return badRequest("You must provide a model parameter (a non-empty string).",
                      "missing_required_parameter");
  }
  ctx.requested_model = model->get_string();
  if (ctx.api == connectors::Endpoint::ChatCompletions) {
    const boost::json::value* messages = ctx.body.if_contains("messages");
    if (messages == nullptr || !messages->is_array() || messages->get_array().empty()) {
      return badRequest("'messages' is required and must be a non-empty array.",
                        "missing_required_parameter");
    }
    const boost::json::array& list = messages->get_array();
    for (size_t m = 0; m < list.size(); ++m) {
      const boost::json::object* message = list[m].if_object();
      const boost::json::value* role = message != nullptr ? message->if_contains("role") : nullptr;
      const boost::json::value* content =
          message != nullptr ? message->if_contains("content") : nullptr;
      if (role == nullptr || !role->is_string() ||
          (content != nullptr && !content->is_string() && !content->is_array() &&
           !content->is_null())) {
        const std::string where = "messages[" + std::to_string(m) + "]";
        return badRequest(where +
                              " must be an object with a string 'role' and a 'content' that is a "
                              "string, an array of content parts or null.",
                          "invalid_type", where);
      }
    }
    if (ctx.surface == connectors::Surface::OpenAi) {
      // The other surfaces' decoders checked their own fields; this body goes out as it is.
      if (Status checked = connectors::checkChatRequest(ctx.body); !checked) {
        return checked;
      }
    }
  } else {
    const boost::json::value* input = ctx.body.if_contains("input");
    if (input == nullptr || !(input->is_string() || input->is_array())) {
      return badRequest("'input' is required and must be a string or an array.",
                        "missing_required_parameter");
    }
  }
  if (const boost::json::value* stream = ctx.body.if_contains("stream"); stream != nullptr) {
    if (!stream->is_bool() && !stream->is_null()) {
      return badRequest("'stream' must be a boolean.", "invalid_type", "stream");
    }
    ctx.stream = stream->is_bool() && stream->get_bool();
  }
  for (std::string_view key : {"max_completion_tokens", "max_tokens"}) {
    const boost::json::value* limit = ctx.body.if_contains(key);
    if (limit == nullptr || limit->is_null()) {
      continue;
    }
    const int64_t* value = limit->if_int64();
    const uint64_t* unsigned_value = limit->if_uint64();
    const uint64_t n = value != nullptr && *value > 0 ? static_cast<uint64_t>(*value)
                       : unsigned_value != nullptr    ? *unsigned_value
                                                      : 0;
    if (n == 0 || n > UINT32_MAX) {
      return badRequest("'" + std::string(key) + "' must be a positive integer.", "invalid_value",
                        std::string(key));
    }
    ctx.max_tokens = static_cast<uint32_t>(n);
    break;
  }
  // The earlier turns of a stored conversation count too (limits, context windows).
  const size_t prior_bytes = prior != nullptr ? boost::json::serialize(*prior).size() : 0;
  ctx.prompt_estimate = (text.size() + prior_bytes) / 4 + 1;
  if (const boost::json::value* options = ctx.body.if_contains("stream_options");
      options != nullptr && options->is_object()) {
    const boost::json::value* usage = options->get_object().if_contains("include_usage");
    ctx.client_wants_usage = usage != nullptr && usage->is_bool() && usage->get_bool();
  }
  return {};
}

Status inspectBody(RequestContext& ctx) {
  if (ctx.principal != nullptr) {
    ctx.sensitivity = std::max(ctx.sensitivity, ctx.principal->sensitivity_floor);
  }
  if (!ctx.config->dlpEnabled()) {
    return {};
  }
  ctx.dlp.emplace(ctx.config->dlpEngine(), ctx.config->dlpPolicy());
  // A body that may pass through as the client sent it is the one DLP sees (the canonical
  // request is rebuilt from it, transformed, when a try needs it: forward.cc).
  Status inspected = ctx.native.empty() ? ctx.dlp->inspect(ctx.api, ctx.body)
                                        : ctx.dlp->inspectNative(ctx.surface, ctx.native);
  ctx.sensitivity = std::max(ctx.sensitivity, ctx.dlp->sensitivity());
  return inspected;
}

void Pipeline::log(RequestContext& ctx) {
  const auto now = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(now - ctx.started_at).count();
  const std::string_view team =
      ctx.principal != nullptr ? std::string_view(ctx.principal->team) : std::string_view();
  const BackendSpec* answered = ctx.answered_by;
  worker_.recordRequest(
      {endpointLabel(ctx.operation), ctx.tier, ctx.backend,
       answered != nullptr ? std::string_view(answered->model) : "", team, ctx.status},
      seconds);
  if (answered != nullptr) {
    ctx.cost_usd = answered->cost.usd(ctx.usage.prompt_tokens, ctx.usage.completion_tokens,
                                      ctx.usage.cached_prompt_tokens);
    worker_.recordUsage(team, *answered, ctx.usage.prompt_tokens, ctx.usage.completion_tokens,
                        ctx.usage.cached_prompt_tokens, ctx.config->config().accounting.baseline);
    if (ctx.first_byte_at) {
      worker_.recordFirstToken(
          ctx.tier, answered->name,
          std::chrono::duration<double>(*ctx.first_byte_at - ctx.started_at).count());
    }
  }
  if (ctx.status == 403) {
    worker_.recordBlock(blockReasonLabel(ctx.block_reason));
  }
  if (ctx.rule != nullptr) {
    worker_.recordRouting(
        ctx.config->dlpPolicy().levels().name(ctx.sensitivity),
        ctx.difficulty ? router::toString(ctx.difficulty->label(ctx.config->difficultyThreshold()))
                       : "none",
        ctx.tier, ctx.rule->name);
  }
  auditCompletion(ctx, seconds);
  accessLog(ctx, seconds);
  if (ctx.dlp_verdict != nullptr) {
    const auto& texts = ctx.dlp->texts();
    for (size_t t = 0; t < texts.size(); ++t) {
      for (size_t f = 0; f < texts[t].findings.size(); ++f) {
        worker_.recordDlpFinding(texts[t].findings[f].detector_id,
                                 policies::toString(ctx.dlp_verdict->actions[t][f].action),
                                 "request");
      }
    }
    if (ctx.dlp_verdict->block) {
      worker_.recordDlpBlock(ctx.dlp->blockRule(*ctx.dlp_verdict->block));
    }
  }
  for (const ResponseFinding& finding : ctx.response_findings) {
    worker_.recordDlpFinding(finding.detector_id, policies::toString(finding.action), "response");
  }
}

}  // namespace sy::server
