#include "connectors/anthropic_inbound.h"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "connectors/inbound_fields.h"
#include "core/json_text.h"

namespace sy::connectors {
namespace {

namespace json = boost::json;

using inbound::describe;
using inbound::invalid;
using inbound::onlyKeys;
using inbound::present;
using inbound::stringAt;

// A text content part, keeping `cache_control` (its order among the parts is kept too).
json::object textPart(std::string_view text, const json::object& block, json::storage_ptr sp) {
  json::object part(sp);
  part["type"] = "text";
  part["text"] = text;
  if (const json::value* cache = block.if_contains("cache_control")) {
    part["cache_control"] = *cache;
  }
  return part;
}

Result<json::object> imagePart(const json::object& block, const std::string& where,
                               json::storage_ptr sp) {
  const json::value* source = block.if_contains("source");
  if (source == nullptr || !source->is_object()) {
    return invalid(where + ".source: must be an object");
  }
  const json::object& src = source->get_object();
  auto type = stringAt(src, "type", where + ".source");
  if (!type) {
    return std::unexpected(type.error());
  }
  std::string url;
  if (*type == "base64") {
    auto media = stringAt(src, "media_type", where + ".source");
    auto data = stringAt(src, "data", where + ".source");
    if (!media || !data) {
      return std::unexpected(!media ? media.error() : data.error());
    }
    url = "data:" + std::string(*media) + ";base64," + std::string(*data);
  } else if (*type == "url") {
    auto link = stringAt(src, "url", where + ".source");
    if (!link) {
      return std::unexpected(link.error());
    }
    url = *link;
  } else {
    return invalid(where + ".source.type: unsupported image source " + quotedName(*type));
  }
  json::object part(sp);
  part["type"] = "image_url";
  part["image_url"] = json::object{{"url", url}};
  return part;
}

// Text of a tool_result's `content` (a string, or text blocks).
Result<std::string> toolResultText(const json::object& block, const std::string& where) {
  const json::value* content = block.if_contains("content");
  std::string text;
  if (content == nullptr || content->is_null()) {
    // an empty result
  } else if (content->is_string()) {
    text = content->get_string();
  } else if (content->is_array()) {
    const json::array& parts = content->get_array();
    for (size_t i = 0; i < parts.size(); ++i) {
      const std::string at = where + ".content[" + std::to_string(i) + "]";
      if (!parts[i].is_object()) {
        return invalid(at + ": must be an object");
      }
      auto type = stringAt(parts[i].get_object(), "type", at);
      if (!type) {
        return std::unexpected(type.error());
      }
      if (*type != "text") {
        return invalid(at + ": unsupported tool_result block type " + quotedName(*type) +
                       " (only text)");
      }
      auto piece = stringAt(parts[i].get_object(), "text", at);
      if (!piece) {
        return std::unexpected(piece.error());
      }
      if (!text.empty()) {
        text += "\n";
      }
      text += *piece;
    }
  } else {
    return invalid(where + ".content: must be a string or an array of text blocks");
  }
  const json::value* is_error = block.if_contains("is_error");
  if (is_error != nullptr && is_error->is_bool() && is_error->get_bool()) {
    text.insert(0, "Error: ");
  }
  return text;
}

// The content of a user/assistant/system message with text parts only and no cache_control
// becomes a plain string (every OpenAI-compatible server takes that); otherwise a parts array.
json::value contentValue(json::array parts, json::storage_ptr sp) {
  std::string joined;
  for (const json::value& part : parts) {
    const json::object& p = part.get_object();
    if (p.at("type").get_string() != "text" || p.contains("cache_control")) {
      return json::value(std::move(parts), sp);
    }
    joined += p.at("text").get_string();
  }
  return json::value(json::string(joined, sp));
}

// Decodes one message into `out` (one or more canonical messages).
Status decodeMessage(const json::value& message, size_t index, json::array& out,
                     json::storage_ptr sp) {
  const std::string where = "messages[" + std::to_string(index) + "]";
  if (!message.is_object()) {
    return invalid(where + ": must be an object");
  }
  const json::object& m = message.get_object();
  if (Status keys = onlyKeys(m, {"role", "content"}, where); !keys) {
    return keys;
  }
  auto role = stringAt(m, "role", where);
  if (!role) {
    return std::unexpected(role.error());
  }
  if (*role != "user" && *role != "assistant" && *role != "system") {
    return invalid(where + ".role: must be 'user' or 'assistant', not " + quotedName(*role));
  }
  const json::value* content = m.if_contains("content");
  if (content != nullptr && content->is_string()) {
    out.push_back(
        json::value(json::object{{"role", *role}, {"content", content->get_string()}}, sp));
    return {};
  }
  if (content == nullptr || !content->is_array()) {
    return invalid(where + ".content: must be a string or an array of content blocks");
  }
  json::array parts(sp);
  json::array tool_calls(sp);
  for (size_t b = 0; b < content->get_array().size(); ++b) {
    const json::value& item = content->get_array()[b];
    const std::string at = where + ".content[" + std::to_string(b) + "]";
    if (!item.is_object()) {
      return invalid(at + ": must be an object");
    }
    const json::object& block = item.get_object();
    auto type = stringAt(block, "type", at);
    if (!type) {
      return std::unexpected(type.error());
    }
    if (*type == "text") {
      auto text = stringAt(block, "text", at);
      if (!text) {
        return std::unexpected(text.error());
      }
      parts.push_back(textPart(*text, block, sp));
    } else if (*type == "image" && *role == "user") {
      auto part = imagePart(block, at, sp);
      if (!part) {
        return std::unexpected(part.error());
      }
      parts.push_back(std::move(*part));
    } else if (*type == "document" && *role == "user") {
      const json::value* source = block.if_contains("source");
      const json::object* src = source != nullptr ? source->if_object() : nullptr;
      const json::value* kind = src != nullptr ? src->if_contains("type") : nullptr;
      if (kind == nullptr || !kind->is_string() || kind->get_string() != "text") {
        return invalid(at + ".source: only text documents are supported");
      }
      auto data = stringAt(*src, "data", at + ".source");
      if (!data) {
        return std::unexpected(data.error());
      }
      parts.push_back(textPart(*data, block, sp));
    } else if (*type == "tool_use" && *role == "assistant") {
      auto id = stringAt(block, "id", at);
      auto name = stringAt(block, "name", at);
      if (!id || !name) {
        return std::unexpected(!id ? id.error() : name.error());
      }
      const json::value* input = block.if_contains("input");
      if (input == nullptr || !input->is_object()) {
        return invalid(at + ".input: must be an object");
      }
      tool_calls.push_back(json::value(
          json::object{{"id", *id},
                       {"type", "function"},
                       {"function", {{"name", *name}, {"arguments", json::serialize(*input)}}}},
          sp));
    } else if (*type == "tool_result" && *role == "user") {
      auto id = stringAt(block, "tool_use_id", at);
      if (!id) {
        return std::unexpected(id.error());
      }
      auto text = toolResultText(block, at);
      if (!text) {
        return std::unexpected(text.error());
      }
      // Tool results answer the previous assistant turn: they come before the user's own text.
      out.push_back(json::value(
          json::object{{"role", "tool"}, {"tool_call_id", *id}, {"content", *text}}, sp));
    } else if ((*type == "thinking" || *type == "redacted_thinking") && *role == "assistant") {
      continue;
    } else {
      return invalid(at + ": unsupported content block type " + quotedName(*type) + " in a " +
                     std::string(*role) + " message");
    }
  }
  if (parts.empty() && tool_calls.empty()) {
    return {};  // only tool results (or thinking)
  }
  json::object canonical(sp);
  canonical["role"] = *role;
  canonical["content"] = parts.empty() ? json::value(nullptr) : contentValue(std::move(parts), sp);
  if (!tool_calls.empty()) {
    canonical["tool_calls"] = std::move(tool_calls);
  }
  out.push_back(std::move(canonical));
  return {};
}

Status decodeSystem(const json::value& system, json::array& out, json::storage_ptr sp) {
  if (system.is_string()) {
    if (!system.get_string().empty()) {
      out.push_back(
          json::value(json::object{{"role", "system"}, {"content", system.get_string()}}, sp));
    }
    return {};
  }
  if (!system.is_array()) {
    return invalid("system: must be a string or an array of text blocks");
  }
  json::array parts(sp);
  for (size_t i = 0; i < system.get_array().size(); ++i) {
    const std::string at = "system[" + std::to_string(i) + "]";
    const json::value& item = system.get_array()[i];
    if (!item.is_object()) {
      return invalid(at + ": must be a text block");
    }
    auto type = stringAt(item.get_object(), "type", at);
    auto text = stringAt(item.get_object(), "text", at);
    if (!type || *type != "text" || !text) {
      return invalid(at + ": must be a text block");
    }
    parts.push_back(textPart(*text, item.get_object(), sp));
  }
  if (!parts.empty()) {
    out.push_back(json::value(
        json::object{{"role", "system"}, {"content", contentValue(std::move(parts), sp)}}, sp));
  }
  return {};
}

Result<json::array> decodeTools(const json::value& tools, json::storage_ptr sp) {
  if (!tools.is_array()) {
    return invalid("tools: must be an array");
  }
  json::array out(sp);
  for (size_t i = 0; i < tools.get_array().size(); ++i) {
    const std::string at = "tools[" + std::to_string(i) + "]";
    const json::value& item = tools.get_array()[i];
    if (!item.is_object()) {
      return invalid(at + ": must be an object");
    }
    const json::object& tool = item.get_object();
    if (const json::value* type = tool.if_contains("type");
        type != nullptr && !(type->is_string() && type->get_string() == "custom")) {
      return invalid(at + ": server tools (type " +
                     (type->is_string() ? quotedName(type->get_string()) : describe(*type)) +
                     ") are not supported through the gateway; declare custom tools");
    }
    if (Status keys = onlyKeys(tool,
                               {"type", "name", "description", "input_schema", "cache_control",
                                "eager_input_streaming"},
                               at);
        !keys) {
      return std::unexpected(keys.error());
    }
    // Fine-grained streaming of this tool's input (the Vercel AI SDK's default when streaming):
    // how the upstream paces the arguments, nothing a chat-completions backend has, so dropped.
    if (const json::value* eager = present(tool, "eager_input_streaming");
        eager != nullptr && !eager->is_bool()) {
      return invalid(at + ".eager_input_streaming: must be a boolean");
    }
    auto name = stringAt(tool, "name", at);
    if (!name) {
      return std::unexpected(name.error());
    }
    json::object function(sp);
    function["name"] = *name;
    if (const json::value* description = tool.if_contains("description")) {
      if (!description->is_string()) {
        return invalid(at + ".description: must be a string");
      }
      function["description"] = *description;
    }
    const json::value* schema = tool.if_contains("input_schema");
    if (schema == nullptr || !schema->is_object()) {
      return invalid(at + ".input_schema: must be an object (a JSON schema)");
    }
    function["parameters"] = *schema;
    out.push_back(
        json::value(json::object{{"type", "function"}, {"function", std::move(function)}}, sp));
  }
  return out;
}

Status decodeToolChoice(const json::value& choice, json::object& out) {
  if (!choice.is_object()) {
    return invalid("tool_choice: must be an object");
  }
  const json::object& c = choice.get_object();
  auto type = stringAt(c, "type", "tool_choice");
  if (!type) {
    return std::unexpected(type.error());
  }
  if (*type == "auto") {
    out["tool_choice"] = "auto";
  } else if (*type == "any") {
    out["tool_choice"] = "required";
  } else if (*type == "none") {
    out["tool_choice"] = "none";
  } else if (*type == "tool") {
    auto name = stringAt(c, "name", "tool_choice");
    if (!name) {
      return std::unexpected(name.error());
    }
    out["tool_choice"] = json::object{{"type", "function"}, {"function", {{"name", *name}}}};
  } else {
    return invalid("tool_choice.type: must be auto, any, tool or none");
  }
  if (const json::value* parallel = c.if_contains("disable_parallel_tool_use");
      parallel != nullptr && parallel->is_bool() && parallel->get_bool()) {
    out["parallel_tool_calls"] = false;
  }
  return {};
}

// Anthropic's documented kinds and ranges of the sampling fields (not nullable).
constexpr inbound::FieldRule kParameterRules[] = {
    {"temperature", inbound::Expect::Number, 0, 1},
    {"top_p", inbound::Expect::Number, 0, 1},
    {"top_k", inbound::Expect::Integer, 0},
};  // max_tokens and stream: checked by the decode phase on the canonical request

// The sampling and metadata fields.
Status decodeParameters(const json::object& request, json::object& out) {
  if (Status checked = inbound::checkFields(request, kParameterRules, "request", false);
      !checked) {
    return checked;
  }
  for (std::string_view key : {"temperature", "top_p"}) {
    if (const json::value* v = request.if_contains(key)) {
      out[key] = *v;
    }
  }
  if (const json::value* stop = request.if_contains("stop_sequences")) {
    if (!stop->is_array()) {
      return invalid("stop_sequences: must be an array of strings");
    }
    for (const json::value& s : stop->get_array()) {
      if (!s.is_string()) {
        return invalid("stop_sequences: must be an array of strings");
      }
    }
    if (!stop->get_array().empty()) {
      out["stop"] = *stop;
    }
  }
  if (const json::value* metadata = request.if_contains("metadata")) {
    if (!metadata->is_object()) {
      return invalid("metadata: must be an object");
    }
    if (Status keys = onlyKeys(metadata->get_object(), {"user_id"}, "metadata"); !keys) {
      return keys;
    }
    if (const json::value* user = metadata->get_object().if_contains("user_id")) {
      if (!user->is_string() && !user->is_null()) {
        return invalid("metadata.user_id: must be a string");
      }
      if (user->is_string()) {
        out["user"] = *user;
      }
    }
  }
  return {};
}

}  // namespace

Result<json::object> anthropicToChat(const json::object& request, json::storage_ptr sp,
                                     bool count_tokens) {
  if (Status keys =
          onlyKeys(request,
                   {"model", "messages", "max_tokens", "system", "stream", "stop_sequences",
                    "temperature", "top_p", "top_k", "tools", "tool_choice", "metadata", "thinking",
                    "service_tier", "context_management", "output_config"},
                   "request");
      !keys) {
    return std::unexpected(keys.error());
  }
  json::object out(sp);
  if (const json::value* model = request.if_contains("model")) {
    out["model"] = *model;  // checked by the decode phase, as for chat completions
  }
  const json::value* max_tokens = request.if_contains("max_tokens");
  if (!count_tokens) {
    if (max_tokens == nullptr) {
      return invalid("max_tokens: Field required");
    }
    out["max_tokens"] = *max_tokens;  // a positive integer: checked by the decode phase
  }
  json::array messages(sp);
  if (const json::value* system = request.if_contains("system")) {
    if (Status decoded = decodeSystem(*system, messages, sp); !decoded) {
      return std::unexpected(decoded.error());
    }
  }
  const json::value* input = request.if_contains("messages");
  if (input == nullptr || !input->is_array() || input->get_array().empty()) {
    return invalid("messages: must be a non-empty array");
  }
  for (size_t i = 0; i < input->get_array().size(); ++i) {
    if (Status decoded = decodeMessage(input->get_array()[i], i, messages, sp); !decoded) {
      return std::unexpected(decoded.error());
    }
  }
  out["messages"] = std::move(messages);
  if (const json::value* tools = request.if_contains("tools")) {
    auto decoded = decodeTools(*tools, sp);
    if (!decoded) {
      return std::unexpected(decoded.error());
    }
    if (!decoded->empty()) {
      out["tools"] = std::move(*decoded);
    }
  }
  if (const json::value* choice = request.if_contains("tool_choice")) {
    if (Status decoded = decodeToolChoice(*choice, out); !decoded) {
      return std::unexpected(decoded.error());
    }
  }
  if (Status decoded = decodeParameters(request, out); !decoded) {
    return std::unexpected(decoded.error());
  }
  if (const json::value* stream = request.if_contains("stream")) {
    out["stream"] = *stream;  // a boolean: checked by the decode phase
    if (stream->is_bool() && stream->get_bool()) {
      out["stream_options"] = json::object{{"include_usage", true}};
    }
  }
  return out;
}

}  // namespace sy::connectors
