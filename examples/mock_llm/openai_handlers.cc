// POST /v1/chat/completions, POST /v1/embeddings, GET /v1/models in the OpenAI wire format.
#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <charconv>
#include <ctime>
#include <vector>

#include "examples/mock_llm/handlers.h"
#include "examples/mock_llm/synth.h"
#include "examples/mock_llm/tool_calls.h"

namespace sy::mock {
namespace {

void badRequest(Reply& reply, std::string_view message, std::string_view param = {},
                std::string_view code = {}) {
  setOpenAiError(reply, 400, message, "invalid_request_error", param, code);
}

void missingParameter(Reply& reply, std::string_view name) {
  badRequest(reply, "Missing required parameter: '" + std::string(name) + "'.", name,
             "missing_required_parameter");
}

struct ChatPlan {
  std::string id;
  int64_t created = 0;
  std::string model_json;  // the requested model, as a JSON string literal
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;
  std::string_view finish_reason;
  bool include_usage = false;
  std::string_view echo;  // echo_chunk_bytes: the reply is this text, in chunks of echo_chunk
  size_t echo_chunk = 0;
};

void appendUsage(std::string& out, const ChatPlan& plan) {
  appendOpenAiUsage(out, plan.prompt_tokens, plan.completion_tokens, plan.cached_tokens);
}

void buildChatCompletion(const ChatPlan& plan, const ServerState& state, Reply& reply) {
  std::string& b = reply.body;
  b += "{\"id\":\"";
  b += plan.id;
  b += "\",\"object\":\"chat.completion\",\"created\":";
  appendInt(b, plan.created);
  b += ",\"model\":";
  b += plan.model_json;
  b += ",\"system_fingerprint\":\"";
  b += state.fingerprint;
  b += "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"";
  if (plan.echo_chunk > 0) {
    appendEscaped(b, plan.echo);
  } else {
    appendReplyText(b, plan.completion_tokens, state.options.name);
  }
  b += "\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"";
  b += plan.finish_reason;
  b += "\"}],\"usage\":";
  appendUsage(b, plan);
  b += '}';
}

void buildChatStream(const ChatPlan& plan, const ServerState& state, Reply& reply) {
  reply.kind = Reply::Kind::Stream;
  reply.content_type = "text/event-stream; charset=utf-8";
  std::string prefix = "data: {\"id\":\"";
  prefix += plan.id;
  prefix += "\",\"object\":\"chat.completion.chunk\",\"created\":";
  appendInt(prefix, plan.created);
  prefix += ",\"model\":";
  prefix += plan.model_json;
  prefix += ",\"system_fingerprint\":\"";
  prefix += state.fingerprint;
  prefix += "\",\"choices\":[";
  const std::string_view suffix = plan.include_usage ? "],\"usage\":null}\n\n" : "]}\n\n";

  std::string* ev = &reply.beginEvent();
  *ev += prefix;
  *ev +=
      "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},"
      "\"logprobs\":null,\"finish_reason\":null}";
  *ev += suffix;
  reply.commitEvent();
  reply.preamble_events = 1;

  const std::vector<std::string_view> pieces =
      plan.echo_chunk > 0 ? splitUtf8(plan.echo, plan.echo_chunk) : std::vector<std::string_view>{};
  for (int64_t i = 0; i < plan.completion_tokens; ++i) {
    ev = &reply.beginEvent();
    *ev += prefix;
    *ev += "{\"index\":0,\"delta\":{\"content\":\"";
    if (plan.echo_chunk > 0) {
      appendEscaped(*ev, pieces[static_cast<size_t>(i)]);
    } else {
      appendToken(*ev, i, state.options.name);
    }
    *ev += "\"},\"logprobs\":null,\"finish_reason\":null}";
    *ev += suffix;
    reply.commitEvent();
  }
  reply.content_events = static_cast<uint32_t>(plan.completion_tokens);

  ev = &reply.beginEvent();
  *ev += prefix;
  *ev += "{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"";
  *ev += plan.finish_reason;
  *ev += "\"}";
  *ev += suffix;
  reply.commitEvent();
  if (plan.include_usage) {
    ev = &reply.beginEvent();
    *ev += prefix;
    *ev += "],\"usage\":";
    appendUsage(*ev, plan);
    *ev += "}\n\n";
    reply.commitEvent();
  }
  reply.beginEvent() += "data: [DONE]\n\n";
  reply.commitEvent();
  reply.finishStream();
}

// Reads `stream` and `stream_options.include_usage`; false (and a 400 reply) on a wrong type.
bool readStreamFlags(const boost::json::object& obj, bool& stream, bool& include_usage,
                     Reply& reply) {
  stream = false;
  include_usage = false;
  if (const boost::json::value* v = obj.if_contains("stream"); v != nullptr && !v->is_null()) {
    if (!v->is_bool()) {
      badRequest(reply, "Invalid type for 'stream': expected a boolean.", "stream", "invalid_type");
      return false;
    }
    stream = v->get_bool();
  }
  const boost::json::value* opts = obj.if_contains("stream_options");
  if (opts != nullptr && opts->is_object()) {
    const boost::json::value* usage = opts->get_object().if_contains("include_usage");
    include_usage = usage != nullptr && usage->is_bool() && usage->get_bool();
  }
  return true;
}

struct ChatRequest {
  const boost::json::string* model = nullptr;
  const boost::json::array* messages = nullptr;
  const boost::json::value* tools = nullptr;
  uint64_t text_bytes = 0;
  bool stream = false;
  bool include_usage = false;
  int64_t max_tokens = 0;  // 0 = no limit
};

// Validates a chat-completions body as the API does; false (and a 400 in `reply`) if it would
// reject it.
bool parseChatRequest(const boost::json::value& body, ChatRequest& out, Reply& reply) {
  const boost::json::object* obj = body.if_object();
  if (obj == nullptr) {
    badRequest(reply, "Invalid request body: expected a JSON object.");
    return false;
  }
  const boost::json::value* model = obj->if_contains("model");
  if (model == nullptr || !model->is_string() || model->get_string().empty()) {
    missingParameter(reply, "model");
    return false;
  }
  out.model = &model->get_string();
  const boost::json::value* messages = obj->if_contains("messages");
  if (messages == nullptr || !messages->is_array()) {
    missingParameter(reply, "messages");
    return false;
  }
  out.messages = &messages->get_array();
  if (out.messages->empty()) {
    badRequest(reply,
               "Invalid 'messages': empty array. Expected an array with minimum length 1, "
               "but got an empty array instead.",
               "messages", "empty_array");
    return false;
  }
  for (const boost::json::value& m : *out.messages) {
    const boost::json::object* msg = m.if_object();
    if (msg == nullptr || msg->if_contains("role") == nullptr) {
      badRequest(reply, "Invalid 'messages': each message must be an object with a 'role'.",
                 "messages", "invalid_type");
      return false;
    }
    if (const boost::json::value* content = msg->if_contains("content")) {
      out.text_bytes += contentTextBytes(*content);
    }
  }
  out.tools = obj->if_contains("tools");
  if (!readStreamFlags(*obj, out.stream, out.include_usage, reply)) {
    return false;
  }
  if (!optionalPositiveInt(*obj, "max_completion_tokens", out.max_tokens) ||
      (out.max_tokens == 0 && !optionalPositiveInt(*obj, "max_tokens", out.max_tokens))) {
    badRequest(reply, "Invalid 'max_tokens': expected an integer >= 1.", "max_tokens",
               "integer_below_min_value");
    return false;
  }
  return true;
}

}  // namespace

void handleChatCompletions(const Request& request, ServerState& state, Reply& reply) {
  JsonBody json(request.body());
  if (!json.ok()) {
    return badRequest(
        reply, "We could not parse the JSON body of your request. (" + json.errorMessage() + ")");
  }
  ChatRequest chat;
  if (!parseChatRequest(json.value(), chat, reply)) {
    return;
  }
  std::string joined;
  const std::string_view user_text = lastUserText(*chat.messages, joined);
  auto controls = effectiveControls(state.controls.forRequest(), request, user_text);
  if (!controls) {
    return badRequest(reply, controls.error().message, {}, controls.error().code_id);
  }
  if (applyFailureControls(*controls, Provider::OpenAi, chat.stream, reply)) {
    return;
  }
  addRequestId("x-request-id", state, reply);
  ChatPlan plan;
  plan.id = "chatcmpl-" + state.nextId();
  plan.created = static_cast<int64_t>(std::time(nullptr));
  appendJsonString(plan.model_json, std::string_view(chat.model->data(), chat.model->size()));
  plan.prompt_tokens = estimatePromptTokens(chat.text_bytes, chat.messages->size());
  plan.cached_tokens = controls->cached_tokens;
  if (controls->tool_calls > 0 && !endsWithToolResult(*chat.messages, Provider::OpenAi)) {
    const auto calls = planToolCalls(chat.tools, Provider::OpenAi, controls->tool_calls);
    if (!calls.empty()) {
      const ToolReplyMeta meta{.id = plan.id,
                               .created = plan.created,
                               .model_json = plan.model_json,
                               .fingerprint = state.fingerprint,
                               .input_tokens = plan.prompt_tokens,
                               .cached_tokens = plan.cached_tokens,
                               .include_usage = chat.include_usage};
      return buildOpenAiToolCalls(meta, calls, chat.stream, reply);
    }
  }
  plan.completion_tokens = controls->reply_tokens;
  plan.finish_reason = "stop";
  plan.include_usage = chat.include_usage;
  if (controls->echo_chunk_bytes > 0) {
    plan.echo = user_text;
    plan.echo_chunk = static_cast<size_t>(controls->echo_chunk_bytes);
    plan.completion_tokens = static_cast<int64_t>(splitUtf8(plan.echo, plan.echo_chunk).size());
  }
  if (controls->grade > 0) {  // a difficulty judge's one-word answer
    plan.echo = controls->grade == 1 ? "routine" : "complex";
    plan.echo_chunk = plan.echo.size();
    plan.completion_tokens = 1;
  }
  if (plan.echo_chunk == 0 && controls->ignore_max_tokens == 0 && chat.max_tokens > 0 &&
      chat.max_tokens < plan.completion_tokens) {
    plan.completion_tokens = chat.max_tokens;
    plan.finish_reason = "length";
  }
  if (chat.stream) {
    buildChatStream(plan, state, reply);
  } else {
    buildChatCompletion(plan, state, reply);
  }
}

void handleModels(const Request& request, ServerState& state, Reply& reply) {
  auto controls = effectiveControls(state.controls.forRequest(), request, {});
  if (!controls) {
    return badRequest(reply, controls.error().message, {}, controls.error().code_id);
  }
  if (applyFailureControls(*controls, Provider::OpenAi, false, reply)) {
    return;
  }
  addRequestId("x-request-id", state, reply);
  reply.body = state.models_body;
}

}  // namespace sy::mock
