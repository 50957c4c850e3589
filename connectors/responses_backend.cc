// Request side of the Responses backend translation: OpenAI chat-completions body -> Responses request.
// Built from a whitelist, so a chat field not handled here never reaches the backend. Dropped on
// purpose (no Responses equivalent, and leaving them out does not change what the answer means):
// n (when 1), stream_options (a Responses stream always reports usage), seed, prediction,
// web_search_options (when null), modalities ["text"], and any field this file does not know.
#include "connectors/responses_backend.h"

namespace sy::connectors {
namespace {

namespace json = boost::json;

std::unexpected<Error> invalid(std::string message, std::string code_id = "invalid_value") {
  return makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream, std::move(message),
                   std::move(code_id));
}

std::unexpected<Error> unsupported(std::string_view field) {
  return invalid(std::string(field) + ": not supported by responses backends",
                 "unsupported_parameter");
}

std::string indexed(std::string_view name, size_t i) {
  return std::string(name) + "[" + std::to_string(i) + "]";
}

const json::value* present(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value == nullptr || value->is_null() ? nullptr : value;
}

const json::string* stringAt(const json::object* object, std::string_view key) {
  const json::value* value = object == nullptr ? nullptr : object->if_contains(key);
  return value == nullptr ? nullptr : value->if_string();
}

// Fields whose meaning a Responses backend cannot honour.
Status refuseUntranslatable(const json::object& body) {
  if (const json::value* n = present(body, "n"); n != nullptr && !(n->is_number() &&
                                                                   n->to_number<double>() == 1)) {
    return unsupported("n");
  }
  for (std::string_view key : {"stop", "audio", "logit_bias", "functions", "function_call",
                               "web_search_options", "top_logprobs"}) {
    if (present(body, key) != nullptr) {
      return unsupported(key);
    }
  }
  if (const json::value* logprobs = present(body, "logprobs");
      logprobs != nullptr && !(logprobs->is_bool() && !logprobs->get_bool())) {
    return unsupported("logprobs");
  }
  for (std::string_view key : {"frequency_penalty", "presence_penalty"}) {
    if (const json::value* value = present(body, key);
        value != nullptr && !(value->is_number() && value->to_number<double>() == 0)) {
      return unsupported(key);
    }
  }
  if (const json::value* modalities = present(body, "modalities")) {
    const json::array* list = modalities->if_array();
    if (list == nullptr || list->size() != 1 || !(*list)[0].is_string() ||
        (*list)[0].get_string() != "text") {
      return unsupported("modalities");
    }
  }
  return {};
}

// A chat content part (user or system) -> a Responses input content part.
Result<json::object> inputPart(const json::value& value, const std::string& where) {
  const json::object* part = value.if_object();
  const json::string* type = stringAt(part, "type");
  if (type == nullptr) {
    return invalid(where + ": a content part needs a type");
  }
  if (*type == "text") {
    const json::string* text = stringAt(part, "text");
    if (text == nullptr) {
      return invalid(where + ".text: must be a string");
    }
    return json::object{{"type", "input_text"}, {"text", *text}};
  }
  if (*type == "image_url") {
    const json::value* image = part->if_contains("image_url");
    const json::object* fields = image == nullptr ? nullptr : image->if_object();
    const json::string* url = fields != nullptr ? stringAt(fields, "url")
                              : image != nullptr ? image->if_string()
                                                 : nullptr;
    if (url == nullptr) {
      return invalid(where + ".image_url: must be a URL or {\"url\": ...}");
    }
    const json::string* detail = stringAt(fields, "detail");
    return json::object{{"type", "input_image"},
                        {"image_url", *url},
                        {"detail", detail != nullptr ? json::value(*detail) : "auto"}};
  }
  if (*type == "file") {
    const json::value* file = part->if_contains("file");
    const json::object* fields = file == nullptr ? nullptr : file->if_object();
    if (fields == nullptr) {
      return invalid(where + ".file: must be an object");
    }
    json::object out{{"type", "input_file"}};
    for (std::string_view key : {"file_data", "file_id", "filename"}) {
      if (const json::string* text = stringAt(fields, key)) {
        out[key] = *text;
      }
    }
    return out;
  }
  return invalid(where + ": content part type '" + std::string(*type) +
                     "' is not supported by responses backends",
                 "unsupported_value");
}

// The text of a content value (string, or text/refusal parts joined), for assistant turns and
// tool results, whose Responses items take text.
Result<std::string> textOf(const json::value* content, const std::string& where) {
  if (content == nullptr || content->is_null()) {
    return std::string();
  }
  if (const json::string* text = content->if_string()) {
    return std::string(*text);
  }
  if (!content->is_array()) {
    return invalid(where + ".content: must be a string or an array of content parts");
  }
  std::string out;
  const json::array& parts = content->get_array();
  for (size_t p = 0; p < parts.size(); ++p) {
    const json::object* part = parts[p].if_object();
    const json::string* type = stringAt(part, "type");
    const json::string* text = type == nullptr ? nullptr : stringAt(part, *type);
    if (text == nullptr || (*type != "text" && *type != "refusal")) {
      return invalid(where + indexed(".content", p) + ": only text parts are supported here",
                     "unsupported_value");
    }
    out += *text;
  }
  return out;
}

// A user, system or developer message -> a message item (string content kept as a string).
Result<json::object> inputMessage(std::string_view role, const json::value* content,
                                  const std::string& where) {
  json::object item{{"type", "message"}, {"role", role}};
  if (content == nullptr || content->is_null() || content->is_string()) {
    item["content"] = content != nullptr && content->is_string() ? *content : json::value("");
    return item;
  }
  if (!content->is_array()) {
    return invalid(where + ".content: must be a string or an array of content parts");
  }
  json::array parts;
  for (size_t p = 0; p < content->get_array().size(); ++p) {
    auto part = inputPart(content->get_array()[p], where + indexed(".content", p));
    if (!part) {
      return std::unexpected(std::move(part.error()));
    }
    parts.push_back(std::move(*part));
  }
  item["content"] = std::move(parts);
  return item;
}

// An assistant turn: its text as an assistant message, then one function_call per tool call.
Status addAssistant(const json::object& message, const std::string& where, json::array& input) {
  auto text = textOf(message.if_contains("content"), where);
  if (!text) {
    return std::unexpected(std::move(text.error()));
  }
  if (!text->empty()) {
    input.push_back(json::object{{"type", "message"}, {"role", "assistant"}, {"content", *text}});
  }
  const json::value* calls = present(message, "tool_calls");
  if (calls == nullptr) {
    return {};
  }
  if (!calls->is_array()) {
    return invalid(where + ".tool_calls: must be an array");
  }
  for (size_t c = 0; c < calls->get_array().size(); ++c) {
    const json::object* call = calls->get_array()[c].if_object();
    const json::value* function = call == nullptr ? nullptr : call->if_contains("function");
    const json::object* fn = function == nullptr ? nullptr : function->if_object();
    const json::string* id = stringAt(call, "id");
    const json::string* name = stringAt(fn, "name");
    if (id == nullptr || name == nullptr) {
      return invalid(where + indexed(".tool_calls", c) +
                     ": a tool call needs an id and a function.name");
    }
    const json::string* arguments = stringAt(fn, "arguments");
    input.push_back(json::object{{"type", "function_call"},
                                 {"call_id", *id},
                                 {"name", *name},
                                 {"arguments", arguments != nullptr ? *arguments : "{}"}});
  }
  return {};
}

// messages -> instructions (the leading system/developer messages) and input items.
Status addMessages(const json::object& body, json::object& out) {
  const json::value* messages = body.if_contains("messages");
  if (messages == nullptr || !messages->is_array() || messages->get_array().empty()) {
    return invalid("messages: must be a non-empty array");
  }
  std::string instructions;
  bool leading = true;
  json::array input;
  const json::array& list = messages->get_array();
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = indexed("messages", i);
    const json::object* message = list[i].if_object();
    const json::string* role = stringAt(message, "role");
    if (role == nullptr) {
      return invalid(where + ": must be an object with a role");
    }
    const json::value* content = message->if_contains("content");
    const bool system = *role == "system" || *role == "developer";
    leading = leading && system;
    Status added;
    if (system && leading) {
      auto text = textOf(content, where);
      if (!text) {
        return std::unexpected(std::move(text.error()));
      }
      instructions += instructions.empty() || text->empty() ? "" : "\n\n";
      instructions += *text;
    } else if (system || *role == "user") {
      auto item = inputMessage(*role, content, where);
      if (!item) {
        return std::unexpected(std::move(item.error()));
      }
      input.push_back(std::move(*item));
    } else if (*role == "assistant") {
      added = addAssistant(*message, where, input);
    } else if (*role == "tool") {
      const json::string* id = stringAt(message, "tool_call_id");
      auto output = textOf(content, where);
      if (id == nullptr) {
        return invalid(where + ".tool_call_id: required for a tool message");
      }
      if (!output) {
        return std::unexpected(std::move(output.error()));
      }
      input.push_back(json::object{
          {"type", "function_call_output"}, {"call_id", *id}, {"output", std::move(*output)}});
    } else {
      return invalid(where + ".role: '" + std::string(*role) +
                         "' is not supported by responses backends (system, developer, user, "
                         "assistant, tool)",
                     "unsupported_value");
    }
    if (!added) {
      return added;
    }
  }
  if (!instructions.empty()) {
    out["instructions"] = std::move(instructions);
  }
  out["input"] = std::move(input);
  return {};
}

// tools [{type function, function {name, description, parameters, strict}}] -> flat function
// tools; tool_choice {type function, function {name}} -> {type function, name}.
Status addTools(const json::object& body, json::object& out) {
  if (const json::value* tools = present(body, "tools")) {
    if (!tools->is_array()) {
      return invalid("tools: must be an array");
    }
    json::array list;
    for (size_t t = 0; t < tools->get_array().size(); ++t) {
      const json::object* tool = tools->get_array()[t].if_object();
      const json::string* type = stringAt(tool, "type");
      const json::value* function = tool == nullptr ? nullptr : tool->if_contains("function");
      const json::object* fn = function == nullptr ? nullptr : function->if_object();
      if (type == nullptr || *type != "function" || stringAt(fn, "name") == nullptr) {
        return invalid(indexed("tools", t) +
                           ": only function tools with a name are supported by responses backends",
                       "unsupported_value");
      }
      json::object flat{{"type", "function"}};
      for (std::string_view key : {"name", "description", "parameters", "strict"}) {
        if (const json::value* value = present(*fn, key)) {
          flat[key] = *value;
        }
      }
      list.push_back(std::move(flat));
    }
    out["tools"] = std::move(list);
  }
  if (const json::value* choice = present(body, "tool_choice")) {
    if (choice->is_string()) {
      out["tool_choice"] = *choice;
    } else {
      const json::object* object = choice->if_object();
      const json::value* function = object == nullptr ? nullptr : object->if_contains("function");
      const json::string* name =
          stringAt(function == nullptr ? nullptr : function->if_object(), "name");
      if (name == nullptr) {
        return invalid("tool_choice: must be auto, none, required or a function by name",
                       "unsupported_value");
      }
      out["tool_choice"] = json::object{{"type", "function"}, {"name", *name}};
    }
  }
  if (const json::value* parallel = present(body, "parallel_tool_calls")) {
    out["parallel_tool_calls"] = *parallel;
  }
  return {};
}

// response_format -> text.format (json_schema's fields flattened); verbosity -> text.verbosity.
Status addTextFormat(const json::object& body, json::object& out) {
  json::object text;
  if (const json::value* format = present(body, "response_format")) {
    const json::object* object = format->if_object();
    const json::string* type = stringAt(object, "type");
    if (type == nullptr) {
      return invalid("response_format: must be an object with a type");
    }
    if (*type == "json_schema") {
      const json::value* schema = object->if_contains("json_schema");
      if (schema == nullptr || !schema->is_object()) {
        return invalid("response_format.json_schema: must be an object");
      }
      json::object flat = schema->get_object();
      flat["type"] = "json_schema";
      text["format"] = std::move(flat);
    } else if (*type == "json_object" || *type == "text") {
      text["format"] = json::object{{"type", *type}};
    } else {
      return invalid("response_format.type: '" + std::string(*type) + "' is not supported",
                     "unsupported_value");
    }
  }
  if (const json::value* verbosity = present(body, "verbosity")) {
    text["verbosity"] = *verbosity;
  }
  if (!text.empty()) {
    out["text"] = std::move(text);
  }
  return {};
}

void addParameters(const json::object& body, json::object& out) {
  for (std::string_view key : {"max_completion_tokens", "max_tokens"}) {
    if (const json::value* value = present(body, key)) {
      out["max_output_tokens"] = *value;
      break;
    }
  }
  if (const json::value* effort = present(body, "reasoning_effort")) {
    out["reasoning"] = json::object{{"effort", *effort}};
  }
  for (std::string_view key : {"temperature", "top_p", "user", "metadata", "service_tier",
                               "safety_identifier", "prompt_cache_key", "stream"}) {
    if (const json::value* value = present(body, key)) {
      out[key] = *value;
    }
  }
  const json::value* store = present(body, "store");
  out["store"] = store != nullptr && store->is_bool() && store->get_bool();
}

}  // namespace

std::string responsesTarget(std::string_view base_path) {
  std::string target(base_path);
  if (!target.ends_with("/v1")) {
    target += "/v1";
  }
  return target + "/responses";
}

Result<json::object> toResponsesRequest(const json::object& body, std::string_view model) {
  if (Status refused = refuseUntranslatable(body); !refused) {
    return std::unexpected(std::move(refused.error()));
  }
  json::object out;
  out["model"] = model;
  Status built = addMessages(body, out);
  if (built) {
    built = addTools(body, out);
  }
  if (built) {
    built = addTextFormat(body, out);
  }
  if (!built) {
    return std::unexpected(std::move(built.error()));
  }
  addParameters(body, out);
  return out;
}

}  // namespace sy::connectors
