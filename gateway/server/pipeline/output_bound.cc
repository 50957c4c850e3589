#include "gateway/server/pipeline/output_bound.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "connectors/sse.h"
#include "gateway/server/pipeline/request_context.h"

namespace sy::server {
namespace {

// `"key":"` followed by at least one character of the string: output, not an empty delta.
bool hasNonEmptyString(std::string_view event, std::string_view quoted_key) {
  for (size_t at = event.find(quoted_key); at != std::string_view::npos;
       at = event.find(quoted_key, at + 1)) {
    const size_t value = at + quoted_key.size();
    if (value < event.size() && event[value] != '"') {
      return true;
    }
  }
  return false;
}

// The finish chunk of a stream the gateway ended at the output cap, modelled on `event` (the
// first event it dropped) so the client sees the same id, model and created; then, when the
// client asked for usage, a usage chunk; then [DONE].
std::string finishEvent(std::string_view event, uint64_t cap, uint64_t usage_prompt_tokens) {
  boost::json::object chunk;
  if (const size_t data = event.find("data:"); data != std::string_view::npos) {
    std::string_view json = event.substr(data + 5);
    json = json.substr(0, json.find('\n'));
    boost::system::error_code ec;
    boost::json::value parsed = boost::json::parse(json, ec);
    if (!ec && parsed.is_object()) {
      chunk = std::move(parsed.get_object());
    }
  }
  chunk.erase("usage");
  if (!chunk.contains("object")) {
    chunk["object"] = "chat.completion.chunk";
  }
  chunk["choices"] = boost::json::array{boost::json::object{
      {"index", 0}, {"delta", boost::json::object{}}, {"finish_reason", "length"}}};
  std::string out = "data: " + boost::json::serialize(chunk) + "\n\n";
  if (usage_prompt_tokens != 0) {
    chunk["choices"] = boost::json::array();
    chunk["usage"] = {{"prompt_tokens", usage_prompt_tokens},
                      {"completion_tokens", cap},
                      {"total_tokens", usage_prompt_tokens + cap}};
    out += "data: " + boost::json::serialize(chunk) + "\n\n";
  }
  return out + "data: [DONE]\n\n";
}

}  // namespace

uint32_t outputCap(const RequestContext& ctx) {
  if (ctx.api != connectors::Endpoint::ChatCompletions) {
    return 0;  // embeddings produce no output tokens (and take no max_tokens)
  }
  if (ctx.max_tokens != 0) {
    return ctx.max_tokens;
  }
  if (ctx.principal == nullptr) {
    return 0;
  }
  const policies::Principal& principal = *ctx.principal;
  const uint32_t scope_cap = principal.scopes.max_tokens;
  const auto limitsOutput = [](const policies::Limits& limits) {
    return limits.tpm != 0 || limits.budget_day_usd > 0 || limits.budget_month_usd > 0;
  };
  const bool limited = limitsOutput(principal.key_limits) ||
                       (principal.team_declared && limitsOutput(principal.team_limits));
  if (!limited) {
    return scope_cap;
  }
  const uint32_t fallback = ctx.config->config().limits.default_max_tokens;
  return scope_cap != 0 ? std::min(scope_cap, fallback) : fallback;
}

void applyOutputCap(boost::json::object& body, uint32_t cap, const BackendSpec& backend,
                    std::string_view& added) {
  if (!added.empty()) {
    body.erase(added);
    added = {};
  }
  bool named = false;
  for (std::string_view key : {"max_completion_tokens", "max_tokens"}) {
    boost::json::value* value = body.if_contains(key);
    if (value == nullptr || value->is_null()) {
      continue;
    }
    named = true;
    const int64_t* signed_value = value->if_int64();
    const uint64_t* unsigned_value = value->if_uint64();
    const bool over = (signed_value != nullptr && *signed_value > static_cast<int64_t>(cap)) ||
                      (unsigned_value != nullptr && *unsigned_value > cap);
    if (over) {
      *value = cap;
    }
  }
  if (named) {
    return;
  }
  const bool openai_proper =
      backend.kind == BackendKind::AzureOpenAi ||
      (backend.kind == BackendKind::OpenAi && backend.location == Location::External);
  added = openai_proper ? "max_completion_tokens" : "max_tokens";
  body[added] = cap;
}

bool isOutputEvent(std::string_view event) {
  // "reasoning_content" ends in "content": one search covers both.
  return hasNonEmptyString(event, "content\":\"") || hasNonEmptyString(event, "\"arguments\":\"");
}

bool OutputBound::clip(std::string& chunk) {
  size_t start = 0;
  while (start < chunk.size()) {
    size_t end = connectors::scanSseEvent(chunk, start).end;
    if (end == std::string::npos) {
      end = chunk.size();
    }
    const std::string_view event(chunk.data() + start, end - start);
    if (isOutputEvent(event)) {
      if (relayed_ == cap_) {
        std::string finish = finishEvent(event, cap_, usage_prompt_tokens_);
        chunk.resize(start);
        chunk += finish;
        return true;
      }
      ++relayed_;
    }
    start = end;
  }
  return false;
}

void accountUsage(RequestContext& ctx) {
  if (ctx.answered_by == nullptr || ctx.status / 100 != 2) {
    return;
  }
  connectors::TokenUsage& usage = ctx.usage;
  const bool cut_short = ctx.stream && ctx.stream_end != StreamEnd::Complete;
  if (usage.reported && !cut_short) {
    return;
  }
  if (usage.prompt_tokens == 0) {
    usage.prompt_tokens = ctx.prompt_estimate;
    ctx.usage_estimated = true;
  }
  uint64_t completion = 0;
  if (ctx.stream_end == StreamEnd::OutputCap) {
    completion = ctx.output_cap;
  } else if (ctx.stream) {
    completion = usage.streamed_events;
  } else if (ctx.admission) {
    completion = ctx.admission->tokens - std::min(ctx.admission->tokens, ctx.prompt_estimate);
  } else {
    completion = ctx.output_cap;
  }
  if (!usage.reported || completion > usage.completion_tokens) {
    usage.completion_tokens = std::max(usage.completion_tokens, completion);
    ctx.usage_estimated = true;
  }
}

}  // namespace sy::server
