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

namespace {

// The anthropic-beta features a passed-through request may carry: request fields the gateway
// passes (thinking between tool calls, context management, caching, longer outputs and contexts)
// and nothing that enables server-side tools or files, which the inbound decoder refuses.
constexpr std::string_view kForwardedBetas[] = {
    "context-1m-2025-08-07",           "context-management-2025-06-27",
    "extended-cache-ttl-2025-04-11",   "fine-grained-tool-streaming-2025-05-14",
    "interleaved-thinking-2025-05-14", "output-128k-2025-02-19",
    "prompt-caching-2024-07-31",       "token-efficient-tools-2025-02-19",
};

// The client's beta list, only the features above, comma-separated ("" when none).
std::string forwardedBetas(std::string_view header) {
  std::string out;
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view name = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!name.empty() && name.front() == ' ') {
      name.remove_prefix(1);
    }
    while (!name.empty() && name.back() == ' ') {
      name.remove_suffix(1);
    }
    if (std::find(std::begin(kForwardedBetas), std::end(kForwardedBetas), name) !=
            std::end(kForwardedBetas) &&
        out.find(name) == std::string::npos) {
      out += out.empty() ? "" : ",";
      out += name;
    }
  }
  return out;
}

int64_t intAt(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_int64() ? value->get_int64() : 0;
}

// `body` without thinking: the setting, and earlier turns' thinking blocks (a message left with
// no content goes too).
json::object withoutThinking(const json::object& body) {
  json::object out = body;
  out.erase("thinking");
  json::value* messages = out.if_contains("messages");
  if (messages == nullptr || !messages->is_array()) {
    return out;
  }
  json::array& list = messages->get_array();
  for (auto message = list.begin(); message != list.end();) {
    json::value* content =
        message->is_object() ? message->get_object().if_contains("content") : nullptr;
    if (content == nullptr || !content->is_array()) {
      ++message;
      continue;
    }
    json::array& blocks = content->get_array();
    for (auto block = blocks.begin(); block != blocks.end();) {
      const json::value* type =
          block->is_object() ? block->get_object().if_contains("type") : nullptr;
      const bool thinking =
          type != nullptr && type->is_string() &&
          (type->get_string() == "thinking" || type->get_string() == "redacted_thinking");
      block = thinking ? blocks.erase(block) : block + 1;
    }
    message = blocks.empty() ? list.erase(message) : message + 1;
  }
  return out;
}

}  // namespace

Result<UpstreamRequest> AnthropicConnector::buildNative(Surface surface, json::object& body,
                                                        const BackendSpec& backend,
                                                        std::string_view api_key,
                                                        const NativeRequest& native) const {
  if (surface != Surface::Anthropic) {
    return Connector::buildNative(surface, body, backend, api_key, native);
  }
  body["model"] = backend.model;
  const int64_t max_tokens = intAt(body, "max_tokens");
  json::value* thinking = body.if_contains("thinking");
  if (native.output_cap != 0 && max_tokens > native.output_cap) {
    body["max_tokens"] = native.output_cap;
    // The gateway lowered max_tokens, so it keeps the thinking budget valid under it (Anthropic
    // requires 1024 <= budget_tokens < max_tokens); a client's own invalid pair is its own 400.
    const int64_t limit = native.output_cap;
    const int64_t budget = thinking != nullptr && thinking->is_object()
                               ? intAt(thinking->get_object(), "budget_tokens")
                               : 0;
    if (budget >= limit && limit > 1024) {
      thinking->get_object()["budget_tokens"] = limit - 1;
    } else if (budget >= limit) {
      *thinking = json::object{{"type", "disabled"}};  // in place: no member moves
    }
  }
  const json::value* stream = body.if_contains("stream");
  const bool streaming = stream != nullptr && stream->is_bool() && stream->get_bool();
  UpstreamRequest request;
  request.target = anthropicTarget(backend.address.base_path);
  request.body = json::serialize(native.without_thinking ? withoutThinking(body) : body);
  request.headers.emplace_back("content-type", "application/json");
  request.headers.emplace_back("accept", streaming ? "text/event-stream" : "application/json");
  request.headers.emplace_back("anthropic-version", std::string(kAnthropicVersion));
  if (std::string betas = forwardedBetas(native.beta); !betas.empty()) {
    request.headers.emplace_back("anthropic-beta", std::move(betas));
  }
  if (!api_key.empty()) {
    request.headers.emplace_back("x-api-key", std::string(api_key));
  }
  request.headers.emplace_back("x-request-id", std::string(native.request_id));
  return request;
}

std::unique_ptr<ResponseTranslator> AnthropicConnector::newTranslator(
    Endpoint /*endpoint*/, unsigned status, bool event_stream,
    const TranslatorOptions& options) const {
  return newAnthropicTranslator(status, event_stream, options.client_wants_usage,
                                options.client == Surface::Anthropic);
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
