// Request side of the Anthropic connector: OpenAI chat-completions body -> Messages request.
// Response translators are in anthropic_response.cc.
#include "connectors/anthropic.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "connectors/anthropic_params.h"

namespace sy::connectors {
namespace {

namespace json = boost::json;

constexpr std::string_view kAnthropicVersion = "2023-06-01";

std::unexpected<Error> invalid(std::string message, std::string code_id = "invalid_value") {
  return makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream, std::move(message),
                   std::move(code_id));
}

std::string indexed(std::string_view name, size_t i) {
  return std::string(name) + "[" + std::to_string(i) + "]";
}

bool isString(const json::value* value) { return value != nullptr && value->is_string(); }

// A text block, with the part's `cache_control` (prompt caching) carried through untouched.
json::object textBlock(const json::value& text, const json::object* part) {
  json::object block{{"type", "text"}, {"text", text}};
  if (part != nullptr) {
    if (const json::value* cache = part->if_contains("cache_control")) {
      block["cache_control"] = *cache;
    }
  }
  return block;
}

// image_url parts: a `data:<type>;base64,<data>` URL becomes a base64 source, http(s) a url one.
Result<json::object> imageBlock(const json::object& part, const std::string& where) {
  const json::value* image = part.if_contains("image_url");
  const json::value* url = image == nullptr     ? nullptr
                           : image->is_object() ? image->get_object().if_contains("url")
                                                : image;
  if (!isString(url)) {
    return invalid(where + ".image_url: must be a URL or {\"url\": ...}");
  }
  const std::string_view text = url->get_string();
  json::object source;
  if (text.starts_with("data:")) {
    const size_t marker = text.find(";base64,");
    if (marker == std::string_view::npos || marker <= 5) {
      return invalid(where + ".image_url: a data URL must be data:<media type>;base64,<data>");
    }
    source = {{"type", "base64"},
              {"media_type", text.substr(5, marker - 5)},
              {"data", text.substr(marker + 8)}};
  } else if (text.starts_with("https://") || text.starts_with("http://")) {
    source = {{"type", "url"}, {"url", text}};
  } else {
    return invalid(where + ".image_url: must be an http(s) or data: URL");
  }
  json::object block{{"type", "image"}, {"source", std::move(source)}};
  if (const json::value* cache = part.if_contains("cache_control")) {
    block["cache_control"] = *cache;
  }
  return block;
}

// A message's `content` (string, parts or null) as content blocks. `text_only` for system and
// tool messages. Empty text is skipped (Anthropic rejects empty text blocks).
Status appendContent(const json::value* content, const std::string& where, bool text_only,
                     json::array& out) {
  if (content == nullptr || content->is_null()) {
    return {};
  }
  if (content->is_string()) {
    if (!content->get_string().empty()) {
      out.push_back(textBlock(*content, nullptr));
    }
    return {};
  }
  if (!content->is_array()) {
    return invalid(where + ".content: must be a string or an array of content parts");
  }
  const json::array& parts = content->get_array();
  for (size_t p = 0; p < parts.size(); ++p) {
    const std::string at = where + indexed(".content", p);
    const json::object* part = parts[p].if_object();
    const json::value* type = part == nullptr ? nullptr : part->if_contains("type");
    const std::string_view kind = isString(type) ? std::string_view(type->get_string()) : "";
    const json::value* text = part == nullptr ? nullptr : part->if_contains(kind);
    if ((kind == "text" || kind == "refusal") && isString(text)) {
      if (!text->get_string().empty()) {
        out.push_back(textBlock(*text, part));
      }
    } else if (kind == "image_url" && !text_only) {
      auto block = imageBlock(*part, at);
      if (!block) {
        return std::unexpected(std::move(block.error()));
      }
      out.push_back(std::move(*block));
    } else {
      return invalid(at + ": content part type '" + std::string(kind) +
                         "' is not supported by anthropic backends here",
                     "unsupported_value");
    }
  }
  return {};
}

// tool_calls[i] -> a tool_use block. `arguments` must be a JSON object text: it becomes `input`.
Result<json::object> toolUse(const json::value& call, const std::string& where) {
  const json::object* object = call.if_object();
  const json::value* id = object == nullptr ? nullptr : object->if_contains("id");
  const json::value* function = object == nullptr ? nullptr : object->if_contains("function");
  const json::object* fn = function == nullptr ? nullptr : function->if_object();
  const json::value* name = fn == nullptr ? nullptr : fn->if_contains("name");
  if (!isString(id) || !isString(name)) {
    return invalid(where + ": a tool call needs an id and a function.name");
  }
  json::value input = json::object{};
  const json::value* arguments = fn->if_contains("arguments");
  if (isString(arguments) && !arguments->get_string().empty()) {
    boost::system::error_code ec;
    input = json::parse(arguments->get_string(), ec);
    if (ec || !input.is_object()) {
      return invalid(where +
                     ".function.arguments: not a JSON object (anthropic backends take "
                     "tool input as an object)");
    }
  } else if (arguments != nullptr && !arguments->is_null() && !isString(arguments)) {
    return invalid(where + ".function.arguments: must be a string holding a JSON object");
  }
  return json::object{{"type", "tool_use"}, {"id", *id}, {"name", *name}, {"input", input}};
}

Result<json::object> toolResult(const json::object& message, const std::string& where) {
  const json::value* id = message.if_contains("tool_call_id");
  if (!isString(id)) {
    return invalid(where + ".tool_call_id: required for a tool message");
  }
  json::object block{{"type", "tool_result"}, {"tool_use_id", *id}};
  const json::value* content = message.if_contains("content");
  if (content != nullptr && content->is_string()) {
    block["content"] = *content;
  } else {
    json::array blocks;
    if (Status ok = appendContent(content, where, /*text_only=*/true, blocks); !ok) {
      return std::unexpected(std::move(ok.error()));
    }
    block["content"] = std::move(blocks);
  }
  return block;
}

// Anthropic wants user and assistant turns alternating: a turn with the same role as the last
// one is merged into it.
void appendTurn(json::array& messages, std::string_view role, json::array&& blocks) {
  if (blocks.empty()) {
    return;
  }
  if (!messages.empty() && messages.back().as_object().at("role").as_string() == role) {
    json::array& content = messages.back().as_object().at("content").as_array();
    for (json::value& block : blocks) {
      content.push_back(std::move(block));
    }
    return;
  }
  messages.push_back(json::object{{"role", role}, {"content", std::move(blocks)}});
}

struct Conversation {
  json::array system;  // text blocks from every system/developer message, in order
  json::array messages;
};

// One OpenAI message into `out` (system hoisted, tool results as user turns).
Status addMessage(const json::object& message, size_t i, Conversation& out) {
  const std::string where = indexed("messages", i);
  const json::value* role_value = message.if_contains("role");
  const std::string_view role =
      isString(role_value) ? std::string_view(role_value->get_string()) : "";
  const json::value* content = message.if_contains("content");
  json::array blocks;
  if (role == "system" || role == "developer") {
    return appendContent(content, where, /*text_only=*/true, out.system);
  }
  if (role == "tool") {
    auto block = toolResult(message, where);
    if (!block) {
      return std::unexpected(std::move(block.error()));
    }
    blocks.push_back(std::move(*block));
    appendTurn(out.messages, "user", std::move(blocks));
    return {};
  }
  if (role != "user" && role != "assistant") {
    return invalid(where + ".role: '" + std::string(role) +
                       "' is not supported by anthropic backends (system, developer, user, "
                       "assistant, tool)",
                   "unsupported_value");
  }
  if (Status ok = appendContent(content, where, /*text_only=*/false, blocks); !ok) {
    return ok;
  }
  if (const json::value* calls = message.if_contains("tool_calls");
      role == "assistant" && calls != nullptr && calls->is_array()) {
    const json::array& list = calls->get_array();
    for (size_t c = 0; c < list.size(); ++c) {
      auto block = toolUse(list[c], where + indexed(".tool_calls", c));
      if (!block) {
        return std::unexpected(std::move(block.error()));
      }
      blocks.push_back(std::move(*block));
    }
  }
  appendTurn(out.messages, role, std::move(blocks));
  return {};
}

Result<Conversation> translateMessages(const json::object& body) {
  const json::value* messages = body.if_contains("messages");
  if (messages == nullptr || !messages->is_array() || messages->get_array().empty()) {
    return invalid("messages: must be a non-empty array");
  }
  Conversation out;
  const json::array& list = messages->get_array();
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_object()) {
      return invalid(indexed("messages", i) + ": must be an object");
    }
    if (Status ok = addMessage(list[i].get_object(), i, out); !ok) {
      return std::unexpected(std::move(ok.error()));
    }
  }
  // Anthropic reads tool results only at the start of a user turn.
  for (json::value& message : out.messages) {
    json::array& content = message.as_object().at("content").as_array();
    std::stable_partition(content.begin(), content.end(), [](const json::value& block) {
      return block.as_object().at("type").as_string() == "tool_result";
    });
  }
  return out;
}

}  // namespace

std::string anthropicTarget(std::string_view base_path) {
  std::string target(base_path);
  if (!target.ends_with("/v1")) {
    target += "/v1";
  }
  return target + "/messages";
}

Result<UpstreamRequest> AnthropicConnector::buildRequest(Endpoint endpoint,
                                                         boost::json::object& body,
                                                         const BackendSpec& backend,
                                                         std::string_view api_key,
                                                         std::string_view request_id) const {
  if (endpoint != Endpoint::ChatCompletions) {
    return makeError(
        ErrorCode::InvalidArgument, ErrorSource::Downstream,
        "backend '" + backend.name + "' is an anthropic backend, which has no embeddings endpoint",
        "unsupported_capability");
  }
  auto messages = toAnthropicMessages(body, backend.model, backend.max_tokens);
  if (!messages) {
    return std::unexpected(std::move(messages.error()));
  }
  const json::value* stream = messages->if_contains("stream");
  const bool streaming = stream != nullptr && stream->is_bool() && stream->get_bool();
  UpstreamRequest request;
  request.target = anthropicTarget(backend.address.base_path);
  request.body = json::serialize(*messages);
  request.headers.emplace_back("content-type", "application/json");
  request.headers.emplace_back("accept", streaming ? "text/event-stream" : "application/json");
  request.headers.emplace_back("anthropic-version", std::string(kAnthropicVersion));
  if (!api_key.empty()) {
    request.headers.emplace_back("x-api-key", std::string(api_key));
  }
  request.headers.emplace_back("x-request-id", std::string(request_id));
  return request;
}

std::unique_ptr<ResponseTranslator> AnthropicConnector::newTranslator(
    Endpoint /*endpoint*/, unsigned status, bool event_stream, bool client_wants_usage) const {
  return newAnthropicTranslator(status, event_stream, client_wants_usage);
}

Result<boost::json::object> toAnthropicMessages(const boost::json::object& body,
                                                std::string_view model,
                                                uint32_t default_max_tokens) {
  Status refused = anthropic::refuseUntranslatable(body);
  if (!refused) {
    return std::unexpected(std::move(refused.error()));
  }
  auto conversation = translateMessages(body);
  if (!conversation) {
    return std::unexpected(std::move(conversation.error()));
  }
  json::object out;
  out["model"] = model;
  if (!conversation->system.empty()) {
    out["system"] = anthropic::systemValue(std::move(conversation->system));
  }
  out["messages"] = std::move(conversation->messages);
  if (Status ok = anthropic::addParameters(body, default_max_tokens, out); !ok) {
    return std::unexpected(std::move(ok.error()));
  }
  return out;
}

}  // namespace sy::connectors
