#include "connectors/responses_inbound.h"

#include <boost/json/value.hpp>
#include <string>

#include "connectors/inbound_fields.h"
#include "connectors/responses_params.h"
#include "core/json_text.h"

namespace sy::connectors {
namespace {

namespace json = boost::json;

using inbound::copyOptionalString;
using inbound::invalid;
using inbound::present;
using inbound::onlyKeys;
using inbound::stringAt;

std::string indexed(const std::string& where, size_t i) {
  return where + "[" + std::to_string(i) + "]";
}

// The Responses-only features that need a response store, which this gateway does not have.
std::unexpected<Error> needsStore(const std::string& field) {
  return invalid(field + " requires the response store; it is not enabled by this gateway's policy",
                 field);
}

// One content part of a message into a canonical content part ({type:text|image_url|file}).
Result<json::object> decodePart(const json::value& value, std::string_view role,
                                const std::string& where, json::storage_ptr sp) {
  if (!value.is_object()) {
    return invalid(where + ": must be an object", where);
  }
  const json::object& part = value.get_object();
  auto type = stringAt(part, "type", where);
  if (!type) {
    return std::unexpected(type.error());
  }
  json::object out(sp);
  if (*type == "input_text" || *type == "output_text" || *type == "refusal") {
    const bool refusal = *type == "refusal";
    if (Status keys = onlyKeys(part, {"type", "text", "refusal", "annotations", "logprobs"}, where);
        !keys) {
      return std::unexpected(keys.error());
    }
    auto text = stringAt(part, refusal ? "refusal" : "text", where);
    if (!text) {
      return std::unexpected(text.error());
    }
    out["type"] = "text";  // earlier answers' annotations (citations) are dropped with them
    out["text"] = *text;
    return out;
  }
  if (role != "user") {
    return invalid(where + ": " + std::string(role) + " messages hold text parts only, not " +
                       quotedName(*type),
                   where);
  }
  if (*type == "input_image") {
    if (Status keys = onlyKeys(part, {"type", "image_url", "file_id", "detail"}, where); !keys) {
      return std::unexpected(keys.error());
    }
    if (present(part, "file_id") != nullptr) {
      return invalid(where +
                         ".file_id: files stored at OpenAI are not supported; send the image "
                         "as image_url (a URL or a data URL)",
                     where + ".file_id");
    }
    auto url = stringAt(part, "image_url", where);
    if (!url) {
      return std::unexpected(url.error());
    }
    json::object image(sp);
    image["url"] = *url;
    if (Status detail = copyOptionalString(part, "detail", image, where); !detail) {
      return std::unexpected(detail.error());
    }
    out["type"] = "image_url";
    out["image_url"] = std::move(image);
    return out;
  }
  if (*type == "input_file") {
    if (Status keys =
            onlyKeys(part, {"type", "file_data", "file_id", "filename", "file_url"}, where);
        !keys) {
      return std::unexpected(keys.error());
    }
    if (present(part, "file_id") != nullptr || present(part, "file_url") != nullptr) {
      return invalid(where + ": only files sent inline (file_data) are supported", where);
    }
    auto data = stringAt(part, "file_data", where);
    if (!data) {
      return std::unexpected(data.error());
    }
    json::object file(sp);
    file["file_data"] = *data;
    if (Status name = copyOptionalString(part, "filename", file, where); !name) {
      return std::unexpected(name.error());
    }
    out["type"] = "file";
    out["file"] = std::move(file);
    return out;
  }
  return invalid(where + ": unsupported content part type " + quotedName(*type), where);
}

// A message's content: one string when it is text only (what every OpenAI-compatible server
// takes), else the parts.
json::value contentValue(json::array parts, json::storage_ptr sp) {
  std::string joined;
  for (const json::value& part : parts) {
    if (part.get_object().at("type").get_string() != "text") {
      return json::value(std::move(parts), sp);
    }
    joined += part.get_object().at("text").get_string();
  }
  return json::value(json::string(joined, sp));
}

// The canonical messages being built, and whether the last one is an assistant turn that a
// following function_call joins.
struct Conversation {
  json::array& messages;
  json::storage_ptr sp;
  bool assistant_open = false;
};

Status decodeMessage(const json::object& item, const std::string& where, Conversation& out) {
  if (Status keys = onlyKeys(item, {"type", "role", "content", "id", "status"}, where); !keys) {
    return keys;
  }
  auto role = stringAt(item, "role", where);
  if (!role) {
    return std::unexpected(role.error());
  }
  if (*role != "user" && *role != "assistant" && *role != "system" && *role != "developer") {
    return invalid(
        where + ".role: must be user, assistant, system or developer, not " + quotedName(*role),
        where + ".role");
  }
  // `developer` is OpenAI's newer name for system instructions; self-hosted chat templates know
  // only `system`.
  const std::string_view canonical_role = *role == "developer" ? "system" : *role;
  const json::value* content = item.if_contains("content");
  json::object message(out.sp);
  message["role"] = canonical_role;
  if (content != nullptr && content->is_string()) {
    message["content"] = content->get_string();
  } else if (content != nullptr && content->is_array()) {
    json::array parts(out.sp);
    for (size_t i = 0; i < content->get_array().size(); ++i) {
      auto part = decodePart(content->get_array()[i], canonical_role,
                             indexed(where + ".content", i), out.sp);
      if (!part) {
        return std::unexpected(part.error());
      }
      parts.push_back(std::move(*part));
    }
    message["content"] = contentValue(std::move(parts), out.sp);
  } else {
    return invalid(where + ".content: must be a string or an array of content parts",
                   where + ".content");
  }
  out.messages.push_back(std::move(message));
  out.assistant_open = canonical_role == "assistant";
  return {};
}

Status decodeFunctionCall(const json::object& item, const std::string& where, Conversation& out) {
  if (Status keys =
          onlyKeys(item, {"type", "id", "call_id", "namespace", "name", "arguments", "status"}, where);
      !keys) {
    return keys;
  }
  auto call_id = stringAt(item, "call_id", where);
  auto name = stringAt(item, "name", where);
  auto arguments = stringAt(item, "arguments", where);
  if (!call_id || !name || !arguments) {
    return std::unexpected(!call_id ? call_id.error() : !name ? name.error() : arguments.error());
  }
  std::string function_name(*name);
  if (item.contains("namespace")) {  // a function of a namespace tool (responses_params.h)
    auto ns = stringAt(item, "namespace", where);
    if (!ns) {
      return std::unexpected(ns.error());
    }
    function_name = responses::chatFunctionName(*ns, *name);
  }
  json::object call(out.sp);
  call["id"] = *call_id;
  call["type"] = "function";
  call["function"] = json::object{{"name", function_name}, {"arguments", *arguments}};
  if (!out.assistant_open) {
    out.messages.push_back(json::object{{"role", "assistant"}, {"content", nullptr}});
    out.assistant_open = true;
  }
  json::object& assistant = out.messages.back().get_object();
  json::value& calls = assistant["tool_calls"];
  if (!calls.is_array()) {
    calls = json::array(out.sp);
  }
  calls.get_array().push_back(std::move(call));
  return {};
}

// A function_call_output's `output`: a string, or text parts (a tool message carries text).
Result<std::string> toolOutput(const json::object& item, const std::string& where) {
  const json::value* output = item.if_contains("output");
  if (output != nullptr && output->is_string()) {
    return std::string(output->get_string());
  }
  if (output == nullptr || !output->is_array()) {
    return invalid(where + ".output: must be a string or an array of input_text parts",
                   where + ".output");
  }
  std::string text;
  for (size_t i = 0; i < output->get_array().size(); ++i) {
    const std::string at = indexed(where + ".output", i);
    const json::value& part = output->get_array()[i];
    auto type = part.is_object() ? stringAt(part.get_object(), "type", at)
                                 : invalid(at + ": must be an object", at);
    if (!type) {
      return std::unexpected(type.error());
    }
    if (*type != "input_text") {
      return invalid(
          at + ": unsupported tool output part " + quotedName(*type) + " (only input_text)", at);
    }
    if (Status keys = onlyKeys(part.get_object(), {"type", "text"}, at); !keys) {
      return std::unexpected(keys.error());
    }
    auto piece = stringAt(part.get_object(), "text", at);
    if (!piece) {
      return std::unexpected(piece.error());
    }
    text += *piece;
  }
  return text;
}

Status decodeItem(const json::value& value, const std::string& where, Conversation& out) {
  if (!value.is_object()) {
    return invalid(where + ": must be an object", where);
  }
  const json::object& item = value.get_object();
  const json::value* type_value = item.if_contains("type");
  if (type_value == nullptr && item.contains("role")) {
    return decodeMessage(item, where, out);  // an "easy" input message: {role, content}
  }
  auto type = stringAt(item, "type", where);
  if (!type) {
    return std::unexpected(type.error());
  }
  if (*type == "message") {
    return decodeMessage(item, where, out);
  }
  if (*type == "function_call") {
    return decodeFunctionCall(item, where, out);
  }
  out.assistant_open = false;
  if (*type == "function_call_output") {
    if (Status keys = onlyKeys(item, {"type", "id", "call_id", "output", "status"}, where); !keys) {
      return keys;
    }
    auto call_id = stringAt(item, "call_id", where);
    if (!call_id) {
      return std::unexpected(call_id.error());
    }
    auto text = toolOutput(item, where);
    if (!text) {
      return std::unexpected(text.error());
    }
    out.messages.push_back(
        json::object{{"role", "tool"}, {"tool_call_id", *call_id}, {"content", *text}});
    return {};
  }
  if (*type == "reasoning") {
    // An earlier turn's reasoning: only meaningful to the model that wrote it (and its
    // encrypted_content only to OpenAI). Dropped, never forwarded.
    return onlyKeys(item, {"type", "id", "summary", "content", "encrypted_content", "status"},
                    where);
  }
  if (*type == "item_reference") {
    // Items are stored whole, per conversation; references to single items are not resolved.
    return invalid(where + ": item_reference items are not supported; send the item itself, or "
                           "continue a stored conversation with previous_response_id",
                   where);
  }
  return invalid(where + ": unsupported input item type " + quotedName(*type), where);
}

Status decodeInput(const json::object& request, const json::array* prior, Conversation& out) {
  if (prior != nullptr) {
    for (size_t i = 0; i < prior->size(); ++i) {
      if (Status decoded = decodeItem((*prior)[i], indexed("previous_response_id.items", i), out);
          !decoded) {
        return decoded;
      }
    }
  }
  const json::value* input = request.if_contains("input");
  if (input != nullptr && input->is_string()) {
    out.messages.push_back(json::object{{"role", "user"}, {"content", input->get_string()}});
    return {};
  }
  if (input == nullptr || !input->is_array()) {
    return invalid("input: must be a string or an array of input items", "input");
  }
  for (size_t i = 0; i < input->get_array().size(); ++i) {
    if (Status decoded = decodeItem(input->get_array()[i], indexed("input", i), out); !decoded) {
      return decoded;
    }
  }
  return {};
}

}  // namespace

Result<json::object> responsesToChat(const json::object& request, json::storage_ptr sp,
                                     const json::array* prior, ResponsesDecodeOptions options) {
  if (Status keys = onlyKeys(request,
                             {"model",
                              "input",
                              "instructions",
                              "previous_response_id",
                              "tools",
                              "tool_choice",
                              "parallel_tool_calls",
                              "text",
                              "reasoning",
                              "max_output_tokens",
                              "temperature",
                              "top_p",
                              "metadata",
                              "user",
                              "service_tier",
                              "prompt_cache_key",
                              "safety_identifier",
                              "stream",
                              "stream_options",
                              "store",
                              "truncation",
                              "include",
                              "client_metadata",
                              "background",
                              "max_tool_calls",
                              "top_logprobs",
                              "prompt",
                              "conversation"},
                             "request");
      !keys) {
    return std::unexpected(keys.error());
  }
  for (std::string_view stored : {"prompt", "conversation"}) {
    if (present(request, stored) != nullptr) {
      return invalid(
          std::string(stored) + ": prompts and conversations stored at OpenAI are not supported",
          std::string(stored));
    }
  }
  if (const json::value* previous = present(request, "previous_response_id")) {
    if (!previous->is_string()) {
      return invalid("previous_response_id: must be a string", "previous_response_id");
    }
    if (prior == nullptr) {
      return needsStore("previous_response_id");
    }
  }
  json::object out(sp);
  if (const json::value* model = request.if_contains("model")) {
    out["model"] = *model;  // checked by the decode phase, as for chat completions
  }
  json::array messages(sp);
  if (const json::value* instructions = present(request, "instructions")) {
    if (!instructions->is_string()) {
      return invalid("instructions: must be a string", "instructions");
    }
    if (!instructions->get_string().empty()) {
      messages.push_back(json::object{{"role", "system"}, {"content", *instructions}});
    }
  }
  Conversation conversation{messages, sp};
  if (Status decoded = decodeInput(request, prior, conversation); !decoded) {
    return std::unexpected(decoded.error());
  }
  out["messages"] = std::move(messages);
  if (Status settings = responses::addSettings(request, out, options.builtin_tools); !settings) {
    return std::unexpected(settings.error());
  }
  return out;
}

bool usesBuiltInTools(const json::object& request) {
  return responses::usesBuiltInTools(request);
}

void inlinePriorItems(json::object& request, const json::array* prior) {
  if (prior == nullptr) {
    return;
  }
  json::array items(*prior, request.storage());
  if (const json::value* input = present(request, "input")) {
    if (input->is_string()) {
      items.push_back(json::object{{"role", "user"}, {"content", input->get_string()}});
    } else if (input->is_array()) {
      for (const json::value& item : input->get_array()) {
        items.push_back(item);
      }
    }
  }
  request["input"] = std::move(items);
  request.erase("previous_response_id");
}

json::object responsesEcho(const json::object& request, json::storage_ptr storage) {
  return responses::echo(request, std::move(storage));
}

}  // namespace sy::connectors
