// Mock behaviour controls (latency, pacing, reply length, injected errors and disconnects) and the
// three ways to set them: CLI defaults, runtime `POST /mock/config`, and per-request overrides
// (x-mock-* headers and `mock:key=value` directives in the last user message).
// Controls is a value type. RuntimeControls is thread-safe (one atomic per field): a request reads
// a snapshot, /mock/config writes fields one by one, so a concurrent request may see a mix.
#pragma once

#include <atomic>
#include <boost/json/fwd.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace sy::mock {

struct Controls {
  int64_t latency_ms = 0;      // delay before the response head
  int64_t ttft_ms = 0;         // streams: delay between the head and the first content chunk
  int64_t tokens_per_sec = 0;  // streams: content chunk pacing; 0 = as fast as possible
  int64_t reply_tokens = 20;   // content tokens in the reply (capped by the request's max_tokens)
  int64_t error_status = 0;    // 0 = off; else every /v1 request gets this status (400..599)
  int64_t disconnect_after = -1;  // -1 = off; streams: reset after N content chunks;
                                  // non-streams: 0 resets before any byte, N > 0 has no effect
  int64_t echo_chunk_bytes = 0;   // 0 = off; else the reply repeats the last user message, and a
                                  // stream sends it in content chunks of at most N bytes
  int64_t health_status = 200;    // the status of GET /health (200..599; the /v1 paths ignore it)
  int64_t error_count = 0;    // 0 = error_status is for every request; N > 0: for the next N /v1
                              // requests only, then both are 0 again (runtime layers only)
  int64_t tool_calls = 0;     // 0 = off; N (1..8): a request that declares tools and does not end
                              // in a tool result gets N tool calls instead of text
  int64_t cached_tokens = 0;  // input tokens reported as cache reads (capped by the prompt's)
  int64_t ignore_max_tokens = 0;  // 1: reply_tokens regardless of the request's max_tokens (an
                                  // upstream that overruns the cap a gateway set)
  int64_t grade = 0;  // 0 = off; OpenAI chat replies are the one word "routine" (1) or "complex"
                      // (2): a difficulty judge's answer
  int64_t reset_permille = 0;  // each /v1 request, independently: resets before any byte with this
                               // chance (per mille), as an upstream that drops connections
  int64_t stall_permille = 0;  // each /v1 request, independently: its head waits stall_ms with
                               // this chance (per mille), as an upstream that hangs
  int64_t stall_ms = 30'000;   // how long a stalled request waits before its head
  bool operator==(const Controls&) const = default;
};

inline constexpr int64_t kMaxDelayMs = 600'000;
inline constexpr int64_t kMaxReplyTokens = 100'000;  // a stream is buffered whole: ~250 B/token
inline constexpr int64_t kMaxTokensPerSec = 1'000'000;
inline constexpr int64_t kMaxToolCalls = 8;

// The control names, shared by the JSON keys, the directives and (with '_' -> '-' and an
// `x-mock-` prefix) the headers.
enum class ControlKey {
  LatencyMs,
  TtftMs,
  TokensPerSec,
  ReplyTokens,
  ErrorStatus,
  DisconnectAfter,
  EchoChunkBytes,
  HealthStatus,
  ErrorCount,
  ToolCalls,
  CachedTokens,
  IgnoreMaxTokens,
  Grade,
  ResetPermille,
  StallPermille,
  StallMs
};

// Sets one field after a range check. Fails with InvalidArgument naming `where`, the key and the
// allowed range; `controls` is unchanged then.
Status setControl(Controls& controls, ControlKey key, int64_t value, std::string_view where);

// Looks up a JSON/directive key ("latency_ms"); false if it is not a control name.
bool controlKeyFromName(std::string_view name, ControlKey& key);

// Applies the x-mock-* request headers. `header` is called with a lowercase header name and
// returns the value, or an empty view when absent. A present but malformed or out-of-range value
// fails (the caller answers 400).
template <class HeaderLookup>
Status applyHeaderOverrides(Controls& controls, const HeaderLookup& header);

// Applies every `mock:key=value` directive in `text` (the last user message). A directive is the
// literal `mock:`, a control name, `=`, then an optionally negative decimal integer. Anything that
// does not match this shape or names an unknown key is ordinary text and ignored; a well-formed
// directive with an out-of-range value fails.
Status applyDirectives(Controls& controls, std::string_view text);

// Serializes {"latency_ms":..,...} (every control).
std::string controlsToJson(const Controls& controls);

// The runtime layer, shared by all io threads.
class RuntimeControls {
 public:
  explicit RuntimeControls(const Controls& defaults);

  Controls snapshot() const;  // relaxed loads; never blocks
  void store(const Controls& controls);
  // The runtime layer for one /v1 request: snapshot(), and while error_count > 0 the request
  // takes one of the counted errors (the one that takes the last turns error_status and
  // error_count off); a request that finds none left gets error_status 0. Never blocks.
  Controls forRequest();
  const Controls& defaults() const { return defaults_; }

  // Applies a `POST /mock/config` body: a JSON object whose keys are control names. A key set to
  // an integer replaces that field, a key set to null restores its CLI default, `"reset":true`
  // first restores every field to its CLI default; `{}` changes nothing. Unknown keys, non-integer
  // values and out-of-range values fail and nothing is applied. Returns the resulting controls.
  Result<Controls> applyConfig(const boost::json::value& body);

 private:
  const Controls defaults_;
  std::atomic<int64_t> latency_ms_;
  std::atomic<int64_t> ttft_ms_;
  std::atomic<int64_t> tokens_per_sec_;
  std::atomic<int64_t> reply_tokens_;
  std::atomic<int64_t> error_status_;
  std::atomic<int64_t> disconnect_after_;
  std::atomic<int64_t> echo_chunk_bytes_;
  std::atomic<int64_t> health_status_;
  std::atomic<int64_t> error_count_;
  std::atomic<int64_t> tool_calls_;
  std::atomic<int64_t> cached_tokens_;
  std::atomic<int64_t> ignore_max_tokens_;
  std::atomic<int64_t> grade_;
  std::atomic<int64_t> reset_permille_;
  std::atomic<int64_t> stall_permille_;
  std::atomic<int64_t> stall_ms_;
};

// --- implementation of the template -------------------------------------------------------------

std::string_view controlHeaderName(ControlKey key);    // "x-mock-latency-ms"
bool parseInt64(std::string_view text, int64_t& out);  // optional '-', digits, no overflow

template <class HeaderLookup>
Status applyHeaderOverrides(Controls& controls, const HeaderLookup& header) {
  constexpr ControlKey kKeys[] = {
      ControlKey::LatencyMs,      ControlKey::TtftMs,         ControlKey::TokensPerSec,
      ControlKey::ReplyTokens,    ControlKey::ErrorStatus,    ControlKey::DisconnectAfter,
      ControlKey::EchoChunkBytes, ControlKey::HealthStatus,   ControlKey::ToolCalls,
      ControlKey::CachedTokens,   ControlKey::IgnoreMaxTokens, ControlKey::Grade,
      ControlKey::ResetPermille,  ControlKey::StallPermille,   ControlKey::StallMs};
  for (ControlKey key : kKeys) {
    const std::string_view name = controlHeaderName(key);
    const std::string_view value = header(name);
    if (value.empty()) {
      continue;
    }
    int64_t parsed = 0;
    if (!parseInt64(value, parsed)) {
      return makeError(ErrorCode::InvalidArgument, ErrorSource::Downstream,
                       std::string(name) + ": not an integer: '" + std::string(value) + "'",
                       "invalid_mock_header");
    }
    if (auto status = setControl(controls, key, parsed, name); !status) {
      return status;
    }
  }
  return {};
}

}  // namespace sy::mock
