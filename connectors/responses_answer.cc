#include "connectors/responses_answer.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <optional>
#include <random>

#include "connectors/responses_inbound.h"
#include "connectors/responses_params.h"
#include "connectors/responses_stream.h"

namespace sy::connectors {
namespace {

namespace json = boost::json;

std::string_view stringOr(const json::object& object, std::string_view key) {
  const json::value* v = object.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

uint64_t countOf(const json::object* object, std::string_view key) {
  const json::value* v = object != nullptr ? object->if_contains(key) : nullptr;
  if (v == nullptr) {
    return 0;
  }
  if (v->is_uint64()) {
    return v->get_uint64();
  }
  return v->is_int64() && v->get_int64() > 0 ? static_cast<uint64_t>(v->get_int64()) : 0;
}

const json::object* objectAt(const json::object& object, std::string_view key) {
  const json::value* v = object.if_contains(key);
  return v != nullptr ? v->if_object() : nullptr;
}

int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The output items of one chat completion choice's message.
json::array outputItems(const json::object& message, std::string_view message_status,
                        const json::object* echo) {
  json::array output;
  if (std::string_view reasoning = stringOr(message, "reasoning_content"); !reasoning.empty()) {
    output.push_back(json::object{
        {"id", newResponsesId("rs_")},
        {"type", "reasoning"},
        {"summary", json::array{json::object{{"type", "summary_text"}, {"text", reasoning}}}}});
  }
  json::array content;
  if (std::string_view text = stringOr(message, "content"); !text.empty()) {
    content.push_back(
        json::object{{"type", "output_text"}, {"text", text}, {"annotations", json::array{}}});
  }
  if (std::string_view refusal = stringOr(message, "refusal"); !refusal.empty()) {
    content.push_back(json::object{{"type", "refusal"}, {"refusal", refusal}});
  }
  if (!content.empty()) {
    output.push_back(json::object{{"id", newResponsesId("msg_")},
                                  {"type", "message"},
                                  {"status", message_status},
                                  {"role", "assistant"},
                                  {"content", std::move(content)}});
  }
  const json::value* calls = message.if_contains("tool_calls");
  if (calls == nullptr || !calls->is_array()) {
    return output;
  }
  for (const json::value& item : calls->get_array()) {
    const json::object* call = item.if_object();
    const json::object* function = call != nullptr ? objectAt(*call, "function") : nullptr;
    if (function == nullptr) {
      continue;
    }
    std::string call_id(stringOr(*call, "id"));
    output.push_back(functionCallItem(newResponsesId("fc_"), "completed",
                                      stringOr(*function, "arguments"),
                                      call_id.empty() ? newResponsesId("call_") : call_id,
                                      stringOr(*function, "name"), echo));
  }
  return output;
}

std::string unreadableAnswer() {
  return openAiErrorBody("The upstream answer could not be read.", 502, "upstream_error");
}

// A whole chat.completion text -> the Responses `response` object; nullopt for a text that is
// not a chat completion.
std::optional<json::object> completionToResponse(std::string_view completion,
                                                 std::string_view model, const json::object* echo) {
  boost::system::error_code ec;
  const json::value parsed = json::parse(completion, ec);
  const json::object* body = ec ? nullptr : parsed.if_object();
  const json::value* choices = body != nullptr ? body->if_contains("choices") : nullptr;
  if (choices == nullptr || !choices->is_array() || choices->get_array().empty() ||
      !choices->get_array()[0].is_object()) {
    return std::nullopt;
  }
  const json::object& choice = choices->get_array()[0].get_object();
  const ResponseOutcome outcome = responseOutcome(stringOr(choice, "finish_reason"));
  const json::object* message = objectAt(choice, "message");
  json::array output = message != nullptr ? outputItems(*message, outcome.status, echo) : json::array{};
  const json::object* usage = objectAt(*body, "usage");
  return responseObject(newResponsesId("resp_"), nowSeconds(), outcome.status, outcome.reason,
                        model, std::move(output),
                        responsesUsage(usage != nullptr ? *usage : json::object{}), nullptr, echo);
}

class ResponsesBodyEncoder final : public AnswerEncoder {
 public:
  ResponsesBodyEncoder(std::string_view model, const json::object* echo)
      : model_(model), echo_(echo != nullptr ? *echo : responsesEcho({}, {})) {}

  Status encode(std::string& chunk, bool end) override {
    body_.append(chunk);
    chunk.clear();
    if (end) {
      std::optional<json::object> response = completionToResponse(body_, model_, &echo_);
      if (!response) {
        chunk = unreadableAnswer();
        return {};
      }
      finalResponse(*response);
      chunk = json::serialize(*response);
    }
    return {};
  }

 private:
  std::string model_;
  json::object echo_;
  std::string body_;  // bounded by the gateway's limit on non-streamed upstream bodies
};

}  // namespace

ResponseOutcome responseOutcome(std::string_view finish_reason) {
  if (finish_reason == "length") {
    return {"incomplete", "max_output_tokens"};
  }
  if (finish_reason == "content_filter") {
    return {"incomplete", "content_filter"};
  }
  return {"completed", ""};
}

std::string newResponsesId(std::string_view prefix) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(prefix);
  for (int half = 0; half < 2; ++half) {
    uint64_t bits = random();
    for (int i = 0; i < 12; ++i, bits >>= 4) {
      id += kHex[bits & 15];
    }
  }
  return id;
}

json::object responsesUsage(const json::object& usage) {
  const uint64_t input = countOf(&usage, "prompt_tokens");
  const uint64_t output = countOf(&usage, "completion_tokens");
  return json::object{
      {"input_tokens", input},
      {"input_tokens_details",
       {{"cached_tokens", countOf(objectAt(usage, "prompt_tokens_details"), "cached_tokens")}}},
      {"output_tokens", output},
      {"output_tokens_details",
       {{"reasoning_tokens",
         countOf(objectAt(usage, "completion_tokens_details"), "reasoning_tokens")}}},
      {"total_tokens", input + output}};
}

json::object responseObject(std::string_view id, int64_t created_at, std::string_view status,
                            std::string_view reason, std::string_view model, json::array output,
                            json::value usage, json::value error, const json::object* echo) {
  json::object response{{"id", id},
                        {"object", "response"},
                        {"created_at", created_at},
                        {"status", status},
                        {"background", false},
                        {"error", std::move(error)},
                        {"incomplete_details", nullptr},
                        {"model", model},
                        {"output", std::move(output)},
                        {"usage", std::move(usage)}};
  if (!reason.empty()) {
    response["incomplete_details"] = json::object{{"reason", reason}};
  }
  const json::object defaults = echo == nullptr ? responsesEcho({}, {}) : json::object{};
  for (const auto& entry : echo != nullptr ? *echo : defaults) {
    response[entry.key()] = entry.value();
  }
  return response;
}

std::string chatCompletionToResponse(std::string_view completion, std::string_view model,
                                     const json::object* echo) {
  std::optional<json::object> response = completionToResponse(completion, model, echo);
  return response ? json::serialize(*response) : unreadableAnswer();
}

json::object functionCallItem(std::string_view id, std::string_view status,
                              std::string_view arguments, std::string_view call_id,
                              std::string_view chat_name, const json::object* echo) {
  responses::FunctionName name = responses::responsesFunctionName(chat_name, echo);
  json::object item{{"id", id},
                    {"type", "function_call"},
                    {"status", status},
                    {"arguments", arguments},
                    {"call_id", call_id}};
  if (!name.ns.empty()) {
    item["namespace"] = name.ns;
  }
  item["name"] = name.name;
  return item;
}

std::string responsesErrorEvent(const Error& error, uint64_t sequence_number) {
  json::object event{
      {"type", "error"},
      {"code", error.code_id.empty() ? json::value(nullptr) : json::value(error.code_id)},
      {"message", error.message},
      {"param", error.param.empty() ? json::value(nullptr) : json::value(error.param)},
      {"sequence_number", sequence_number}};
  return "event: error\ndata: " + json::serialize(event) + "\n\n";
}

std::unique_ptr<AnswerEncoder> newResponsesEncoder(unsigned status, bool event_stream,
                                                   std::string_view model,
                                                   const json::object* echo) {
  if (status / 100 != 2) {
    return nullptr;  // OpenAI's error body is the Responses API's own
  }
  if (event_stream) {
    return newResponsesStreamEncoder(model, echo);
  }
  return std::make_unique<ResponsesBodyEncoder>(model, echo);
}

}  // namespace sy::connectors
