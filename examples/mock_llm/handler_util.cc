// Helpers shared by the OpenAI and Anthropic handlers (declared in handlers.h).
#include <algorithm>
#include <random>
#include <boost/json/object.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/string.hpp>

#include "examples/mock_llm/handlers.h"

namespace sy::mock {

JsonBody::JsonBody(std::string_view text) : resource_(storage_, sizeof(storage_)) {
  boost::json::parser parser(boost::json::storage_ptr(), boost::json::parse_options(), temp_,
                             sizeof(temp_));
  parser.reset(&resource_);
  parser.write(text.data(), text.size(), ec_);
  if (!ec_) {
    value_.emplace(parser.release());
  }
}

Result<Controls> effectiveControls(Controls controls, const Request& request,
                                   std::string_view directive_text) {
  auto lookup = [&request](std::string_view name) -> std::string_view {
    auto it = request.find(boost::beast::string_view(name.data(), name.size()));
    if (it == request.end()) {
      return {};
    }
    return std::string_view(it->value().data(), it->value().size());
  };
  if (auto status = applyHeaderOverrides(controls, lookup); !status) {
    return std::unexpected(std::move(status.error()));
  }
  if (auto status = applyDirectives(controls, directive_text); !status) {
    return std::unexpected(std::move(status.error()));
  }
  return controls;
}

namespace {

// Appends the text parts of an array content to `out` ("\n" between parts); returns the bytes.
uint64_t collectTextParts(const boost::json::array& parts, std::string* out) {
  uint64_t bytes = 0;
  for (const boost::json::value& part : parts) {
    const boost::json::object* obj = part.if_object();
    if (obj == nullptr) {
      continue;
    }
    const boost::json::value* text = obj->if_contains("text");
    if (text == nullptr || !text->is_string()) {
      continue;
    }
    const boost::json::string& s = text->get_string();
    bytes += s.size();
    if (out != nullptr) {
      if (!out->empty()) {
        *out += '\n';
      }
      out->append(s.data(), s.size());
    }
  }
  return bytes;
}

}  // namespace

void appendEscaped(std::string& out, std::string_view text) {
  const size_t at = out.size();
  appendJsonString(out, text);
  out.erase(at, 1);
  out.pop_back();
}

std::string_view lastUserText(const boost::json::array& messages, std::string& joined) {
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    const boost::json::object* msg = it->if_object();
    if (msg == nullptr) {
      continue;
    }
    const boost::json::value* role = msg->if_contains("role");
    if (role == nullptr || !role->is_string() || role->get_string() != "user") {
      continue;
    }
    const boost::json::value* content = msg->if_contains("content");
    if (content == nullptr) {
      return {};
    }
    if (content->is_string()) {
      const boost::json::string& s = content->get_string();
      return std::string_view(s.data(), s.size());
    }
    if (content->is_array()) {
      joined.clear();
      if (collectTextParts(content->get_array(), &joined) == 0 && joined.empty()) {
        continue;  // only tool results (or images): the text is in an earlier user message
      }
      return joined;
    }
    return {};
  }
  return {};
}

uint64_t contentTextBytes(const boost::json::value& content) {
  if (content.is_string()) {
    return content.get_string().size();
  }
  if (content.is_array()) {
    return collectTextParts(content.get_array(), nullptr);
  }
  return 0;
}

namespace {

// True with a chance of `permille` / 1000 (a per-thread generator: the io threads share nothing).
bool rollPermille(int64_t permille) {
  if (permille <= 0) {
    return false;
  }
  thread_local std::mt19937 generator{std::random_device{}()};
  return std::uniform_int_distribution<int64_t>(0, 999)(generator) < permille;
}

}  // namespace

bool applyFailureControls(const Controls& controls, Provider provider, bool stream, Reply& reply) {
  reply.controls = controls;
  if (rollPermille(controls.reset_permille)) {
    reply.kind = Reply::Kind::Reset;
    return true;
  }
  if (rollPermille(controls.stall_permille)) {
    reply.controls.latency_ms = controls.stall_ms;  // the head comes that late (or never)
  }
  if (controls.error_status != 0) {
    const auto status = static_cast<unsigned>(controls.error_status);
    if (provider == Provider::OpenAi) {
      setInjectedOpenAiError(reply, status);
    } else {
      setInjectedAnthropicError(reply, status);
    }
    return true;
  }
  if (!stream && controls.disconnect_after == 0) {
    reply.kind = Reply::Kind::Reset;
    return true;
  }
  return false;
}

std::vector<std::string_view> splitUtf8(std::string_view text, size_t max_bytes) {
  std::vector<std::string_view> pieces;
  while (!text.empty()) {
    size_t cut = std::min(max_bytes, text.size());
    while (cut < text.size() && cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
      --cut;
    }
    if (cut == 0) {  // a sequence longer than max_bytes: take it whole
      cut = 1;
      while (cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
        ++cut;
      }
    }
    pieces.push_back(text.substr(0, cut));
    text.remove_prefix(cut);
  }
  return pieces;
}

void appendOpenAiUsage(std::string& out, int64_t prompt, int64_t completion, int64_t cached) {
  out += "{\"prompt_tokens\":";
  appendInt(out, prompt);
  out += ",\"completion_tokens\":";
  appendInt(out, completion);
  out += ",\"total_tokens\":";
  appendInt(out, prompt + completion);
  if (cached > 0) {
    out += ",\"prompt_tokens_details\":{\"cached_tokens\":";
    appendInt(out, std::min(cached, prompt));
    out += '}';
  }
  out += '}';
}

void appendAnthropicUsage(std::string& out, int64_t input, int64_t output, int64_t cached) {
  cached = std::min(cached, input);
  out += "{\"input_tokens\":";
  appendInt(out, input - cached);
  out += ",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":";
  appendInt(out, cached);
  out += ",\"output_tokens\":";
  appendInt(out, output);
  out += '}';
}

void addRequestId(std::string_view name, ServerState& state, Reply& reply) {
  reply.headers += name;
  reply.headers += ": req_";
  reply.headers += state.nextId();
  reply.headers += "\r\n";
}

bool optionalPositiveInt(const boost::json::object& obj, std::string_view key, int64_t& out) {
  out = 0;
  const boost::json::value* v = obj.if_contains(key);
  if (v == nullptr || v->is_null()) {
    return true;
  }
  if (v->is_int64() && v->get_int64() >= 1) {
    out = v->get_int64();
    return true;
  }
  if (v->is_uint64()) {
    out = INT64_MAX;
    return true;
  }
  return false;
}

}  // namespace sy::mock
