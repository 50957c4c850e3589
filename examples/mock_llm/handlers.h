// The request handlers of the mock: routing, the OpenAI (chat completions, Responses) and
// Anthropic endpoints, the /mock/* control endpoints, and the helpers they share. Handlers are synchronous and CPU-only: they fill
// a Reply plan that the session executes. Thread-safe: they only touch ServerState (atomics and
// a briefly held mutex) and their own Reply.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "examples/mock_llm/reply.h"
#include "examples/mock_llm/server_state.h"

namespace sy::mock {

// Routes one request and fills `reply`. /v1 requests are recorded for /mock/last-request.
void dispatch(std::shared_ptr<const Request> request, ServerState& state, Reply& reply);

// Endpoints (dispatch has already checked the method and, for /v1, the API key).
void handleChatCompletions(const Request& request, ServerState& state, Reply& reply);
void handleEmbeddings(const Request& request, ServerState& state, Reply& reply);
void handleResponses(const Request& request, ServerState& state, Reply& reply);
void handleModels(const Request& request, ServerState& state, Reply& reply);
void handleMessages(const Request& request, ServerState& state, Reply& reply);
void handleCountTokens(const Request& request, ServerState& state, Reply& reply);
// The signature the mock gives a thinking block with this text (and checks when it comes back).
std::string thinkingSignature(std::string_view text);
void handleMockEndpoint(std::string_view path, const Request& request, ServerState& state,
                        Reply& reply);
// Azure OpenAI's /openai/deployments/{name}/{chat/completions,embeddings}?api-version=... routes
// (azure_handlers.cc): checks the method, `api-key` and api-version itself. `target` is the whole
// request target, query included.
void dispatchAzure(std::string_view target, const Request& request, ServerState& state,
                   Reply& reply);

// A request body parsed into a DOM backed by a stack buffer (one heap block only for large
// bodies). Never throws on malformed input; the value lives as long as this object.
class JsonBody {
 public:
  explicit JsonBody(std::string_view text);
  JsonBody(const JsonBody&) = delete;
  JsonBody& operator=(const JsonBody&) = delete;

  bool ok() const { return value_.has_value(); }
  std::string errorMessage() const { return ec_.message(); }
  const boost::json::value& value() const { return *value_; }

 private:
  alignas(std::max_align_t) unsigned char storage_[8192];
  unsigned char temp_[2048];
  boost::json::monotonic_resource resource_;
  boost::system::error_code ec_;
  std::optional<boost::json::value> value_;
};

// The runtime `controls` (RuntimeControls::forRequest() for a /v1 request, which counts it
// against error_count; snapshot() otherwise) overridden by the request's x-mock-* headers and
// then by the `mock:key=value` directives in `directive_text`. Fails (-> 400) on a malformed
// header value or an out-of-range control.
Result<Controls> effectiveControls(Controls controls, const Request& request,
                                   std::string_view directive_text);

// The text of the last message with role "user" that has text: its content string, or its text
// parts joined by "\n" into `joined`. A user message whose content array has no text part (only
// Anthropic tool_result or image blocks) is skipped, so the prompt's directives still apply to
// the turns of an agent loop. Empty if there is none.
std::string_view lastUserText(const boost::json::array& messages, std::string& joined);

// Bytes of text in a content value (string, or array of parts with a "text" string).
uint64_t contentTextBytes(const boost::json::value& content);

enum class Provider { OpenAi, Anthropic };

// Stores `controls` in the reply, then applies error_status (the provider's error body) and, for
// non-streams, disconnect_after=0 (reset). True if that decided the reply.
bool applyFailureControls(const Controls& controls, Provider provider, bool stream, Reply& reply);

// Splits `text` into pieces of at most `max_bytes` (>= 1), never inside a UTF-8 sequence (a
// sequence longer than max_bytes is one piece). The views point into `text`.
std::vector<std::string_view> splitUtf8(std::string_view text, size_t max_bytes);

// `text` JSON-escaped, without the quotes.
void appendEscaped(std::string& out, std::string_view text);

// The usage objects. `cached` input tokens (the cached_tokens control, capped at `input`):
// OpenAI {"prompt_tokens","completion_tokens","total_tokens"} plus
// "prompt_tokens_details":{"cached_tokens":N} when N > 0; Anthropic {"input_tokens":input - N,
// "cache_creation_input_tokens":0,"cache_read_input_tokens":N,"output_tokens"}, as the API
// counts cache reads apart from input_tokens.
void appendOpenAiUsage(std::string& out, int64_t prompt, int64_t completion, int64_t cached);
void appendAnthropicUsage(std::string& out, int64_t input, int64_t output, int64_t cached);

// Adds "`name`: req_<24 hex>" to the reply headers.
void addRequestId(std::string_view name, ServerState& state, Reply& reply);

// A positive integer field: absent -> 0 (no limit); present but not an integer >= 1 -> false.
bool optionalPositiveInt(const boost::json::object& obj, std::string_view key, int64_t& out);

}  // namespace sy::mock
