// Top-level settings of a Responses request. The canonical request is built from a whitelist:
// every field that carries client text is copied into it (where DLP scans it) or refused.
#include "connectors/responses_params.h"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <string>

#include "connectors/inbound_fields.h"
#include "core/json_text.h"

namespace sy::connectors::responses {
namespace {

namespace json = boost::json;

using inbound::copyOptionalString;
using inbound::invalid;
using inbound::present;
using inbound::onlyKeys;
using inbound::stringAt;

bool isBuiltInTool(std::string_view type) {
  constexpr std::string_view kBuiltIn[] = {
      "file_search",      "code_interpreter", "computer_use", "computer_use_preview", "mcp",
      "image_generation", "local_shell",      "shell",        "apply_patch",          "custom"};
  if (type.starts_with("web_search")) {  // and its dated variants
    return true;
  }
  for (std::string_view name : kBuiltIn) {
    if (type == name) {
      return true;
    }
  }
  return false;
}

std::unexpected<Error> builtInTool(const std::string& where, std::string_view type) {
  return invalid(where + ": the built-in tool " + quotedName(type) +
                     " is not supported: the gateway passes built-in OpenAI tools through only "
                     "when its policy sets responses.builtin_tools: allow (and then only to "
                     "OpenAI Responses backends); declare function tools",
                 where);
}

Result<json::object> decodeTool(const json::value& value, const std::string& where,
                                json::storage_ptr sp) {
  if (!value.is_object()) {
    return invalid(where + ": must be an object", where);
  }
  const json::object& tool = value.get_object();
  auto type = stringAt(tool, "type", where);
  if (!type) {
    return std::unexpected(type.error());
  }
  if (*type != "function") {
    return isBuiltInTool(*type)
               ? builtInTool(where, *type)
               : invalid(where + ": unsupported tool type " + quotedName(*type), where);
  }
  if (Status keys = onlyKeys(tool, {"type", "name", "description", "parameters", "strict"}, where);
      !keys) {
    return std::unexpected(keys.error());
  }
  auto name = stringAt(tool, "name", where);
  if (!name) {
    return std::unexpected(name.error());
  }
  json::object function(sp);
  function["name"] = *name;
  if (Status description = copyOptionalString(tool, "description", function, where);
      !description) {
    return std::unexpected(description.error());
  }
  if (const json::value* parameters = present(tool, "parameters")) {
    if (!parameters->is_object()) {
      return invalid(where + ".parameters: must be an object (a JSON schema)",
                     where + ".parameters");
    }
    function["parameters"] = *parameters;
  }
  if (const json::value* strict = present(tool, "strict")) {
    if (!strict->is_bool()) {
      return invalid(where + ".strict: must be a boolean", where + ".strict");
    }
    function["strict"] = *strict;
  }
  json::object out(sp);
  out["type"] = "function";
  out["function"] = std::move(function);
  return out;
}

constexpr std::string_view kNamespaceSeparator = "__";

bool isNamespace(const json::value& tool) {
  const json::value* type = tool.is_object() ? tool.get_object().if_contains("type") : nullptr;
  return type != nullptr && type->is_string() && type->get_string() == "namespace";
}

// A `namespace` tool: {type, name, description, tools: [function tools]}, each of its functions
// appended to `decoded` as a chat function named chatFunctionName(namespace, name), its
// description after the namespace's (the model sees both, and DLP scans both).
Status decodeNamespace(const json::object& tool, const std::string& where, json::array& decoded) {
  if (Status keys = onlyKeys(tool, {"type", "name", "description", "tools"}, where); !keys) {
    return keys;
  }
  auto ns = stringAt(tool, "name", where);
  if (!ns) {
    return std::unexpected(ns.error());
  }
  std::string ns_description;
  if (const json::value* description = present(tool, "description")) {
    if (!description->is_string()) {
      return invalid(where + ".description: must be a string", where + ".description");
    }
    ns_description = description->get_string();
  }
  const json::value* tools = present(tool, "tools");
  if (tools == nullptr || !tools->is_array()) {
    return invalid(where + ".tools: must be an array of function tools", where + ".tools");
  }
  for (size_t i = 0; i < tools->get_array().size(); ++i) {
    const std::string at = where + ".tools[" + std::to_string(i) + "]";
    const json::value& inner = tools->get_array()[i];
    if (isNamespace(inner)) {
      return invalid(at + ": a namespace cannot hold a namespace", at);
    }
    auto function = decodeTool(inner, at, decoded.storage());
    if (!function) {
      return std::unexpected(function.error());
    }
    json::object& spec = function->at("function").as_object();
    spec["name"] = chatFunctionName(*ns, spec.at("name").as_string());
    if (!ns_description.empty()) {
      const json::value* own = spec.if_contains("description");
      spec["description"] =
          own != nullptr ? ns_description + "\n\n" + std::string(own->get_string())
                         : ns_description;
    }
    decoded.push_back(std::move(*function));
  }
  return {};
}

// A built-in tool (an object whose `type` names one).
bool builtInToolAt(const json::value& value) {
  const json::object* tool = value.if_object();
  const json::value* type = tool != nullptr ? tool->if_contains("type") : nullptr;
  return type != nullptr && type->is_string() && isBuiltInTool(type->get_string());
}

Status addTools(const json::object& request, json::object& out, bool builtin_tools) {
  if (const json::value* tools = present(request, "tools")) {
    if (!tools->is_array()) {
      return invalid("tools: must be an array", "tools");
    }
    json::array decoded(out.storage());
    for (size_t i = 0; i < tools->get_array().size(); ++i) {
      const std::string where = "tools[" + std::to_string(i) + "]";
      const json::value& tool = tools->get_array()[i];
      if (builtin_tools && builtInToolAt(tool)) {
        continue;  // passes through to the backend as the client sent it
      }
      if (isNamespace(tool)) {
        if (Status added = decodeNamespace(tool.get_object(), where, decoded); !added) {
          return added;
        }
        continue;
      }
      auto function = decodeTool(tool, where, out.storage());
      if (!function) {
        return std::unexpected(function.error());
      }
      decoded.push_back(std::move(*function));
    }
    if (!decoded.empty()) {
      out["tools"] = std::move(decoded);
    }
  }
  if (const json::value* choice = present(request, "tool_choice")) {
    if (choice->is_string()) {
      const json::string& mode = choice->get_string();
      if (mode != "auto" && mode != "none" && mode != "required") {
        return invalid("tool_choice: must be auto, none, required or a function", "tool_choice");
      }
      out["tool_choice"] = mode;
    } else if (builtin_tools && builtInToolAt(*choice)) {
      // Chooses a built-in tool: nothing in the canonical request.
    } else if (choice->is_object()) {
      const json::object& c = choice->get_object();
      auto type = stringAt(c, "type", "tool_choice");
      if (!type) {
        return std::unexpected(type.error());
      }
      if (*type != "function") {
        return isBuiltInTool(*type) ? builtInTool("tool_choice", *type)
                                    : invalid("tool_choice: unsupported type " + quotedName(*type) +
                                                  " (use a function)",
                                              "tool_choice");
      }
      if (Status keys = onlyKeys(c, {"type", "name"}, "tool_choice"); !keys) {
        return keys;
      }
      auto name = stringAt(c, "name", "tool_choice");
      if (!name) {
        return std::unexpected(name.error());
      }
      out["tool_choice"] = json::object{{"type", "function"}, {"function", {{"name", *name}}}};
    } else {
      return invalid("tool_choice: must be a string or an object", "tool_choice");
    }
  }
  if (const json::value* parallel = present(request, "parallel_tool_calls")) {
    if (!parallel->is_bool()) {
      return invalid("parallel_tool_calls: must be a boolean", "parallel_tool_calls");
    }
    out["parallel_tool_calls"] = *parallel;
  }
  return {};
}

// `text`: {format: text | json_object | json_schema, verbosity}.
Status addText(const json::object& request, json::object& out) {
  const json::value* text = present(request, "text");
  if (text == nullptr) {
    return {};
  }
  if (!text->is_object()) {
    return invalid("text: must be an object", "text");
  }
  if (Status keys = onlyKeys(text->get_object(), {"format", "verbosity"}, "text"); !keys) {
    return keys;
  }
  if (const json::value* verbosity = present(text->get_object(), "verbosity")) {
    if (!verbosity->is_string()) {
      return invalid("text.verbosity: must be a string", "text.verbosity");
    }
    out["verbosity"] = *verbosity;
  }
  const json::value* format = present(text->get_object(), "format");
  if (format == nullptr) {
    return {};
  }
  if (!format->is_object()) {
    return invalid("text.format: must be an object", "text.format");
  }
  const json::object& f = format->get_object();
  auto type = stringAt(f, "type", "text.format");
  if (!type) {
    return std::unexpected(type.error());
  }
  if (*type == "text" || *type == "json_object") {
    if (Status keys = onlyKeys(f, {"type"}, "text.format"); !keys) {
      return keys;
    }
    if (*type == "json_object") {
      out["response_format"] = json::object{{"type", "json_object"}};
    }
    return {};
  }
  if (*type != "json_schema") {
    return invalid("text.format.type: must be text, json_object or json_schema",
                   "text.format.type");
  }
  if (Status keys = onlyKeys(f, {"type", "name", "schema", "description", "strict"}, "text.format");
      !keys) {
    return keys;
  }
  auto name = stringAt(f, "name", "text.format");
  if (!name) {
    return std::unexpected(name.error());
  }
  const json::value* schema = f.if_contains("schema");
  if (schema == nullptr || !schema->is_object()) {
    return invalid("text.format.schema: must be an object (a JSON schema)", "text.format.schema");
  }
  json::object json_schema(out.storage());
  json_schema["name"] = *name;
  json_schema["schema"] = *schema;
  if (const json::value* description = present(f, "description")) {
    if (!description->is_string()) {
      return invalid("text.format.description: must be a string", "text.format.description");
    }
    json_schema["description"] = *description;
  }
  if (const json::value* strict = present(f, "strict")) {
    if (!strict->is_bool()) {
      return invalid("text.format.strict: must be a boolean", "text.format.strict");
    }
    json_schema["strict"] = *strict;
  }
  out["response_format"] =
      json::object{{"type", "json_schema"}, {"json_schema", std::move(json_schema)}};
  return {};
}

// `reasoning`: {effort, summary}; the effort is carried, the summary setting dropped (a chat
// backend has no summaries: the reasoning it streams is answered as the summary).
Status addReasoning(const json::object& request, json::object& out) {
  const json::value* reasoning = present(request, "reasoning");
  if (reasoning == nullptr) {
    return {};
  }
  if (!reasoning->is_object()) {
    return invalid("reasoning: must be an object", "reasoning");
  }
  const json::object& r = reasoning->get_object();
  if (Status keys = onlyKeys(r, {"effort", "summary", "generate_summary"}, "reasoning"); !keys) {
    return keys;
  }
  for (std::string_view key : {"summary", "generate_summary"}) {
    if (const json::value* v = present(r, key); v != nullptr && !v->is_string()) {
      return invalid("reasoning." + std::string(key) + ": must be a string",
                     "reasoning." + std::string(key));
    }
  }
  if (const json::value* effort = present(r, "effort")) {
    if (!effort->is_string()) {
      return invalid("reasoning.effort: must be a string", "reasoning.effort");
    }
    out["reasoning_effort"] = *effort;
  }
  return {};
}

// `metadata`-like fields: an object whose values are all strings.
Status checkStringMap(const json::value& value, const std::string& field) {
  bool strings = value.is_object();
  if (strings) {
    for (const auto& entry : value.get_object()) {
      strings = strings && entry.value().is_string();
    }
  }
  return strings ? Status{} : invalid(field + ": must be an object of strings", field);
}

// The fields copied as they are: numbers, booleans and strings.
Status addScalars(const json::object& request, json::object& out) {
  // OpenAI's documented kinds and ranges (null: the default, as OpenAI accepts it).
  constexpr inbound::FieldRule kRules[] = {
      {"temperature", inbound::Expect::Number, 0, 2},
      {"top_p", inbound::Expect::Number, 0, 1},
  };
  if (Status checked = inbound::checkFields(request, kRules, "request", true); !checked) {
    return checked;
  }
  for (std::string_view key : {"temperature", "top_p"}) {
    if (const json::value* v = present(request, key)) {
      out[key] = *v;
    }
  }
  if (const json::value* max = present(request, "max_output_tokens")) {
    const bool positive = (max->is_uint64() && max->get_uint64() > 0) ||
                          (max->is_int64() && max->get_int64() > 0);
    if (!positive) {
      return invalid("max_output_tokens: must be a positive integer", "max_output_tokens");
    }
    out["max_tokens"] = *max;  // its upper bound is checked by the decode phase
  }
  for (std::string_view key : {"user", "service_tier", "prompt_cache_key", "safety_identifier"}) {
    if (const json::value* v = present(request, key)) {
      if (!v->is_string()) {
        return invalid(std::string(key) + ": must be a string", std::string(key));
      }
      out[key] = *v;
    }
  }
  if (const json::value* metadata = present(request, "metadata")) {
    if (Status strings = checkStringMap(*metadata, "metadata"); !strings) {
      return strings;
    }
    out["metadata"] = *metadata;  // client data: DLP scans every key and value
  }
  if (const json::value* stream = request.if_contains("stream")) {
    out["stream"] = *stream;  // a boolean: checked by the decode phase
    if (stream->is_bool() && stream->get_bool()) {
      out["stream_options"] = json::object{{"include_usage", true}};
    }
  }
  return {};
}

// The fields accepted without being forwarded: checked, so a malformed or unserved one is a 400.
Status checkAccepted(const json::object& request) {
  // The Codex CLI's labels for its own requests (turn and session ids): not forwarded.
  if (const json::value* labels = present(request, "client_metadata")) {
    if (Status strings = checkStringMap(*labels, "client_metadata"); !strings) {
      return strings;
    }
  }
  for (std::string_view key : {"store", "background"}) {
    if (const json::value* v = present(request, key); v != nullptr && !v->is_bool()) {
      return invalid(std::string(key) + ": must be a boolean", std::string(key));
    }
  }
  if (const json::value* background = present(request, "background");
      background != nullptr && background->get_bool()) {
    return invalid("background: background responses are not supported", "background");
  }
  if (const json::value* truncation = present(request, "truncation");
      truncation != nullptr &&
      !(truncation->is_string() &&
        (truncation->get_string() == "auto" || truncation->get_string() == "disabled"))) {
    return invalid("truncation: must be auto or disabled", "truncation");
  }
  if (const json::value* include = present(request, "include")) {
    constexpr std::string_view kIncludable[] = {
        "reasoning.encrypted_content",   "message.output_text.logprobs",
        "message.input_image.image_url", "computer_call_output.output.image_url",
        "file_search_call.results",      "code_interpreter_call.outputs",
        "web_search_call.results",       "web_search_call.action.sources"};
    if (!include->is_array()) {
      return invalid("include: must be an array of strings", "include");
    }
    for (const json::value& value : include->get_array()) {
      bool known = false;
      for (std::string_view name : kIncludable) {
        known = known || (value.is_string() && value.get_string() == name);
      }
      if (!known) {
        return invalid(
            "include: unsupported value " +
                (value.is_string() ? quotedName(value.get_string()) : inbound::describe(value)),
            "include");
      }
    }
  }
  if (const json::value* max = present(request, "max_tool_calls");
      max != nullptr && !max->is_number()) {
    return invalid("max_tool_calls: must be a number", "max_tool_calls");
  }
  if (const json::value* top = present(request, "top_logprobs");
      top != nullptr && !(top->is_number() && top->to_number<double>() == 0)) {
    return invalid("top_logprobs: log probabilities are not supported", "top_logprobs");
  }
  if (const json::value* options = present(request, "stream_options")) {
    if (!options->is_object()) {
      return invalid("stream_options: must be an object", "stream_options");
    }
    return onlyKeys(options->get_object(), {"include_obfuscation"}, "stream_options");
  }
  return {};
}

}  // namespace

bool usesBuiltInTools(const json::object& request) {
  const json::value* tools = present(request, "tools");
  if (tools != nullptr && tools->is_array()) {
    for (const json::value& tool : tools->get_array()) {
      if (builtInToolAt(tool)) {
        return true;
      }
    }
  }
  const json::value* choice = present(request, "tool_choice");
  return choice != nullptr && builtInToolAt(*choice);
}

Status addSettings(const json::object& request, json::object& out, bool builtin_tools) {
  if (Status tools = addTools(request, out, builtin_tools); !tools) {
    return tools;
  }
  for (const auto step : {addText, addReasoning, addScalars}) {
    if (Status ok = step(request, out); !ok) {
      return ok;
    }
  }
  return checkAccepted(request);
}

json::object echo(const json::object& request, json::storage_ptr sp) {
  json::object out(sp);
  const auto copy = [&](std::string_view key, json::value fallback) {
    const json::value* v = present(request, key);
    out[key] = v != nullptr ? json::value(*v, sp) : json::value(std::move(fallback), sp);
  };
  copy("instructions", nullptr);
  copy("max_output_tokens", nullptr);
  copy("metadata", json::object{});
  copy("parallel_tool_calls", true);
  copy("previous_response_id", nullptr);
  copy("reasoning", json::object{{"effort", nullptr}, {"summary", nullptr}});
  copy("service_tier", "default");
  out["store"] = false;  // the pipeline says true when it will store the answer
  copy("temperature", 1.0);
  copy("text", json::object{{"format", {{"type", "text"}}}});
  copy("tool_choice", "auto");
  copy("tools", json::array{});
  copy("top_p", 1.0);
  copy("truncation", "disabled");
  copy("user", nullptr);
  return out;
}

std::string chatFunctionName(std::string_view ns, std::string_view name) {
  std::string out(ns);
  out += kNamespaceSeparator;
  out += name;
  return out;
}

FunctionName responsesFunctionName(std::string_view chat_name, const json::object* echo) {
  const json::value* tools = echo != nullptr ? echo->if_contains("tools") : nullptr;
  if (tools != nullptr && tools->is_array()) {
    for (const json::value& tool : tools->get_array()) {
      if (!isNamespace(tool)) {
        continue;
      }
      const json::object& group = tool.get_object();
      const json::value* ns = group.if_contains("name");
      const json::value* inner = group.if_contains("tools");
      if (ns == nullptr || !ns->is_string() || inner == nullptr || !inner->is_array()) {
        continue;
      }
      const std::string_view prefix = ns->get_string();
      if (!chat_name.starts_with(prefix) ||
          !chat_name.substr(prefix.size()).starts_with(kNamespaceSeparator)) {
        continue;
      }
      const std::string_view name = chat_name.substr(prefix.size() + kNamespaceSeparator.size());
      for (const json::value& function : inner->get_array()) {
        const json::value* declared =
            function.is_object() ? function.get_object().if_contains("name") : nullptr;
        if (declared != nullptr && declared->is_string() && declared->get_string() == name) {
          return {std::string(prefix), std::string(name)};
        }
      }
    }
  }
  return {"", std::string(chat_name)};
}

}  // namespace sy::connectors::responses
