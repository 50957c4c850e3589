#include "connectors/chat_inbound.h"

#include <boost/json/array.hpp>
#include <string>

#include "connectors/inbound_fields.h"

namespace sy::connectors {
namespace {

namespace json = boost::json;
using inbound::Expect;
using inbound::FieldRule;

// OpenAI's documented kinds and ranges of the chat-completions request's known fields (model,
// messages, max_tokens and max_completion_tokens are checked by the decode phase on every
// surface's canonical request).
constexpr FieldRule kChatRules[] = {
    {"temperature", Expect::Number, 0, 2},
    {"top_p", Expect::Number, 0, 1},
    {"n", Expect::Integer, 1, 128},
    {"presence_penalty", Expect::Number, -2, 2},
    {"frequency_penalty", Expect::Number, -2, 2},
    {"seed", Expect::Integer},
    {"logprobs", Expect::Boolean},
    {"top_logprobs", Expect::Integer, 0, 20},
    {"stream", Expect::Boolean},
    {"stream_options", Expect::Object},
    {"parallel_tool_calls", Expect::Boolean},
    {"store", Expect::Boolean},
    {"stop", Expect::StringOrStrings},
    {"user", Expect::String},
    {"safety_identifier", Expect::String},
    {"prompt_cache_key", Expect::String},
    {"metadata", Expect::Object},
    {"logit_bias", Expect::Object},
    {"tools", Expect::Array},
    {"functions", Expect::Array},
    {"response_format", Expect::Object},
    {"reasoning_effort", Expect::String},
    {"service_tier", Expect::String},
    {"verbosity", Expect::String},
    {"modalities", Expect::Array},
};
constexpr FieldRule kStreamOptionsRules[] = {{"include_usage", Expect::Boolean},
                                             {"include_obfuscation", Expect::Boolean}};
constexpr FieldRule kMessageRules[] = {{"name", Expect::String},
                                       {"tool_calls", Expect::Array},
                                       {"tool_call_id", Expect::String}};
constexpr std::string_view kRoles[] = {"system", "developer", "user",
                                       "assistant", "tool",      "function"};

using inbound::invalid;

Status checkMessage(const json::value& value, size_t index) {
  const std::string where = "messages[" + std::to_string(index) + "]";
  const json::object* message = value.if_object();
  if (message == nullptr) {
    return invalid(where + ": must be an object, not " + inbound::describe(value), where,
                   "invalid_type");
  }
  const json::value* role = message->if_contains("role");
  bool known = false;
  for (std::string_view name : kRoles) {
    known = known || (role != nullptr && role->is_string() && role->get_string() == name);
  }
  if (!known) {
    return invalid(where + ".role: must be one of system, developer, user, assistant, tool or "
                           "function",
                   where + ".role", "invalid_value");
  }
  return inbound::checkFields(*message, kMessageRules, where, true);
}

// tool_choice: "none" | "auto" | "required" or an object naming a tool.
Status checkToolChoice(const json::object& body, std::string_view key) {
  const json::value* choice = body.if_contains(key);
  if (choice == nullptr || choice->is_null() || choice->is_object()) {
    return {};
  }
  const json::string* word = choice->if_string();
  if (word == nullptr || (*word != "none" && *word != "auto" && *word != "required")) {
    return invalid(std::string(key) + ": must be none, auto, required or an object",
                   std::string(key), "invalid_value");
  }
  return {};
}

}  // namespace

Status checkChatRequest(const json::object& body) {
  if (Status fields = inbound::checkFields(body, kChatRules, "request", true); !fields) {
    return fields;
  }
  if (const json::value* stop = body.if_contains("stop"); stop != nullptr && stop->is_array() &&
                                                          stop->get_array().size() > 4) {
    return invalid("stop: at most 4 sequences", "stop", "invalid_value");
  }
  if (const json::value* options = body.if_contains("stream_options");
      options != nullptr && options->is_object()) {
    if (Status fields = inbound::checkFields(options->get_object(), kStreamOptionsRules,
                                             "stream_options", true);
        !fields) {
      return fields;
    }
  }
  for (std::string_view key : {"tool_choice", "function_call"}) {
    if (Status choice = checkToolChoice(body, key); !choice) {
      return choice;
    }
  }
  for (std::string_view key : {"tools", "functions"}) {
    const json::value* tools = body.if_contains(key);
    if (tools == nullptr || !tools->is_array()) {
      continue;
    }
    for (size_t i = 0; i < tools->get_array().size(); ++i) {
      const json::value& tool = tools->get_array()[i];
      if (!tool.is_object()) {
        const std::string where = std::string(key) + "[" + std::to_string(i) + "]";
        return invalid(where + ": must be an object, not " + inbound::describe(tool), where,
                       "invalid_type");
      }
    }
  }
  if (const json::value* messages = body.if_contains("messages");
      messages != nullptr && messages->is_array()) {
    for (size_t i = 0; i < messages->get_array().size(); ++i) {
      if (Status message = checkMessage(messages->get_array()[i], i); !message) {
        return message;
      }
    }
  }
  return {};
}

}  // namespace sy::connectors
