// POST /v1/messages in the Anthropic Messages API wire format (JSON and SSE), tool_use replies
// (tool_calls.h) and POST /v1/messages/count_tokens.
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>

#include "examples/mock_llm/handlers.h"
#include "examples/mock_llm/synth.h"
#include "examples/mock_llm/tool_calls.h"

namespace sy::mock {
namespace {

void invalidRequest(Reply& reply, std::string_view message) {
  setAnthropicError(reply, 400, "invalid_request_error", message);
}

// Extended thinking: with `thinking: {type: "enabled"}` the answer starts with a thinking block
// whose signature the mock derives from its text; a thinking block sent back in an assistant turn
// must carry the signature of its text, as the API checks (a changed or unsigned block is a 400).
constexpr std::string_view kThinkingText = "The mock considers the request step by step.";

bool thinkingEnabled(const boost::json::object& request) {
  const boost::json::value* thinking = request.if_contains("thinking");
  const boost::json::object* setting = thinking != nullptr ? thinking->if_object() : nullptr;
  const boost::json::value* type = setting != nullptr ? setting->if_contains("type") : nullptr;
  return type != nullptr && type->is_string() && type->get_string() == "enabled";
}

// The first thinking block of an assistant turn whose signature does not match its text, as
// "messages.N.content.M" ("" when every one verifies).
std::string badThinkingBlock(const boost::json::array& messages) {
  for (size_t m = 0; m < messages.size(); ++m) {
    const boost::json::object* message = messages[m].if_object();
    const boost::json::value* content =
        message != nullptr ? message->if_contains("content") : nullptr;
    if (content == nullptr || !content->is_array()) {
      continue;
    }
    for (size_t b = 0; b < content->get_array().size(); ++b) {
      const boost::json::object* block = content->get_array()[b].if_object();
      const boost::json::value* type = block != nullptr ? block->if_contains("type") : nullptr;
      if (type == nullptr || !type->is_string() || type->get_string() != "thinking") {
        continue;
      }
      const boost::json::value* text = block->if_contains("thinking");
      const boost::json::value* signature = block->if_contains("signature");
      if (text == nullptr || !text->is_string() || signature == nullptr ||
          !signature->is_string() ||
          signature->get_string() != thinkingSignature(text->get_string())) {
        return "messages." + std::to_string(m) + ".content." + std::to_string(b);
      }
    }
  }
  return {};
}

struct MessagePlan {
  std::string id;
  bool thinking = false;  // the answer starts with a (signed) thinking block
  std::string_view echo;  // echo_chunk_bytes: the text is the last user text, in these pieces
  std::vector<std::string_view> echo_pieces;
  std::string model_json;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t cached_tokens = 0;
  std::string_view stop_reason;
};

void buildMessage(const MessagePlan& plan, const ServerState& state, Reply& reply) {
  std::string& b = reply.body;
  b += "{\"id\":\"";
  b += plan.id;
  b += "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":";
  b += plan.model_json;
  b += ",\"content\":[";
  if (plan.thinking) {
    b += "{\"type\":\"thinking\",\"thinking\":";
    appendJsonString(b, kThinkingText);
    b += ",\"signature\":";
    appendJsonString(b, thinkingSignature(kThinkingText));
    b += plan.output_tokens > 0 ? "}," : "}";
  }
  if (plan.output_tokens > 0) {
    b += "{\"type\":\"text\",\"text\":\"";
    if (!plan.echo_pieces.empty()) {
      appendEscaped(b, plan.echo);
    } else {
      appendReplyText(b, plan.output_tokens, state.options.name);
    }
    b += "\"}";
  }
  b += "],\"stop_reason\":\"";
  b += plan.stop_reason;
  b += "\",\"stop_sequence\":null,\"usage\":";
  appendAnthropicUsage(b, plan.input_tokens, plan.output_tokens, plan.cached_tokens);
  b += '}';
}

void buildMessageStream(const MessagePlan& plan, const ServerState& state, Reply& reply) {
  reply.kind = Reply::Kind::Stream;
  reply.content_type = "text/event-stream; charset=utf-8";

  std::string* ev = &reply.beginEvent();
  *ev += "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"";
  *ev += plan.id;
  *ev += "\",\"type\":\"message\",\"role\":\"assistant\",\"model\":";
  *ev += plan.model_json;
  *ev += ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":";
  appendAnthropicUsage(*ev, plan.input_tokens, 1, plan.cached_tokens);
  *ev += "}}\n\n";
  reply.commitEvent();
  const std::string index = plan.thinking ? "1" : "0";  // of the text block
  if (plan.thinking) {
    reply.beginEvent() +=
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
        "\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}\n\n";
    reply.commitEvent();
    ev = &reply.beginEvent();
    *ev +=
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
        "\"delta\":{\"type\":\"thinking_delta\",\"thinking\":";
    appendJsonString(*ev, kThinkingText);
    *ev += "}}\n\n";
    reply.commitEvent();
    ev = &reply.beginEvent();
    *ev +=
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
        "\"delta\":{\"type\":\"signature_delta\",\"signature\":";
    appendJsonString(*ev, thinkingSignature(kThinkingText));
    *ev += "}}\n\n";
    reply.commitEvent();
    reply.beginEvent() +=
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n";
    reply.commitEvent();
  }
  reply.beginEvent() +=
      "event: content_block_start\ndata: {\"type\":\"content_block_start\","
      "\"index\":" +
      index + ",\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n";
  reply.commitEvent();
  reply.beginEvent() += "event: ping\ndata: {\"type\": \"ping\"}\n\n";
  reply.commitEvent();
  reply.preamble_events = plan.thinking ? 7 : 3;

  for (int64_t i = 0; i < plan.output_tokens; ++i) {
    ev = &reply.beginEvent();
    *ev +=
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":" + index +
        ",\"delta\":{\"type\":\"text_delta\",\"text\":\"";
    if (!plan.echo_pieces.empty()) {
      appendEscaped(*ev, plan.echo_pieces[static_cast<size_t>(i)]);
    } else {
      appendToken(*ev, i, state.options.name);
    }
    *ev += "\"}}\n\n";
    reply.commitEvent();
  }
  reply.content_events = static_cast<uint32_t>(plan.output_tokens);

  reply.beginEvent() +=
      "event: content_block_stop\ndata: {\"type\":\"content_block_stop\","
      "\"index\":" +
      index + "}\n\n";
  reply.commitEvent();
  ev = &reply.beginEvent();
  *ev += "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"";
  *ev += plan.stop_reason;
  *ev += "\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":";
  appendInt(*ev, plan.output_tokens);
  *ev += "}}\n\n";
  reply.commitEvent();
  reply.beginEvent() += "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  reply.commitEvent();
  reply.finishStream();
}

// Counts the prompt text: every message plus the top-level `system` (string or text blocks),
// which counts as one more message.
int64_t inputTokens(const boost::json::object& obj, const boost::json::array& messages) {
  uint64_t bytes = 0;
  uint64_t count = messages.size();
  for (const boost::json::value& m : messages) {
    const boost::json::object* msg = m.if_object();
    if (msg == nullptr) {
      continue;
    }
    if (const boost::json::value* content = msg->if_contains("content")) {
      bytes += contentTextBytes(*content);
    }
  }
  if (const boost::json::value* system = obj.if_contains("system")) {
    bytes += contentTextBytes(*system);
    ++count;
  }
  return estimatePromptTokens(bytes, count);
}

struct MessagesRequest {
  const boost::json::string* model = nullptr;
  const boost::json::array* messages = nullptr;
  const boost::json::value* tools = nullptr;
  int64_t max_tokens = 0;
  bool stream = false;
};

// Validates a Messages API body as the API does; false (and a 400 in `reply`) if it would reject
// it. The messages mimic the API's ("max_tokens: Field required"). Only the fields the mock uses
// are checked: content blocks, tools, tool_choice, thinking, metadata, cache_control and sampling
// parameters are accepted in any shape. A `role: "system"` message is accepted too (lenient: the
// API itself rejects it); its text counts like any message's. count_tokens has no max_tokens.
bool parseMessagesRequest(const boost::json::object& obj, bool need_max_tokens,
                          MessagesRequest& out, Reply& reply) {
  const boost::json::value* model = obj.if_contains("model");
  if (model == nullptr || !model->is_string() || model->get_string().empty()) {
    invalidRequest(reply, "model: Field required");
    return false;
  }
  out.model = &model->get_string();
  if (need_max_tokens && obj.if_contains("max_tokens") == nullptr) {
    invalidRequest(reply, "max_tokens: Field required");
    return false;
  }
  if (!optionalPositiveInt(obj, "max_tokens", out.max_tokens) ||
      (need_max_tokens && out.max_tokens == 0)) {
    invalidRequest(reply, "max_tokens: Input should be an integer greater than or equal to 1");
    return false;
  }
  const boost::json::value* messages = obj.if_contains("messages");
  if (messages == nullptr || !messages->is_array()) {
    invalidRequest(reply, "messages: Field required");
    return false;
  }
  out.messages = &messages->get_array();
  if (out.messages->empty()) {
    invalidRequest(reply, "messages: at least one message is required");
    return false;
  }
  for (const boost::json::value& m : *out.messages) {
    const boost::json::object* msg = m.if_object();
    const boost::json::value* role = msg == nullptr ? nullptr : msg->if_contains("role");
    if (role == nullptr || !role->is_string() ||
        (role->get_string() != "user" && role->get_string() != "assistant" &&
         role->get_string() != "system")) {
      invalidRequest(reply, "messages: each message needs a role of 'user' or 'assistant'");
      return false;
    }
  }
  if (const boost::json::value* v = obj.if_contains("stream"); v != nullptr && !v->is_null()) {
    if (!v->is_bool()) {
      invalidRequest(reply, "stream: Input should be a valid boolean");
      return false;
    }
    out.stream = v->get_bool();
  }
  out.tools = obj.if_contains("tools");
  return true;
}

// Parses the body into `json` and validates it; false (and a 400 in `reply`) if it is rejected.
bool readMessagesRequest(const JsonBody& json, bool need_max_tokens, MessagesRequest& out,
                         Reply& reply) {
  if (!json.ok()) {
    invalidRequest(reply,
                   "There was an error parsing the body of your request: " + json.errorMessage());
    return false;
  }
  const boost::json::object* obj = json.value().if_object();
  if (obj == nullptr) {
    invalidRequest(reply, "body: Input should be an object");
    return false;
  }
  return parseMessagesRequest(*obj, need_max_tokens, out, reply);
}

}  // namespace

std::string thinkingSignature(std::string_view text) {
  uint64_t hash = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : text) {
    hash = (hash ^ c) * 1099511628211ULL;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string signature = "mocksig";
  for (int shift = 60; shift >= 0; shift -= 4) {
    signature += kHex[(hash >> shift) & 0xf];
  }
  return signature;
}

void handleMessages(const Request& request, ServerState& state, Reply& reply) {
  JsonBody json(request.body());
  MessagesRequest req;
  if (!readMessagesRequest(json, true, req, reply)) {
    return;
  }
  std::string joined;
  auto controls =
      effectiveControls(state.controls.forRequest(), request, lastUserText(*req.messages, joined));
  if (!controls) {
    return invalidRequest(reply, controls.error().message);
  }
  if (applyFailureControls(*controls, Provider::Anthropic, req.stream, reply)) {
    return;
  }
  if (std::string bad = badThinkingBlock(*req.messages); !bad.empty()) {
    return invalidRequest(reply, bad + ": Invalid `signature` in `thinking` block");
  }
  addRequestId("request-id", state, reply);
  const std::string id = "msg_" + state.nextId();
  std::string model_json;
  appendJsonString(model_json, std::string_view(req.model->data(), req.model->size()));
  const int64_t input_tokens = inputTokens(json.value().get_object(), *req.messages);
  if (controls->tool_calls > 0 && !endsWithToolResult(*req.messages, Provider::Anthropic)) {
    const auto calls = planToolCalls(req.tools, Provider::Anthropic, controls->tool_calls);
    if (!calls.empty()) {
      ToolReplyMeta meta;
      meta.id = id;
      meta.model_json = model_json;
      meta.input_tokens = input_tokens;
      meta.cached_tokens = controls->cached_tokens;
      return buildAnthropicToolUse(meta, calls, req.stream, reply);
    }
  }
  MessagePlan plan;
  plan.id = id;
  plan.thinking = thinkingEnabled(json.value().get_object());
  plan.model_json = std::move(model_json);
  plan.input_tokens = input_tokens;
  plan.cached_tokens = controls->cached_tokens;
  plan.output_tokens = controls->reply_tokens;
  plan.stop_reason = "end_turn";
  if (controls->echo_chunk_bytes > 0) {
    plan.echo = lastUserText(*req.messages, joined);
    plan.echo_pieces = splitUtf8(plan.echo, static_cast<size_t>(controls->echo_chunk_bytes));
    plan.output_tokens = static_cast<int64_t>(plan.echo_pieces.size());
  }
  if (plan.echo_pieces.empty() && controls->ignore_max_tokens == 0 &&
      req.max_tokens < plan.output_tokens) {
    plan.output_tokens = req.max_tokens;
    plan.stop_reason = "max_tokens";
  }
  if (req.stream) {
    buildMessageStream(plan, state, reply);
  } else {
    buildMessage(plan, state, reply);
  }
}

void handleCountTokens(const Request& request, ServerState& state, Reply& reply) {
  JsonBody json(request.body());
  MessagesRequest req;
  if (!readMessagesRequest(json, false, req, reply)) {
    return;
  }
  auto controls = effectiveControls(state.controls.forRequest(), request, {});
  if (!controls) {
    return invalidRequest(reply, controls.error().message);
  }
  if (applyFailureControls(*controls, Provider::Anthropic, false, reply)) {
    return;
  }
  addRequestId("request-id", state, reply);
  reply.body = "{\"input_tokens\":";
  appendInt(reply.body, inputTokens(json.value().get_object(), *req.messages));
  reply.body += '}';
}

}  // namespace sy::mock
