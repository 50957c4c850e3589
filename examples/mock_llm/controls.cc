#include "examples/mock_llm/controls.h"

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <limits>

namespace sy::mock {
namespace {

struct KeyInfo {
  ControlKey key;
  std::string_view name;
  std::string_view header;
  int64_t Controls::*field;
  int64_t min;
  int64_t max;
};

constexpr KeyInfo kKeyInfo[] = {
    {ControlKey::LatencyMs, "latency_ms", "x-mock-latency-ms", &Controls::latency_ms, 0,
     kMaxDelayMs},
    {ControlKey::TtftMs, "ttft_ms", "x-mock-ttft-ms", &Controls::ttft_ms, 0, kMaxDelayMs},
    {ControlKey::TokensPerSec, "tokens_per_sec", "x-mock-tokens-per-sec", &Controls::tokens_per_sec,
     0, kMaxTokensPerSec},
    {ControlKey::ReplyTokens, "reply_tokens", "x-mock-reply-tokens", &Controls::reply_tokens, 0,
     kMaxReplyTokens},
    {ControlKey::ErrorStatus, "error_status", "x-mock-error-status", &Controls::error_status, 0,
     599},
    {ControlKey::DisconnectAfter, "disconnect_after", "x-mock-disconnect-after",
     &Controls::disconnect_after, -1, kMaxReplyTokens},
    {ControlKey::EchoChunkBytes, "echo_chunk_bytes", "x-mock-echo-chunk-bytes",
     &Controls::echo_chunk_bytes, 0, 1 << 20},
    {ControlKey::HealthStatus, "health_status", "x-mock-health-status", &Controls::health_status,
     200, 599},
    {ControlKey::ErrorCount, "error_count", "x-mock-error-count", &Controls::error_count, 0,
     1'000'000},
    {ControlKey::ToolCalls, "tool_calls", "x-mock-tool-calls", &Controls::tool_calls, 0,
     kMaxToolCalls},
    {ControlKey::CachedTokens, "cached_tokens", "x-mock-cached-tokens", &Controls::cached_tokens, 0,
     1'000'000'000},
    {ControlKey::IgnoreMaxTokens, "ignore_max_tokens", "x-mock-ignore-max-tokens",
     &Controls::ignore_max_tokens, 0, 1},
    {ControlKey::Grade, "grade", "x-mock-grade", &Controls::grade, 0, 2},
    {ControlKey::ResetPermille, "reset_permille", "x-mock-reset-permille",
     &Controls::reset_permille, 0, 1000},
    {ControlKey::StallPermille, "stall_permille", "x-mock-stall-permille",
     &Controls::stall_permille, 0, 1000},
    {ControlKey::StallMs, "stall_ms", "x-mock-stall-ms", &Controls::stall_ms, 0, kMaxDelayMs},
};

const KeyInfo& info(ControlKey key) { return kKeyInfo[static_cast<int>(key)]; }

bool isControlNameChar(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }

}  // namespace

bool controlKeyFromName(std::string_view name, ControlKey& key) {
  for (const KeyInfo& k : kKeyInfo) {
    if (k.name == name) {
      key = k.key;
      return true;
    }
  }
  return false;
}

std::string_view controlHeaderName(ControlKey key) { return info(key).header; }

bool parseInt64(std::string_view text, int64_t& out) {
  if (text.empty()) {
    return false;
  }
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

Status setControl(Controls& controls, ControlKey key, int64_t value, std::string_view where) {
  const KeyInfo& k = info(key);
  bool ok = value >= k.min && value <= k.max;
  if (key == ControlKey::ErrorStatus && value != 0 && value < 400) {
    ok = false;  // only error statuses make sense; 0 switches the control off
  }
  if (!ok) {
    std::string range = key == ControlKey::ErrorStatus
                            ? std::string("0 or 400..599")
                            : std::to_string(k.min) + ".." + std::to_string(k.max);
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream,
                     std::string(where) + ": " + std::string(k.name) + "=" + std::to_string(value) +
                         " is out of range " + range,
                     "invalid_mock_control");
  }
  controls.*k.field = value;
  return {};
}

Status applyDirectives(Controls& controls, std::string_view text) {
  constexpr std::string_view kPrefix = "mock:";
  size_t pos = 0;
  while ((pos = text.find(kPrefix, pos)) != std::string_view::npos) {
    pos += kPrefix.size();
    size_t name_end = pos;
    while (name_end < text.size() && isControlNameChar(text[name_end])) {
      ++name_end;
    }
    if (name_end >= text.size() || text[name_end] != '=') {
      continue;
    }
    size_t value_end = name_end + 1;
    if (value_end < text.size() && text[value_end] == '-') {
      ++value_end;
    }
    while (value_end < text.size() && text[value_end] >= '0' && text[value_end] <= '9') {
      ++value_end;
    }
    ControlKey key;
    int64_t value = 0;
    if (!controlKeyFromName(text.substr(pos, name_end - pos), key) ||
        !parseInt64(text.substr(name_end + 1, value_end - name_end - 1), value)) {
      continue;
    }
    if (auto status = setControl(controls, key, value, "directive"); !status) {
      return status;
    }
    pos = value_end;
  }
  return {};
}

std::string controlsToJson(const Controls& controls) {
  std::string out = "{";
  for (const KeyInfo& k : kKeyInfo) {
    if (out.size() > 1) {
      out += ',';
    }
    out += '"';
    out += k.name;
    out += "\":";
    out += std::to_string(controls.*k.field);
  }
  out += '}';
  return out;
}

RuntimeControls::RuntimeControls(const Controls& defaults) : defaults_(defaults) {
  store(defaults);
}

Controls RuntimeControls::snapshot() const {
  constexpr auto kOrder = std::memory_order_relaxed;
  return Controls{
      latency_ms_.load(kOrder),       ttft_ms_.load(kOrder),       tokens_per_sec_.load(kOrder),
      reply_tokens_.load(kOrder),     error_status_.load(kOrder),  disconnect_after_.load(kOrder),
      echo_chunk_bytes_.load(kOrder), health_status_.load(kOrder), error_count_.load(kOrder),
      tool_calls_.load(kOrder),       cached_tokens_.load(kOrder), ignore_max_tokens_.load(kOrder),
      grade_.load(kOrder),            reset_permille_.load(kOrder), stall_permille_.load(kOrder),
      stall_ms_.load(kOrder)};
}

Controls RuntimeControls::forRequest() {
  constexpr auto kOrder = std::memory_order_relaxed;
  Controls controls = snapshot();
  if (controls.error_status == 0 || controls.error_count == 0) {
    return controls;
  }
  int64_t left = error_count_.load(kOrder);
  while (left > 0 && !error_count_.compare_exchange_weak(left, left - 1, kOrder)) {
  }
  if (left <= 0) {  // another request took the last one
    controls.error_status = 0;
  } else if (left == 1) {
    error_status_.store(0, kOrder);
  }
  controls.error_count = std::max<int64_t>(left - 1, 0);
  return controls;
}

void RuntimeControls::store(const Controls& c) {
  constexpr auto kOrder = std::memory_order_relaxed;
  latency_ms_.store(c.latency_ms, kOrder);
  ttft_ms_.store(c.ttft_ms, kOrder);
  tokens_per_sec_.store(c.tokens_per_sec, kOrder);
  reply_tokens_.store(c.reply_tokens, kOrder);
  error_status_.store(c.error_status, kOrder);
  disconnect_after_.store(c.disconnect_after, kOrder);
  echo_chunk_bytes_.store(c.echo_chunk_bytes, kOrder);
  health_status_.store(c.health_status, kOrder);
  error_count_.store(c.error_count, kOrder);
  tool_calls_.store(c.tool_calls, kOrder);
  cached_tokens_.store(c.cached_tokens, kOrder);
  ignore_max_tokens_.store(c.ignore_max_tokens, kOrder);
  grade_.store(c.grade, kOrder);
  reset_permille_.store(c.reset_permille, kOrder);
  stall_permille_.store(c.stall_permille, kOrder);
  stall_ms_.store(c.stall_ms, kOrder);
}

Result<Controls> RuntimeControls::applyConfig(const boost::json::value& body) {
  const boost::json::object* obj = body.if_object();
  if (obj == nullptr) {
    return makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream,
                     "/mock/config: body must be a JSON object", "invalid_mock_config");
  }
  Controls next = snapshot();
  if (const boost::json::value* reset = obj->if_contains("reset")) {
    if (!reset->is_bool()) {
      return makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream,
                       "/mock/config: reset must be a boolean", "invalid_mock_config");
    }
    if (reset->get_bool()) {
      next = defaults_;
    }
  }
  for (const auto& [name, value] : *obj) {
    if (name == "reset") {
      continue;
    }
    ControlKey key;
    if (!controlKeyFromName(name, key)) {
      return makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream,
                       "/mock/config: unknown key '" + std::string(name) + "'",
                       "invalid_mock_config");
    }
    const KeyInfo& k = info(key);
    if (value.is_null()) {
      next.*k.field = defaults_.*k.field;
      continue;
    }
    const int64_t* number = value.if_int64();
    if (number == nullptr) {
      return makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream,
                       "/mock/config: " + std::string(name) + " must be an integer or null",
                       "invalid_mock_config");
    }
    if (auto status = setControl(next, key, *number, "/mock/config"); !status) {
      return std::unexpected(std::move(status.error()));
    }
  }
  store(next);
  return next;
}

}  // namespace sy::mock
