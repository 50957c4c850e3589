// Reply: the plan for one response, built synchronously by a handler and executed by the session
// (delays, writes, resets). Also the JSON-writing helpers and the provider error bodies.
// Not thread-safe: one Reply per connection, reused across its requests so buffers keep their
// capacity and a keep-alive request allocates little.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_text.h"
#include "examples/mock_llm/controls.h"

namespace sy::mock {

struct Reply {
  enum class Kind { Full, Stream, Reset };

  // Clears everything but keeps the buffers' capacity.
  void reset();

  // Streams: write the next event into the returned buffer, then commitEvent() frames it as one
  // HTTP chunk. finishStream() appends the last chunk marker to the final event.
  std::string& beginEvent();
  void commitEvent();
  void finishStream();

  Kind kind = Kind::Full;
  unsigned status = 200;
  std::string_view content_type = "application/json";
  std::string headers;               // extra header lines, each "name: value\r\n"
  std::string body;                  // Full: the body; Stream: every event, chunk-framed
  std::vector<uint32_t> event_ends;  // Stream: end offset of each event in `body`
  uint32_t preamble_events = 0;      // events sent right after the head
  uint32_t content_events = 0;       // then these, after ttft, paced, counted by disconnect_after
  Controls controls;                 // effective controls for this request

 private:
  std::string scratch_;
};

// JSON writing, for the hot paths where a DOM would cost allocations.
using sy::appendJsonString;  // quoted and escaped (core/json_text.h)
void appendInt(std::string& out, int64_t value);

std::string_view reasonPhrase(unsigned status);

// Provider error bodies. `param`/`code` empty become null.
void setOpenAiError(Reply& reply, unsigned status, std::string_view message, std::string_view type,
                    std::string_view param = {}, std::string_view code = {});
void setAnthropicError(Reply& reply, unsigned status, std::string_view type,
                       std::string_view message);

// The error_status control: the body a provider would send for `status`, plus retry-after: 1 on
// 429.
void setInjectedOpenAiError(Reply& reply, unsigned status);
void setInjectedAnthropicError(Reply& reply, unsigned status);

// Anthropic's error `type` for a status: invalid_request_error, authentication_error,
// permission_error, not_found_error, request_too_large, rate_limit_error, api_error,
// overloaded_error (529).
std::string_view anthropicErrorType(unsigned status);

}  // namespace sy::mock
