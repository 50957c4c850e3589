// Upstream protocols as translation only: bytes in, bytes out, no sockets (the gateway's
// upstream client does the I/O). A Connector is immutable and shared by all workers through the
// snapshot; a ResponseTranslator is per response and NOT thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/surface.h"
#include "core/backend.h"
#include "core/error.h"

namespace sy::connectors {

// The client-facing API a request arrived on (OpenAI wire format).
enum class Endpoint { ChatCompletions, Embeddings };

// The API an upstream request was built for, when a connector can build more than one: the
// translator of its answer reads the same one (TranslatorOptions::upstream_api).
enum class UpstreamApi { Default, Responses };  // Default: the connector's own (chat, Messages)

struct UpstreamRequest {
  std::string target;  // origin-form path, e.g. "/v1/chat/completions"
  std::vector<std::pair<std::string, std::string>> headers;  // besides Host and Content-Length
  std::string body;
  UpstreamApi api = UpstreamApi::Default;
};

struct TokenUsage {
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
  bool reported = false;  // the upstream said so (vs. nothing known)
  // Streams only: content-carrying events relayed. Without reported usage (an upstream that
  // ignores include_usage, a stream cut short) this is the completion-token estimate: OpenAI-
  // compatible servers send about one token per event.
  uint64_t streamed_events = 0;
  // Of prompt_tokens, those read from the provider's prompt cache (OpenAI's
  // prompt_tokens_details.cached_tokens, Anthropic's cache_read_input_tokens).
  uint64_t cached_prompt_tokens = 0;
};

// What a translator is told about the client beyond the request itself.
struct TranslatorOptions {
  // The client itself asked for a streamed usage report; when false, a usage-only event the
  // gateway asked for (to account the spend) is read and not relayed.
  bool client_wants_usage = false;
  // The client speaks this surface: provider data only that surface can use is kept in the
  // canonical answer (Anthropic's thinking signatures, as `reasoning_signature`, for the
  // Anthropic encoder to put back).
  Surface client = Surface::OpenAi;
  // The API the request went out in (UpstreamRequest::api).
  UpstreamApi upstream_api = UpstreamApi::Default;
};

// A request that passes through in the client's own API (Connector::buildNative).
struct NativeRequest {
  std::string_view request_id;
  uint32_t output_cap = 0;  // the output the upstream may produce (0: the client's own bound)
  std::string_view beta;    // the client's anthropic-beta header ("" none)
  // Earlier turns' thinking blocks and the `thinking` setting are left out: DLP rewrote a
  // thinking block for this destination, so its signature would no longer verify.
  bool without_thinking = false;
};

// Rewrites an upstream response body into the client's format, chunk by chunk, and notes usage.
class ResponseTranslator {
 public:
  virtual ~ResponseTranslator() = default;
  // `chunk` holds the next upstream body bytes and is rewritten in place (it may become empty
  // while a translator waits for more). `end` is true once, after the last bytes.
  virtual Status onChunk(std::string& chunk, bool end) = 0;
  virtual TokenUsage usage() const = 0;
};

class Connector {
 public:
  virtual ~Connector() = default;
  virtual std::string_view provider() const = 0;

  // Builds the upstream request from the client's decoded body, which it may rewrite in place
  // (e.g. `model`, and for streams the request for a final usage report): no copy of the body
  // per attempt. Idempotent: building again from the rewritten body gives the same request.
  // `api_key` is the backend's own key ("" for none); the client's credentials never reach this
  // function.
  virtual Result<UpstreamRequest> buildRequest(Endpoint endpoint, boost::json::object& body,
                                               const BackendSpec& backend, std::string_view api_key,
                                               std::string_view request_id) const = 0;

  // A translator for one response with the given status and content type.
  virtual std::unique_ptr<ResponseTranslator> newTranslator(
      Endpoint endpoint, unsigned status, bool event_stream,
      const TranslatorOptions& options) const = 0;

  // True when this backend speaks the client surface's own API, so a request can pass through as
  // the client sent it (buildNative) instead of a lossy round trip through the canonical form.
  virtual bool speaks(Surface /*surface*/) const { return false; }
  // The upstream request from the client's own `body` (already transformed by DLP for this
  // backend's destination), which it may rewrite in place idempotently (`model`, the output cap).
  // Only for a surface speaks() accepts.
  virtual Result<UpstreamRequest> buildNative(Surface surface, boost::json::object& body,
                                              const BackendSpec& backend, std::string_view api_key,
                                              const NativeRequest& native) const;
};

// The connector of one backend: an explicit switch over backend kinds (no static-init
// registration), configured by the backend's served APIs (`api:`). Fails for kinds that have no
// connector yet.
Result<std::shared_ptr<const Connector>> makeConnector(const BackendSpec& backend);

// True when makeConnector succeeds for a backend of `kind` (lets the config loader reject the
// kind at its position).
bool hasConnector(BackendKind kind);

}  // namespace sy::connectors
