// Response side of the Responses backend translation: a Responses answer (JSON or event stream)
// or error body -> its OpenAI chat-completions equivalent. Reasoning (summary or raw text)
// becomes `reasoning_content` (the field DeepSeek and vLLM use); annotations and built-in tool
// items have no chat equivalent and are not relayed.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <map>
#include <optional>

#include "connectors/buffered_translator.h"
#include "connectors/responses_backend.h"
#include "connectors/sse.h"

namespace sy::connectors {
namespace {

namespace json = boost::json;
using answer::objectAt;
using answer::stringAt;

uint64_t countAt(const json::object* object, std::string_view key) {
  const json::value* value = object == nullptr ? nullptr : object->if_contains(key);
  if (value != nullptr && value->is_uint64()) {
    return value->get_uint64();
  }
  return value != nullptr && value->is_int64() && value->get_int64() > 0
             ? static_cast<uint64_t>(value->get_int64())
             : 0;
}

std::optional<uint64_t> indexAt(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  const auto number = value->to_number<uint64_t>(ec);
  return ec ? std::nullopt : std::optional<uint64_t>(number);
}

int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The Responses usage object: cached input and reasoning output tokens are parts of the totals.
struct Counts {
  uint64_t input = 0, cached = 0, output = 0, reasoning = 0;
  bool reported = false;

  void read(const json::object* usage) {
    if (usage == nullptr) {
      return;
    }
    reported = true;
    input = countAt(usage, "input_tokens");
    cached = countAt(objectAt(usage, "input_tokens_details"), "cached_tokens");
    output = countAt(usage, "output_tokens");
    reasoning = countAt(objectAt(usage, "output_tokens_details"), "reasoning_tokens");
  }
  TokenUsage usage() const {
    TokenUsage out{input, output, reported};
    out.cached_prompt_tokens = cached;
    return out;
  }
  json::object openAi() const {
    return {{"prompt_tokens", input},
            {"completion_tokens", output},
            {"total_tokens", input + output},
            {"prompt_tokens_details", json::object{{"cached_tokens", cached}}},
            {"completion_tokens_details", json::object{{"reasoning_tokens", reasoning}}}};
  }
};

// Non-streamed bodies (answers and errors) are buffered whole and translated at the end.
class BufferedTranslator : public answer::BufferedTranslator<Counts> {
 public:
  BufferedTranslator()
      : answer::BufferedTranslator<Counts>(kMaxResponsesBody, "the responses backend") {}
};

// finish_reason of a completed or incomplete response.
std::string_view finishReason(const json::object* response, bool tool_calls) {
  if (stringAt(response, "status") == "incomplete") {
    return stringAt(objectAt(response, "incomplete_details"), "reason") == "content_filter"
               ? "content_filter"
               : "length";
  }
  return tool_calls ? "tool_calls" : "stop";
}

// The HTTP status an error code of a failed response or an `error` event stands for.
unsigned statusOf(std::string_view code) {
  if (code == "rate_limit_exceeded") {
    return 429;
  }
  // The request's own fault: invalid_prompt, invalid_image*, image_too_large, empty_image_file,
  // unsupported_image_media_type, failed_to_download_image, ...
  for (std::string_view prefix : {"invalid", "image_", "empty_", "unsupported_", "failed_to_"}) {
    if (code.starts_with(prefix)) {
      return 400;
    }
  }
  return 500;  // server_error, vector_store_timeout, and codes this list does not know
}

// An error code from the upstream, when it is a plain identifier (else not repeated).
std::string_view safeCode(std::string_view code) {
  const bool plain =
      !code.empty() && code.size() <= 64 &&
      code.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string_view::npos;
  return plain ? code : "upstream_error";
}

// An in-band error event for `error` (the event itself) or a failed response (its `error`).
std::string errorEvent(const json::object* error) {
  const std::string_view code = safeCode(stringAt(error, "code"));
  std::string message(stringAt(error, "message"));
  if (message.empty()) {
    message = "the responses backend failed the response";
  }
  return "data: " + openAiErrorBody(message, statusOf(code), code) + "\n\n";
}

// The text and tool calls of a response's output items.
struct Output {
  std::string text, refusal, reasoning;
  bool has_text = false;
  json::array tool_calls;
};

void readItem(const json::object* item, Output& out) {
  const std::string_view type = stringAt(item, "type");
  const json::value* content = item == nullptr ? nullptr : item->if_contains("content");
  if (type == "message" && content != nullptr && content->is_array()) {
    for (const json::value& value : content->get_array()) {
      const json::object* part = value.if_object();
      if (stringAt(part, "type") == "output_text") {
        out.text += stringAt(part, "text");
        out.has_text = true;
      } else if (stringAt(part, "type") == "refusal") {
        out.refusal += stringAt(part, "refusal");
      }
    }
  } else if (type == "function_call") {
    std::string_view arguments = stringAt(item, "arguments");
    json::object function{{"name", stringAt(item, "name")},
                          {"arguments", arguments.empty() ? "{}" : arguments}};
    out.tool_calls.push_back(json::object{
        {"id", stringAt(item, "call_id")}, {"type", "function"}, {"function", function}});
  } else if (type == "reasoning") {
    const json::value* summary = item->if_contains("summary");
    // vLLM (gpt-oss) sends the raw reasoning as content; OpenAI only a summary.
    for (const json::value* parts : {summary, content}) {
      if (parts != nullptr && parts->is_array()) {
        for (const json::value& part : parts->get_array()) {
          out.reasoning += stringAt(part.if_object(), "text");
        }
      }
    }
  }
}

class BodyTranslator final : public BufferedTranslator {
 private:
  Status translate(const json::object* body, std::string& out) override {
    const json::value* items = body == nullptr ? nullptr : body->if_contains("output");
    if (items == nullptr || !items->is_array()) {
      return makeError(ErrorCode::UpstreamError, ErrorSource::Upstream,
                       "the responses backend answered with an unreadable response",
                       "upstream_error");
    }
    counts_.read(objectAt(body, "usage"));
    if (stringAt(body, "status") == "failed") {
      const std::string_view code = safeCode(stringAt(objectAt(body, "error"), "code"));
      return makeError(ErrorCode::UpstreamError, ErrorSource::Upstream,
                       "the responses backend failed the response (" + std::string(code) + ")",
                       "upstream_error",
                       /*retryable=*/statusOf(code) == 429 || code == "server_error");
    }
    Output output;
    for (const json::value& item : items->get_array()) {
      readItem(item.if_object(), output);
    }
    json::object message{{"role", "assistant"}};
    message["content"] = output.has_text || output.tool_calls.empty() ? json::value(output.text)
                                                                      : json::value(nullptr);
    message["refusal"] =
        output.refusal.empty() ? json::value(nullptr) : json::value(output.refusal);
    if (!output.reasoning.empty()) {
      message["reasoning_content"] = output.reasoning;
    }
    const bool tool_calls = !output.tool_calls.empty();
    if (tool_calls) {
      message["tool_calls"] = std::move(output.tool_calls);
    }
    const json::value* created = body->if_contains("created_at");
    json::object choice{{"index", 0},
                        {"message", std::move(message)},
                        {"logprobs", nullptr},
                        {"finish_reason", finishReason(body, tool_calls)}};
    const json::object answer{
        {"id", stringAt(body, "id")},
        {"object", "chat.completion"},
        {"created", created != nullptr && created->is_number() ? *created : nowSeconds()},
        {"model", stringAt(body, "model")},
        {"choices", json::array{std::move(choice)}},
        {"usage", counts_.openAi()}};
    out = json::serialize(answer);
    return {};
  }
};

// Non-2xx: the upstream's OpenAI error body as it is, anything else as one of ours.
class ErrorTranslator final : public BufferedTranslator {
 public:
  explicit ErrorTranslator(unsigned status) : status_(status) {}

 private:
  Status translate(const json::object* body, std::string& out) override {
    if (objectAt(body, "error") != nullptr) {
      out = json::serialize(*body);
    } else {
      out = openAiErrorBody("the responses backend answered HTTP " + std::to_string(status_),
                            status_, "upstream_error");
    }
    return {};
  }
  const unsigned status_;
};

// The Responses event stream -> chat.completion.chunk events. The SSE parser keeps an unfinished
// event until its blank line, so only whole events are ever translated (and emitted).
class StreamTranslator final : public ResponseTranslator {
 public:
  static constexpr size_t kMaxEventBytes = 1 << 20;

  explicit StreamTranslator(bool relay_usage) : relay_usage_(relay_usage) {}

  Status onChunk(std::string& chunk, bool end) override {
    std::string out;
    if (!done_) {
      for (const SseEvent& event : parser_.feed(chunk)) {
        onEvent(event, out);
        if (done_) {
          break;  // after an error or the final event nothing more is relayed
        }
      }
      if (!done_ && parser_.droppedEvents() > 0) {  // its text would be missing silently
        endWithError("the responses backend sent an event larger than 1 MiB", out);
      }
    }
    if (end && !done_) {
      endWithError("the responses backend's stream ended before response.completed", out);
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
  struct Tool {
    size_t index = 0;            // in the chat tool_calls list
    bool has_arguments = false;  // arguments were relayed (as deltas)
  };

  void onEvent(const SseEvent& event, std::string& out) {
    boost::system::error_code ec;
    const json::value parsed = json::parse(event.data, ec);
    const json::object* data = ec ? nullptr : parsed.if_object();
    if (data == nullptr) {
      endWithError("the responses backend sent an unreadable event", out);
      return;
    }
    const std::string_view type = stringAt(data, "type");
    if (type == "response.created" || type == "response.in_progress") {
      start(objectAt(data, "response"), out);
    } else if (type == "response.output_text.delta") {
      emitText("content", *data, out);
    } else if (type == "response.refusal.delta") {
      emitText("refusal", *data, out);
    } else if (type == "response.reasoning_summary_text.delta" ||
               type == "response.reasoning_text.delta") {
      emitText("reasoning_content", *data, out);
    } else if (type == "response.output_item.added" || type == "response.output_item.done") {
      onItem(*data, type == "response.output_item.done", out);
    } else if (type == "response.function_call_arguments.delta") {
      onArguments(*data, out);
    } else if (type == "response.completed" || type == "response.incomplete") {
      finish(objectAt(data, "response"), out);
    } else if (type == "response.failed") {
      const json::object* response = objectAt(data, "response");
      counts_.read(objectAt(response, "usage"));
      out += errorEvent(objectAt(response, "error"));
      done_ = true;
    } else if (type == "error") {
      out += errorEvent(data);
      done_ = true;
    }
    // content_part.*, *.done, annotations, built-in tool progress: nothing a chat client reads.
  }

  void start(const json::object* response, std::string& out) {
    if (started_) {
      return;
    }
    started_ = true;
    id_ = stringAt(response, "id");
    model_ = stringAt(response, "model");
    emit(json::object{{"role", "assistant"}, {"content", ""}}, nullptr, out);
  }

  void emitText(std::string_view field, const json::object& data, std::string& out) {
    const std::string_view delta = stringAt(&data, "delta");
    if (delta.empty()) {
      return;
    }
    start(nullptr, out);
    ++streamed_events_;
    emit(json::object{{field, delta}}, nullptr, out);
  }

  // A function_call item: announced when added (id and name), its arguments relayed at `done`
  // when no delta carried them.
  void onItem(const json::object& data, bool done, std::string& out) {
    const json::object* item = objectAt(&data, "item");
    const std::optional<uint64_t> at = indexAt(data, "output_index");
    if (stringAt(item, "type") != "function_call" || !at) {
      return;
    }
    start(nullptr, out);
    auto [tool, added] = tools_.try_emplace(*at, Tool{tools_.size(), false});
    if (added) {
      json::object function{{"name", stringAt(item, "name")}, {"arguments", ""}};
      emitToolCall(json::object{{"index", tool->second.index},
                                {"id", stringAt(item, "call_id")},
                                {"type", "function"},
                                {"function", std::move(function)}},
                   out);
    }
    const std::string_view arguments = stringAt(item, "arguments");
    if (done && !tool->second.has_arguments && !arguments.empty()) {
      relayArguments(tool->second, arguments, out);
    }
  }

  void onArguments(const json::object& data, std::string& out) {
    const std::optional<uint64_t> at = indexAt(data, "output_index");
    const auto tool = at ? tools_.find(*at) : tools_.end();
    const std::string_view delta = stringAt(&data, "delta");
    if (tool != tools_.end() && !delta.empty()) {
      relayArguments(tool->second, delta, out);
    }
  }

  void relayArguments(Tool& tool, std::string_view arguments, std::string& out) {
    tool.has_arguments = true;
    ++streamed_events_;
    emitToolCall(
        json::object{{"index", tool.index}, {"function", json::object{{"arguments", arguments}}}},
        out);
  }

  void finish(const json::object* response, std::string& out) {
    start(response, out);
    counts_.read(objectAt(response, "usage"));
    emit(json::object{}, json::string(finishReason(response, !tools_.empty())), out);
    if (relay_usage_) {
      json::object chunk = head();
      chunk["choices"] = json::array{};
      chunk["usage"] = counts_.openAi();
      append(chunk, out);
    }
    out += "data: [DONE]\n\n";
    done_ = true;
  }

  json::object head() const {
    return {
        {"id", id_}, {"object", "chat.completion.chunk"}, {"created", created_}, {"model", model_}};
  }
  static void append(const json::object& chunk, std::string& out) {
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
  void endWithError(std::string_view message, std::string& out) {
    out += "data: " + openAiErrorBody(message, 502, "upstream_error") + "\n\n";
    done_ = true;
  }

  const bool relay_usage_;
  const int64_t created_ = nowSeconds();
  SseParser parser_{kMaxEventBytes};
  bool started_ = false;
  bool done_ = false;
  std::string id_;
  std::string model_;
  Counts counts_;
  std::map<uint64_t, Tool> tools_;  // output_index -> the tool call
  uint64_t streamed_events_ = 0;
};

}  // namespace

std::unique_ptr<ResponseTranslator> newResponsesTranslator(unsigned status, bool event_stream,
                                                           bool client_wants_usage) {
  if (status / 100 != 2) {
    return std::make_unique<ErrorTranslator>(status);
  }
  if (event_stream) {
    return std::make_unique<StreamTranslator>(client_wants_usage);
  }
  return std::make_unique<BodyTranslator>();
}

}  // namespace sy::connectors
