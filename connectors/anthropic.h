// Anthropic Messages API upstreams (`kind: anthropic`): the client speaks OpenAI chat completions,
// so requests are rebuilt as a Messages request (system extracted, roles alternated, tools and
// tool results, images, max_tokens defaulted) and answers are rebuilt as OpenAI chat completions
// or `chat.completion.chunk` events. The mapping rules are in README.md ("Anthropic backends").
// Immutable, thread-safe; its translators are per response and NOT thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "connectors/connector.h"

namespace sy::connectors {

class AnthropicConnector final : public Connector {
 public:
  // sy::connectors::Connector
  std::string_view provider() const override { return "anthropic"; }
  // Never rewrites `body` (a fallback to an OpenAI backend gets it as the client sent it). Fails
  // with InvalidArgument (400, Downstream) on embeddings, on a body Anthropic cannot express
  // (n > 1, JSON response formats, audio, legacy `functions`) and on malformed messages, naming
  // the message index ("messages[2].tool_calls[0].function.arguments: ...").
  Result<UpstreamRequest> buildRequest(Endpoint endpoint, boost::json::object& body,
                                       const BackendSpec& backend, std::string_view api_key,
                                       std::string_view request_id) const override;
  // Anthropic clients' requests pass through (buildNative): with the backend's model, the output
  // cap lowering `max_tokens` (and the thinking budget under it, or thinking disabled when no
  // budget fits), and the client's anthropic-beta features this gateway knows to be safe to pass.
  bool speaks(Surface surface) const override { return surface == Surface::Anthropic; }
  Result<UpstreamRequest> buildNative(Surface surface, boost::json::object& body,
                                      const BackendSpec& backend, std::string_view api_key,
                                      const NativeRequest& native) const override;
  std::unique_ptr<ResponseTranslator> newTranslator(
      Endpoint endpoint, unsigned status, bool event_stream,
      const TranslatorOptions& options) const override;
};

// The Messages path under a backend base path: "/v1/messages", or base + "/messages" when the
// base already ends in "/v1".
std::string anthropicTarget(std::string_view base_path);

// Translates an OpenAI chat-completions body into an Anthropic Messages body (see buildRequest).
// `default_max_tokens` is used when the client sent neither max_completion_tokens nor max_tokens.
Result<boost::json::object> toAnthropicMessages(const boost::json::object& body,
                                                std::string_view model,
                                                uint32_t default_max_tokens);

// Translators (anthropic_response.cc). A 2xx `message` body -> `chat.completion` (buffers the
// body, at most kMaxAnthropicBody bytes, and emits it at `end`); a 2xx event stream ->
// `chat.completion.chunk` events, whole events only; anything else -> an OpenAI error body with
// the same status. `signatures`: thinking signatures are kept as `reasoning_signature` (in the
// message, or a delta of their own), for a client that speaks Anthropic and sends them back.
std::unique_ptr<ResponseTranslator> newAnthropicTranslator(unsigned status, bool event_stream,
                                                           bool client_wants_usage,
                                                           bool signatures = false);
inline constexpr size_t kMaxAnthropicBody = 64 << 20;  // forward.cc's own bound on a body

}  // namespace sy::connectors
