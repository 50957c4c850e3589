#include "connectors/anthropic_answer.h"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <optional>

#include "connectors/sse.h"
#include "core/json_text.h"

namespace sy::connectors {
namespace {

namespace json = boost::json;

std::optional<json::value> parseJson(std::string_view text) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec) {
    return std::nullopt;
  }
  return value;
}

std::string_view stringOr(const json::object& object, std::string_view key,
                          std::string_view fallback = {}) {
  const json::value* v = object.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : fallback;
}

uint64_t countOf(const json::object& object, std::string_view key) {
  const json::value* v = object.if_contains(key);
  if (v == nullptr) {
    return 0;
  }
  if (v->is_uint64()) {
    return v->get_uint64();
  }
  return v->is_int64() && v->get_int64() > 0 ? static_cast<uint64_t>(v->get_int64()) : 0;
}

// "chatcmpl-abc" -> "msg_abc": Anthropic clients expect message ids of that shape.
std::string messageId(std::string_view id) {
  if (id.starts_with("chatcmpl-")) {
    id.remove_prefix(9);
  }
  return "msg_" + std::string(id.empty() ? "switchyard" : id);
}

// OpenAI usage -> Anthropic usage: input_tokens excludes the cache reads, reported apart.
json::object anthropicUsage(uint64_t prompt, uint64_t completion, uint64_t cached) {
  return json::object{{"input_tokens", prompt > cached ? prompt - cached : 0},
                      {"output_tokens", completion},
                      {"cache_creation_input_tokens", 0},
                      {"cache_read_input_tokens", cached}};
}

json::object usageOf(const json::object& usage) {
  uint64_t cached = 0;
  if (const json::value* details = usage.if_contains("prompt_tokens_details");
      details != nullptr && details->is_object()) {
    cached = countOf(details->get_object(), "cached_tokens");
  }
  return anthropicUsage(countOf(usage, "prompt_tokens"), countOf(usage, "completion_tokens"),
                        cached);
}

// A tool call's arguments (a JSON text) as the tool_use block's input object; arguments that are
// not a JSON object become {"arguments": TEXT}, so nothing the model wrote is lost.
json::value toolInput(std::string_view arguments) {
  if (arguments.empty()) {
    return json::object{};
  }
  auto parsed = parseJson(arguments);
  if (parsed && parsed->is_object()) {
    return std::move(*parsed);
  }
  return json::object{{"arguments", arguments}};
}

class AnthropicBodyEncoder final : public AnswerEncoder {
 public:
  AnthropicBodyEncoder(unsigned status, std::string_view model) : status_(status), model_(model) {}

  Status encode(std::string& chunk, bool end) override {
    body_.append(chunk);
    chunk.clear();
    if (end) {
      chunk = status_ / 100 == 2 ? chatCompletionToMessage(body_, model_)
                                 : errorToAnthropic(body_, status_);
    }
    return {};
  }

 private:
  unsigned status_;
  std::string model_;
  std::string body_;  // bounded by the gateway's limit on non-streamed upstream bodies
};

class AnthropicStreamEncoder final : public AnswerEncoder {
 public:
  explicit AnthropicStreamEncoder(std::string_view model) : model_(model) {}

  Status encode(std::string& chunk, bool end) override {
    std::string out;
    for (const SseEvent& event : parser_.feed(chunk)) {
      if (!finished_) {
        onEvent(event.data, out);
      }
    }
    if (end && !finished_) {
      finish(out);
    }
    chunk.swap(out);
    return {};
  }

 private:
  enum class Block { None, Text, Thinking, Tool };

  void onEvent(std::string_view data, std::string& out) {
    if (data == "[DONE]") {
      finish(out);
      return;
    }
    // One arena per event: a typical chunk parses without a heap allocation.
    unsigned char arena[4096];
    json::monotonic_resource memory(arena, sizeof arena);
    boost::system::error_code ec;
    const json::value parsed = json::parse(data, ec, &memory);
    if (ec || !parsed.is_object()) {
      return;  // not a chunk (the canonical stream has none such)
    }
    const json::object& event = parsed.get_object();
    if (const json::value* error = event.if_contains("error"); error != nullptr) {
      std::string message = "The upstream stream failed.";
      if (error->is_object()) {
        message = stringOr(error->get_object(), "message", message);
      }
      closeBlock(out);
      out += streamErrorEvent(
          Surface::Anthropic,
          makeError(ErrorCode::UpstreamError, ErrorSource::Upstream, message).error());
      finished_ = true;
      return;
    }
    if (!started_) {
      start(stringOr(event, "id"), out);
    }
    if (const json::value* usage = event.if_contains("usage"); usage && usage->is_object()) {
      usage_ = usageOf(usage->get_object());
    }
    const json::value* choices = event.if_contains("choices");
    if (choices == nullptr || !choices->is_array() || choices->get_array().empty() ||
        !choices->get_array()[0].is_object()) {
      return;
    }
    const json::object& choice = choices->get_array()[0].get_object();
    if (const json::value* delta = choice.if_contains("delta"); delta && delta->is_object()) {
      onDelta(delta->get_object(), out);
    }
    if (std::string_view reason = stringOr(choice, "finish_reason"); !reason.empty()) {
      stop_reason_ = anthropicStopReason(reason);
    }
  }

  void onDelta(const json::object& delta, std::string& out) {
    if (std::string_view thinking = stringOr(delta, "reasoning_content"); !thinking.empty()) {
      ensureBlock(Block::Thinking, out, json::object{{"type", "thinking"}, {"thinking", ""}});
      blockDelta("thinking_delta", "thinking", thinking, out);
    }
    // The upstream's signature of the thinking block (kept only for Anthropic clients, which
    // send the block back on the next turn of a tool loop).
    if (std::string_view signature = stringOr(delta, "reasoning_signature"); !signature.empty()) {
      ensureBlock(Block::Thinking, out, json::object{{"type", "thinking"}, {"thinking", ""}});
      blockDelta("signature_delta", "signature", signature, out);
    }
    if (std::string_view text = stringOr(delta, "content"); !text.empty()) {
      ensureBlock(Block::Text, out, json::object{{"type", "text"}, {"text", ""}});
      blockDelta("text_delta", "text", text, out);
    }
    const json::value* calls = delta.if_contains("tool_calls");
    if (calls == nullptr || !calls->is_array()) {
      return;
    }
    for (const json::value& item : calls->get_array()) {
      if (!item.is_object()) {
        continue;
      }
      const json::object& call = item.get_object();
      const int64_t index =
          call.contains("index") && call.at("index").is_int64() ? call.at("index").get_int64() : 0;
      const json::object* function = call.contains("function") && call.at("function").is_object()
                                         ? &call.at("function").get_object()
                                         : nullptr;
      if (block_ != Block::Tool || index != tool_index_) {
        closeBlock(out);
        std::string id(stringOr(call, "id"));
        if (id.empty()) {
          id = "toolu_" + std::to_string(block_index_ + 1);
        }
        openBlock(Block::Tool,
                  json::object{{"type", "tool_use"},
                               {"id", id},
                               {"name", function ? stringOr(*function, "name") : ""},
                               {"input", json::object{}}},
                  out);
        tool_index_ = index;
      }
      if (std::string_view args = function ? stringOr(*function, "arguments") : ""; !args.empty()) {
        blockDelta("input_json_delta", "partial_json", args, out);
      }
    }
  }

  void emit(std::string_view name, const json::object& data, std::string& out) {
    out += "event: ";
    out += name;
    out += "\ndata: ";
    out += json::serialize(data);
    out += "\n\n";
  }

  void start(std::string_view id, std::string& out) {
    started_ = true;
    emit("message_start",
         json::object{{"type", "message_start"},
                      {"message",
                       {{"id", messageId(id)},
                        {"type", "message"},
                        {"role", "assistant"},
                        {"model", model_},
                        {"content", json::array{}},
                        {"stop_reason", nullptr},
                        {"stop_sequence", nullptr},
                        {"usage", anthropicUsage(0, 0, 0)}}}},
         out);
    emit("ping", json::object{{"type", "ping"}}, out);
  }

  void ensureBlock(Block kind, std::string& out, json::object block) {
    if (block_ != kind) {
      closeBlock(out);
      openBlock(kind, std::move(block), out);
    }
  }

  void openBlock(Block kind, json::object block, std::string& out) {
    block_ = kind;
    ++block_index_;
    emit("content_block_start",
         json::object{{"type", "content_block_start"},
                      {"index", block_index_},
                      {"content_block", std::move(block)}},
         out);
  }

  // The per-token event, written directly (no JSON values built): what streams pay per event.
  void blockDelta(std::string_view type, std::string_view field, std::string_view value,
                  std::string& out) {
    out += "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":";
    out += std::to_string(block_index_);
    out += ",\"delta\":{\"type\":\"";
    out += type;
    out += "\",\"";
    out += field;
    out += "\":";
    appendJsonString(out, value);
    out += "}}\n\n";
  }

  void closeBlock(std::string& out) {
    if (block_ == Block::None) {
      return;
    }
    emit("content_block_stop",
         json::object{{"type", "content_block_stop"}, {"index", block_index_}}, out);
    block_ = Block::None;
  }

  void finish(std::string& out) {
    if (!started_) {
      start("", out);
    }
    closeBlock(out);
    emit("message_delta",
         json::object{{"type", "message_delta"},
                      {"delta", {{"stop_reason", stop_reason_}, {"stop_sequence", nullptr}}},
                      {"usage", usage_}},
         out);
    emit("message_stop", json::object{{"type", "message_stop"}}, out);
    finished_ = true;
  }

  SseParser parser_{1 << 20};
  std::string model_;
  bool started_ = false;
  bool finished_ = false;
  Block block_ = Block::None;
  int64_t block_index_ = -1;
  int64_t tool_index_ = -1;  // the OpenAI tool_calls index of the open tool_use block
  std::string stop_reason_ = "end_turn";
  json::object usage_ = anthropicUsage(0, 0, 0);
};

}  // namespace

std::string_view anthropicStopReason(std::string_view finish_reason) {
  if (finish_reason == "length") {
    return "max_tokens";
  }
  if (finish_reason == "tool_calls" || finish_reason == "function_call") {
    return "tool_use";
  }
  if (finish_reason == "content_filter") {
    return "refusal";
  }
  return "end_turn";
}

std::string chatCompletionToMessage(std::string_view completion, std::string_view model) {
  auto parsed = parseJson(completion);
  const json::object* body = parsed ? parsed->if_object() : nullptr;
  const json::value* choices = body != nullptr ? body->if_contains("choices") : nullptr;
  if (choices == nullptr || !choices->is_array() || choices->get_array().empty() ||
      !choices->get_array()[0].is_object()) {
    return anthropicErrorBody("The upstream answer could not be read.", 502);
  }
  const json::object& choice = choices->get_array()[0].get_object();
  json::array content;
  if (const json::value* m = choice.if_contains("message"); m != nullptr && m->is_object()) {
    const json::object& message = m->get_object();
    if (std::string_view thinking = stringOr(message, "reasoning_content"); !thinking.empty()) {
      content.push_back(json::object{{"type", "thinking"},
                                     {"thinking", thinking},
                                     {"signature", stringOr(message, "reasoning_signature")}});
    }
    if (std::string_view text = stringOr(message, "content"); !text.empty()) {
      content.push_back(json::object{{"type", "text"}, {"text", text}});
    }
    if (const json::value* calls = message.if_contains("tool_calls"); calls && calls->is_array()) {
      for (const json::value& item : calls->get_array()) {
        const json::object* call = item.if_object();
        const json::value* f = call != nullptr ? call->if_contains("function") : nullptr;
        if (f == nullptr || !f->is_object()) {
          continue;
        }
        content.push_back(
            json::object{{"type", "tool_use"},
                         {"id", stringOr(*call, "id")},
                         {"name", stringOr(f->get_object(), "name")},
                         {"input", toolInput(stringOr(f->get_object(), "arguments"))}});
      }
    }
  }
  json::object usage = anthropicUsage(0, 0, 0);
  if (const json::value* u = body->if_contains("usage"); u != nullptr && u->is_object()) {
    usage = usageOf(u->get_object());
  }
  json::object message{{"id", messageId(stringOr(*body, "id"))},
                       {"type", "message"},
                       {"role", "assistant"},
                       {"model", model},
                       {"content", std::move(content)},
                       {"stop_reason", anthropicStopReason(stringOr(choice, "finish_reason"))},
                       {"stop_sequence", nullptr},
                       {"usage", std::move(usage)}};
  return json::serialize(message);
}

std::string errorToAnthropic(std::string_view body, unsigned status) {
  std::string message = "The upstream answered HTTP " + std::to_string(status) + ".";
  if (auto parsed = parseJson(body); parsed && parsed->is_object()) {
    const json::value* error = parsed->get_object().if_contains("error");
    if (error != nullptr && error->is_object()) {
      message = stringOr(error->get_object(), "message", message);
    }
  }
  return anthropicErrorBody(message, status);
}

std::unique_ptr<AnswerEncoder> newAnthropicEncoder(unsigned status, bool event_stream,
                                                   std::string_view model) {
  if (event_stream && status / 100 == 2) {
    return std::make_unique<AnthropicStreamEncoder>(model);
  }
  return std::make_unique<AnthropicBodyEncoder>(status, model);
}

}  // namespace sy::connectors
