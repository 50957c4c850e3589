// Response side of the Anthropic connector: a Messages answer (JSON or event stream) or error
// body -> its OpenAI chat-completions equivalent. `thinking` becomes `reasoning_content` (the
// field DeepSeek and vLLM use); redacted thinking is not relayed, and signatures only for a client
// that speaks Anthropic (as `reasoning_signature`, which its answer encoder turns back).
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <map>
#include <optional>

#include "connectors/anthropic.h"
#include "connectors/buffered_translator.h"
#include "connectors/sse.h"

namespace sy::connectors {
namespace {

namespace json = boost::json;
using answer::objectAt;
using answer::stringAt;

int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Anthropic's counts. Its input_tokens leaves out the cached prompt: the prompt is the sum.
struct Counts {
  uint64_t input = 0, cache_read = 0, cache_creation = 0, output = 0;
  bool reported = false;

  // Reads the counts `usage` has (message_delta repeats only some of them).
  void read(const json::object* usage) {
    if (usage == nullptr) {
      return;
    }
    reported = true;
    const auto take = [usage](std::string_view key, uint64_t& out) {
      const json::value* value = usage->if_contains(key);
      if (value != nullptr && value->is_uint64()) {
        out = value->get_uint64();
      } else if (value != nullptr && value->is_int64() && value->get_int64() >= 0) {
        out = static_cast<uint64_t>(value->get_int64());
      }
    };
    take("input_tokens", input);
    take("cache_read_input_tokens", cache_read);
    take("cache_creation_input_tokens", cache_creation);
    take("output_tokens", output);
  }
  uint64_t prompt() const { return input + cache_read + cache_creation; }
  TokenUsage usage() const {
    TokenUsage out{prompt(), output, reported};
    out.cached_prompt_tokens = cache_read;
    return out;
  }
  json::object openAi() const {
    return {{"prompt_tokens", prompt()},
            {"completion_tokens", output},
            {"total_tokens", prompt() + output},
            {"prompt_tokens_details", json::object{{"cached_tokens", cache_read}}}};
  }
};

// Non-streamed bodies (answers and errors) are buffered whole and translated at the end.
class BufferedTranslator : public answer::BufferedTranslator<Counts> {
 public:
  BufferedTranslator()
      : answer::BufferedTranslator<Counts>(kMaxAnthropicBody, "the anthropic backend") {}
};

json::value finishReason(std::string_view stop_reason) {
  if (stop_reason.empty()) {
    return nullptr;
  }
  if (stop_reason == "max_tokens" || stop_reason == "model_context_window_exceeded") {
    return "length";
  }
  if (stop_reason == "tool_use") {
    return "tool_calls";
  }
  return stop_reason == "refusal" ? "content_filter" : "stop";  // end_turn, stop_sequence, ...
}

// The HTTP status an Anthropic error type stands for (529 overloaded reads as a 503).
unsigned statusOf(std::string_view type) {
  if (type == "invalid_request_error") {
    return 400;
  }
  if (type == "authentication_error") {
    return 401;
  }
  if (type == "permission_error") {
    return 403;
  }
  if (type == "not_found_error") {
    return 404;
  }
  if (type == "request_too_large") {
    return 413;
  }
  if (type == "rate_limit_error") {
    return 429;
  }
  return type == "overloaded_error" ? 503 : 500;
}

// {"type":"error","error":{"type","message"}} -> {"error":{"message","type","param","code"}},
// `code` being Anthropic's error type.
std::string openAiErrorFrom(const json::object* error, unsigned status) {
  const std::string_view type = stringAt(error, "type");
  std::string message(stringAt(error, "message"));
  if (message.empty()) {
    message = "the anthropic backend answered HTTP " + std::to_string(status);
  }
  return openAiErrorBody(message, status, type.empty() ? "upstream_error" : type);
}

class MessageTranslator final : public BufferedTranslator {
 public:
  explicit MessageTranslator(bool signatures) : signatures_(signatures) {}

 private:
  Status translate(const json::object* body, std::string& out) override {
    const json::value* blocks = body == nullptr ? nullptr : body->if_contains("content");
    if (blocks == nullptr || !blocks->is_array()) {
      return makeError(ErrorCode::UpstreamError, ErrorSource::Upstream,
                       "the anthropic backend answered with an unreadable message",
                       "upstream_error");
    }
    std::string text, reasoning;
    std::string_view signature;
    size_t thinking_blocks = 0;
    bool has_text = false;
    json::array tool_calls;
    for (const json::value& item : blocks->get_array()) {
      const json::object* block = item.if_object();
      const std::string_view type = stringAt(block, "type");
      if (type == "text") {
        text += stringAt(block, "text");
        has_text = true;
      } else if (type == "thinking") {
        reasoning += stringAt(block, "thinking");
        signature = stringAt(block, "signature");
        ++thinking_blocks;
      } else if (type == "tool_use") {
        const json::value* input = block->if_contains("input");
        json::object function{{"name", stringAt(block, "name")},
                              {"arguments", input == nullptr ? "{}" : json::serialize(*input)}};
        tool_calls.push_back(json::object{
            {"id", stringAt(block, "id")}, {"type", "function"}, {"function", function}});
      }
    }
    json::object message{{"role", "assistant"}};
    message["content"] = has_text || tool_calls.empty() ? json::value(text) : json::value(nullptr);
    if (!reasoning.empty()) {
      message["reasoning_content"] = reasoning;
    }
    // One signature covers one block: the thinking of several blocks is merged, unsigned.
    if (signatures_ && thinking_blocks == 1 && !signature.empty()) {
      message["reasoning_signature"] = signature;
    }
    if (!tool_calls.empty()) {
      message["tool_calls"] = std::move(tool_calls);
    }
    counts_.read(objectAt(body, "usage"));
    json::object choice{{"index", 0},
                        {"message", std::move(message)},
                        {"logprobs", nullptr},
                        {"finish_reason", finishReason(stringAt(body, "stop_reason"))}};
    const json::object answer{{"id", stringAt(body, "id")},
                              {"object", "chat.completion"},
                              {"created", nowSeconds()},
                              {"model", stringAt(body, "model")},
                              {"choices", json::array{std::move(choice)}},
                              {"usage", counts_.openAi()}};
    out = json::serialize(answer);
    return {};
  }
  const bool signatures_;
};

class ErrorTranslator final : public BufferedTranslator {
 public:
  explicit ErrorTranslator(unsigned status) : status_(status) {}

 private:
  Status translate(const json::object* body, std::string& out) override {
    out = openAiErrorFrom(objectAt(body, "error"), status_);
    return {};
  }
  const unsigned status_;
};

// Anthropic's event stream -> chat.completion.chunk events. The SSE parser keeps an unfinished
// event until its blank line, so only whole events are ever translated (and emitted).
class StreamTranslator final : public ResponseTranslator {
 public:
  static constexpr size_t kMaxEventBytes = 1 << 20;

  StreamTranslator(bool relay_usage, bool signatures)
      : relay_usage_(relay_usage), signatures_(signatures) {}

  Status onChunk(std::string& chunk, bool end) override {
    std::string out;
    if (!done_) {
      for (const SseEvent& event : parser_.feed(chunk)) {
        onEvent(event, out);
        if (done_) {
          break;  // after an error or message_stop nothing more is relayed
        }
      }
      if (!done_ && parser_.droppedEvents() > 0) {  // its text would be missing silently
        endWithError("the anthropic backend sent an event larger than 1 MiB", 502, out);
      }
    }
    if (end && !done_) {
      endWithError("the anthropic backend's stream ended before message_stop", 502, out);
    }
    chunk.swap(out);
    return {};
  }
  TokenUsage usage() const override {
    TokenUsage usage = counts_.usage();
    usage.streamed_events = streamed_events_;
    return usage;
  }

 private:
  void onEvent(const SseEvent& event, std::string& out) {
    boost::system::error_code ec;
    const json::value parsed = json::parse(event.data, ec);
    const json::object* data = ec ? nullptr : parsed.if_object();
    if (data == nullptr) {
      endWithError("the anthropic backend sent an unreadable event", 502, out);
      return;
    }
    const std::string_view type = stringAt(data, "type");
    if (type == "message_start") {
      const json::object* message = objectAt(data, "message");
      id_ = stringAt(message, "id");
      model_ = stringAt(message, "model");
      counts_.read(objectAt(message, "usage"));
      emit(json::object{{"role", "assistant"}, {"content", ""}}, nullptr, out);
    } else if (type == "content_block_start") {
      onBlockStart(*data, out);
    } else if (type == "content_block_delta") {
      onDelta(*data, out);
    } else if (type == "message_delta") {
      counts_.read(objectAt(data, "usage"));
      emit(json::object{}, finishReason(stringAt(objectAt(data, "delta"), "stop_reason")), out);
    } else if (type == "message_stop") {
      if (relay_usage_) {
        json::object chunk = head();
        chunk["choices"] = json::array{};
        chunk["usage"] = counts_.openAi();
        append(chunk, out);
      }
      out += "data: [DONE]\n\n";
      done_ = true;
    } else if (type == "error") {
      const json::object* error = objectAt(data, "error");
      out += "data: " + openAiErrorFrom(error, statusOf(stringAt(error, "type"))) + "\n\n";
      done_ = true;
    }
    // ping, content_block_stop and event types added later carry nothing to relay.
  }

  void onBlockStart(const json::object& data, std::string& out) {
    const json::object* block = objectAt(&data, "content_block");
    const std::string_view type = stringAt(block, "type");
    const std::optional<uint64_t> index = blockIndex(data);
    if (type == "tool_use" && index) {
      const size_t tool = tool_of_block_.size();
      tool_of_block_[*index] = tool;
      json::object function{{"name", stringAt(block, "name")}, {"arguments", ""}};
      emitToolCall(json::object{{"index", tool},
                                {"id", stringAt(block, "id")},
                                {"type", "function"},
                                {"function", std::move(function)}},
                   out);
    } else if (type == "text" && !stringAt(block, "text").empty()) {
      emit(json::object{{"content", stringAt(block, "text")}}, nullptr, out);
    }
  }

  void onDelta(const json::object& data, std::string& out) {
    const json::object* delta = objectAt(&data, "delta");
    const std::string_view type = stringAt(delta, "type");
    if (type == "text_delta") {
      ++streamed_events_;
      emit(json::object{{"content", stringAt(delta, "text")}}, nullptr, out);
    } else if (type == "thinking_delta") {
      ++streamed_events_;
      emit(json::object{{"reasoning_content", stringAt(delta, "thinking")}}, nullptr, out);
    } else if (type == "input_json_delta") {
      const std::optional<uint64_t> index = blockIndex(data);
      const auto tool = index ? tool_of_block_.find(*index) : tool_of_block_.end();
      const std::string_view partial = stringAt(delta, "partial_json");
      if (tool == tool_of_block_.end() || partial.empty()) {
        return;
      }
      ++streamed_events_;
      emitToolCall(
          json::object{{"index", tool->second}, {"function", json::object{{"arguments", partial}}}},
          out);
    } else if (type == "signature_delta" && signatures_) {
      emit(json::object{{"reasoning_signature", stringAt(delta, "signature")}}, nullptr, out);
    }
    // citations_delta has no OpenAI equivalent.
  }

  static std::optional<uint64_t> blockIndex(const json::object& data) {
    const json::value* index = data.if_contains("index");
    if (index == nullptr) {
      return std::nullopt;
    }
    boost::system::error_code ec;
    const auto number = index->to_number<uint64_t>(ec);
    return ec ? std::nullopt : std::optional<uint64_t>(number);
  }
  json::object head() const {
    return {
        {"id", id_}, {"object", "chat.completion.chunk"}, {"created", created_}, {"model", model_}};
  }
  void append(const json::object& chunk, std::string& out) const {
    out += "data: ";
    out += json::serialize(chunk);
    out += "\n\n";
  }
  void emit(json::object delta, json::value finish_reason, std::string& out) const {
    json::object chunk = head();
    chunk["choices"] = json::array{json::object{{"index", 0},
                                                {"delta", std::move(delta)},
                                                {"logprobs", nullptr},
                                                {"finish_reason", std::move(finish_reason)}}};
    append(chunk, out);
  }
  void emitToolCall(json::object call, std::string& out) const {
    emit(json::object{{"tool_calls", json::array{std::move(call)}}}, nullptr, out);
  }
  void endWithError(std::string_view message, unsigned status, std::string& out) {
    out += "data: " + openAiErrorBody(message, status, "upstream_error") + "\n\n";
    done_ = true;
  }

  const bool relay_usage_;
  const bool signatures_;
  const int64_t created_ = nowSeconds();
  SseParser parser_{kMaxEventBytes};
  bool done_ = false;
  std::string id_;
  std::string model_;
  Counts counts_;
  std::map<uint64_t, size_t> tool_of_block_;  // content block index -> tool call index
  uint64_t streamed_events_ = 0;
};

}  // namespace

std::unique_ptr<ResponseTranslator> newAnthropicTranslator(unsigned status, bool event_stream,
                                                           bool client_wants_usage,
                                                           bool signatures) {
  if (status / 100 != 2) {
    return std::make_unique<ErrorTranslator>(status);
  }
  if (event_stream) {
    return std::make_unique<StreamTranslator>(client_wants_usage, signatures);
  }
  return std::make_unique<MessageTranslator>(signatures);
}

}  // namespace sy::connectors
