// Top-level fields of an Anthropic Messages request. The request is built from a whitelist, so an
// OpenAI field not handled here never reaches Anthropic. Dropped on purpose (no Anthropic
// equivalent, and leaving them out does not change what the answer means): n (when 1),
// stream_options (Anthropic always reports usage), seed, logprobs, top_logprobs, logit_bias,
// frequency_penalty, presence_penalty, store, metadata, service_tier, prediction,
// reasoning_effort, prompt_cache_key, safety_identifier, response_format {type: text}, and any
// field this list does not know. Refused (refuseUntranslatable): see anthropic_params.h.
#include "connectors/anthropic_params.h"

#include <string>

namespace sy::connectors::anthropic {
namespace {

namespace json = boost::json;

std::unexpected<Error> invalid(std::string message, std::string code_id = "invalid_value") {
  return makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream, std::move(message),
                   std::move(code_id));
}

std::unexpected<Error> unsupported(std::string_view field, std::string_view why) {
  return invalid(
      std::string(field) + ": " + std::string(why) + " (not supported by anthropic backends)",
      "unsupported_parameter");
}

const json::value* present(const json::object& body, std::string_view key) {
  const json::value* value = body.if_contains(key);
  return value == nullptr || value->is_null() ? nullptr : value;
}

Status addMaxTokens(const json::object& body, uint32_t default_max_tokens, json::object& out) {
  for (const std::string_view key : {"max_completion_tokens", "max_tokens"}) {
    const json::value* value = present(body, key);
    if (value == nullptr) {
      continue;
    }
    const bool positive = (value->is_uint64() && value->get_uint64() > 0) ||
                          (value->is_int64() && value->get_int64() > 0);
    if (!positive) {
      return invalid(std::string(key) + ": must be a positive integer");
    }
    out["max_tokens"] = *value;
    return {};
  }
  out["max_tokens"] = default_max_tokens;
  return {};
}

Status addStop(const json::object& body, json::object& out) {
  const json::value* stop = present(body, "stop");
  if (stop == nullptr) {
    return {};
  }
  json::array sequences;
  if (stop->is_string()) {
    sequences.push_back(*stop);
  } else if (stop->is_array()) {
    for (const json::value& item : stop->get_array()) {
      if (!item.is_string()) {
        return invalid("stop: must be a string or an array of strings");
      }
      sequences.push_back(item);
    }
  } else {
    return invalid("stop: must be a string or an array of strings");
  }
  if (!sequences.empty()) {
    out["stop_sequences"] = std::move(sequences);
  }
  return {};
}

Status addSampling(const json::object& body, json::object& out) {
  for (const std::string_view key : {"temperature", "top_p", "top_k"}) {
    if (const json::value* value = present(body, key)) {
      if (!value->is_number()) {
        return invalid(std::string(key) + ": must be a number");
      }
      out[key] = *value;
    }
  }
  if (const json::value* stream = present(body, "stream"); stream != nullptr) {
    if (!stream->is_bool()) {
      return invalid("stream: must be a boolean");
    }
    if (stream->get_bool()) {
      out["stream"] = true;
    }
  }
  if (const json::value* user = present(body, "user");
      user != nullptr && user->is_string() && !user->get_string().empty()) {
    out["metadata"] = json::object{{"user_id", *user}};
  }
  return {};
}

Result<json::array> translateTools(const json::array& tools) {
  json::array out;
  for (size_t i = 0; i < tools.size(); ++i) {
    const std::string where = "tools[" + std::to_string(i) + "]";
    const json::object* tool = tools[i].if_object();
    const json::value* type = tool == nullptr ? nullptr : tool->if_contains("type");
    const json::value* function = tool == nullptr ? nullptr : tool->if_contains("function");
    if (type == nullptr || !type->is_string() || type->get_string() != "function" ||
        function == nullptr || !function->is_object()) {
      return unsupported(where, "only tools of type 'function' are translated");
    }
    const json::object& fn = function->get_object();
    const json::value* name = fn.if_contains("name");
    if (name == nullptr || !name->is_string()) {
      return invalid(where + ".function.name: required");
    }
    json::object translated{{"name", *name}};
    if (const json::value* description = present(fn, "description")) {
      translated["description"] = *description;
    }
    const json::value* schema = present(fn, "parameters");
    translated["input_schema"] =
        schema != nullptr && schema->is_object() ? *schema : json::object{{"type", "object"}};
    if (const json::value* cache = tool->if_contains("cache_control")) {
      translated["cache_control"] = *cache;
    }
    out.push_back(std::move(translated));
  }
  return out;
}

Result<json::object> translateToolChoice(const json::value* choice) {
  if (choice == nullptr || (choice->is_string() && choice->get_string() == "auto")) {
    return json::object{{"type", "auto"}};
  }
  if (choice->is_string() && choice->get_string() == "none") {
    return json::object{{"type", "none"}};
  }
  if (choice->is_string() && choice->get_string() == "required") {
    return json::object{{"type", "any"}};
  }
  const json::object* object = choice->if_object();
  const json::value* function = object == nullptr ? nullptr : object->if_contains("function");
  const json::value* name = function != nullptr && function->is_object()
                                ? function->get_object().if_contains("name")
                                : nullptr;
  if (name == nullptr || !name->is_string()) {
    return invalid(
        "tool_choice: must be auto, none, required or {\"type\":\"function\", "
        "\"function\":{\"name\":...}}");
  }
  return json::object{{"type", "tool"}, {"name", *name}};
}

Status addTools(const json::object& body, json::object& out) {
  const json::value* tools = present(body, "tools");
  if (tools == nullptr) {
    return {};
  }
  if (!tools->is_array()) {
    return invalid("tools: must be an array");
  }
  if (tools->get_array().empty()) {
    return {};
  }
  auto translated = translateTools(tools->get_array());
  if (!translated) {
    return std::unexpected(std::move(translated.error()));
  }
  auto choice = translateToolChoice(present(body, "tool_choice"));
  if (!choice) {
    return std::unexpected(std::move(choice.error()));
  }
  const json::value* parallel = present(body, "parallel_tool_calls");
  if (parallel != nullptr && parallel->is_bool() && !parallel->get_bool() &&
      choice->at("type").as_string() != "none") {
    (*choice)["disable_parallel_tool_use"] = true;
  }
  out["tools"] = std::move(*translated);
  out["tool_choice"] = std::move(*choice);
  return {};
}

}  // namespace

Status refuseUntranslatable(const json::object& body) {
  if (const json::value* n = present(body, "n");
      n != nullptr &&
      !((n->is_int64() && n->get_int64() == 1) || (n->is_uint64() && n->get_uint64() == 1))) {
    return unsupported("n", "only one choice per request");
  }
  if (const json::value* format = present(body, "response_format"); format != nullptr) {
    const json::value* type =
        format->is_object() ? format->get_object().if_contains("type") : nullptr;
    if (type == nullptr || !type->is_string() || type->get_string() != "text") {
      return unsupported("response_format", "JSON mode and JSON schemas");
    }
  }
  if (present(body, "audio") != nullptr) {
    return unsupported("audio", "audio output");
  }
  if (const json::value* modalities = present(body, "modalities");
      modalities != nullptr && modalities->is_array()) {
    for (const json::value& modality : modalities->get_array()) {
      if (!modality.is_string() || modality.get_string() != "text") {
        return unsupported("modalities", "only text output");
      }
    }
  }
  if (present(body, "web_search_options") != nullptr) {
    return unsupported("web_search_options", "web search");
  }
  if (present(body, "functions") != nullptr || present(body, "function_call") != nullptr) {
    return unsupported("functions", "the legacy functions API; use tools and tool_choice");
  }
  return {};
}

json::value systemValue(json::array&& blocks) {
  bool cached = false;
  for (const json::value& block : blocks) {
    cached = cached || block.as_object().contains("cache_control");
  }
  if (cached) {
    return std::move(blocks);
  }
  std::string text;
  for (const json::value& block : blocks) {
    if (!text.empty()) {
      text += "\n\n";
    }
    text += block.as_object().at("text").as_string();
  }
  return json::string(text);
}

Status addParameters(const json::object& body, uint32_t default_max_tokens, json::object& out) {
  if (Status ok = addMaxTokens(body, default_max_tokens, out); !ok) {
    return ok;
  }
  if (Status ok = addStop(body, out); !ok) {
    return ok;
  }
  if (Status ok = addSampling(body, out); !ok) {
    return ok;
  }
  return addTools(body, out);
}

}  // namespace sy::connectors::anthropic
